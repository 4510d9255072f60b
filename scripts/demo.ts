/**
 * `npm run demo`: the real trigger, end to end, on an embedded S3 + SQS emulator (fauxqs) and a
 * local intake. It uploads generated Umbrella IP log objects, announces them on the queue the
 * way S3 does, starts `node dist/main.js cisco_umbrella_ip_logs` with its configuration in a
 * /symphony-like directory (the production loading path), shows the events arriving, and exits
 * 0 only when every line arrived and the queue is empty.
 */
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";

import { GetQueueUrlCommand, SendMessageCommand } from "@aws-sdk/client-sqs";

import { startEmulator, TEST_CREDENTIALS, TEST_REGION } from "../test/support/Emulator.js";
import { IntakeServer } from "../test/support/IntakeServer.js";
import { s3Notification, TriggerHarness } from "../test/support/TriggerHarness.js";
import { umbrellaIpLines, umbrellaObject } from "../test/support/UmbrellaLines.js";

const BUCKET = "umbrella-demo";
const QUEUE = "umbrella-iplogs-demo";
const INTAKE_KEY = "demo-intake-key-0000";
const DEMO_TIMEOUT_MS = 120_000;
const PROGRESS_INTERVAL_MS = 500;

interface DemoObject {
  key: string;
  lines: string[];
}

const verbose = process.argv.includes("--verbose");
const started = performance.now();
const emulator = await startEmulator(TEST_REGION);
const intake = await new IntakeServer().start();
emulator.server.createBucket(BUCKET);
emulator.server.createQueue(QUEUE, { region: TEST_REGION });
const queueUrl =
  (await emulator.sqs.send(new GetQueueUrlCommand({ QueueName: QUEUE }))).QueueUrl ?? "";
const uploader = Object.assign(new TriggerHarness(), { emulator });

const objects: DemoObject[] = [
  { key: "iplogs/2024-05-01/2024-05-01-10-20-a1b2.csv.gz", lines: umbrellaIpLines(4000, "", 11) },
  { key: "iplogs/2024-05-01/2024-05-01-10-30-k3m8.csv.gz", lines: umbrellaIpLines(6000, "", 12) },
  { key: "iplogs/2024-05-01/2024-05-01-10-40-9zq0.csv.gz", lines: umbrellaIpLines(2500, "", 13) },
  { key: "iplogs/2024-05-02/2024-05-02-00-00-x7y8.csv.gz", lines: umbrellaIpLines(8000, "", 14) },
  { key: "iplogs/2024-05-02/2024-05-02-00-10-p4q5.csv.gz", lines: umbrellaIpLines(3000, "", 15) },
];
console.log(`emulator on ${emulator.address}, intake on ${intake.url}`);
for (const object of objects) {
  await uploader.putObject(object.key, umbrellaObject(object.lines), BUCKET);
  console.log(`uploaded s3://${BUCKET}/${object.key} (${object.lines.length} lines)`);
}
await uploader.putObject("README_FROM_UMBRELLA.txt", Buffer.from("token: 1234\n"), BUCKET);

const bodies = [
  { Event: "s3:TestEvent", Bucket: BUCKET },
  s3Notification([objects[0]!.key, objects[1]!.key], { bucket: BUCKET }),
  s3Notification([objects[2]!.key], { bucket: BUCKET }),
  s3Notification(["README_FROM_UMBRELLA.txt"], { bucket: BUCKET }),
  s3Notification([objects[3]!.key], { bucket: BUCKET }),
  s3Notification([objects[4]!.key], { bucket: BUCKET }),
];
for (const body of bodies) {
  await emulator.sqs.send(
    new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: JSON.stringify(body) }),
  );
}
console.log(`sent ${bodies.length} notifications to queue ${QUEUE} (one announces two objects,`);
console.log("one is the S3 test event, one announces README_FROM_UMBRELLA.txt, which is skipped)");

const expected = objects.flatMap((object) => object.lines);
const symphony = mkdtempSync(join(tmpdir(), "umbrella-demo-"));
writeFileSync(
  join(symphony, "module_configuration"),
  JSON.stringify({
    aws_region_name: TEST_REGION,
    aws_access_key: TEST_CREDENTIALS.accessKeyId,
    aws_secret_access_key: TEST_CREDENTIALS.secretAccessKey,
  }),
);
writeFileSync(
  join(symphony, "trigger_configuration"),
  JSON.stringify({
    queue_name: QUEUE,
    intake_key: INTAKE_KEY,
    intake_server: intake.url,
    // A stop waits for the receive under way: a short long-poll keeps the demo's end quick.
    receive_wait_seconds: 2,
  }),
);
console.log(`\nstarting: node dist/main.js cisco_umbrella_ip_logs  (SYMPHONY_DIR=${symphony})\n`);
const trigger = spawn(process.execPath, ["dist/main.js", "cisco_umbrella_ip_logs"], {
  env: {
    ...process.env,
    SYMPHONY_DIR: symphony,
    AWS_ENDPOINT_URL: emulator.address,
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true",
    LIVENESS_PORT: "0",
    METRICS_PORT: "0",
    MONITORING_HOST: "127.0.0.1",
  },
  stdio: ["ignore", "pipe", "inherit"],
});
createInterface({ input: trigger.stdout }).on("line", (line) => {
  try {
    const log = JSON.parse(line) as Record<string, unknown>;
    const { level, message, timestamp: _timestamp, ...fields } = log;
    console.log(`  [trigger ${String(level)}] ${String(message)} ${JSON.stringify(fields)}`);
  } catch {
    console.log(`  [trigger] ${line}`);
  }
});
const exited = new Promise<number | null>((resolve) => trigger.on("exit", resolve));

let shown = 0;
const queueState = (): { ready: number; inflight: number; delayed: number } => {
  const state = emulator.server.inspectQueue(QUEUE);

  return {
    ready: state?.messages.ready.length ?? 0,
    inflight: state?.messages.inflight.length ?? 0,
    delayed: state?.messages.delayed.length ?? 0,
  };
};
const deadline = Date.now() + DEMO_TIMEOUT_MS;
for (;;) {
  const events = intake.events;
  if (verbose) {
    for (; shown < events.length; shown += 1) {
      console.log(`  [intake] ${events[shown]}`);
    }
  }
  const queue = queueState();
  const left = queue.ready + queue.inflight + queue.delayed;
  console.log(
    `progress: ${events.length}/${expected.length} events accepted by the intake, ` +
      `${left} message(s) left in the queue`,
  );
  if ((events.length >= expected.length && left === 0) || Date.now() > deadline) {
    break;
  }
  await new Promise((resolve) => setTimeout(resolve, PROGRESS_INTERVAL_MS));
}

trigger.kill("SIGTERM");
const exitCode = await exited;
const received = intake.events;
const missing = countMissing(expected, received);
const queue = queueState();
const deleted = emulator.server.spy
  .getAllMessages()
  .filter((message) => message.service === "sqs" && message.status === "consumed").length;
const elapsed = (performance.now() - started) / 1000;
const ok = missing === 0 && queue.ready + queue.inflight + queue.delayed === 0 && exitCode === 0;

console.log("\nsummary");
console.log(`  objects                 ${objects.length} (+ README_FROM_UMBRELLA.txt, skipped)`);
console.log(`  lines in the objects    ${expected.length}`);
console.log(`  events accepted         ${received.length} in ${intake.accepted.length} request(s)`);
console.log(`  lines missing           ${missing}`);
console.log(`  duplicates              ${received.length - (expected.length - missing)}`);
console.log(`  messages deleted        ${deleted} of ${bodies.length}`);
console.log(`  messages left           ${queue.ready + queue.inflight + queue.delayed}`);
console.log(`  trigger exit code       ${String(exitCode)} (after SIGTERM)`);
console.log(`  elapsed                 ${elapsed.toFixed(1)} s`);
console.log(ok ? "\nOK: every line arrived, byte for byte, and the queue is empty." : "\nFAILED");

await intake.stop();
await emulator.stop();
rmSync(symphony, { recursive: true, force: true });
process.exit(ok ? 0 : 1);

/** Lines of `expected` not found in `received` (as a multiset, byte for byte). */
function countMissing(expectedLines: readonly string[], receivedLines: readonly string[]): number {
  const counts = new Map<string, number>();
  for (const line of receivedLines) {
    counts.set(line, (counts.get(line) ?? 0) + 1);
  }
  let missingLines = 0;
  for (const line of expectedLines) {
    const count = counts.get(line) ?? 0;
    if (count === 0) {
      missingLines += 1;
    } else {
      counts.set(line, count - 1);
    }
  }

  return missingLines;
}
