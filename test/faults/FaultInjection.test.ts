import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";

import { AwsFaultProxy } from "../support/AwsFaultProxy.js";
import { TriggerHarness, type TriggerProcess } from "../support/TriggerHarness.js";
import { seededRandom, umbrellaIpLines, umbrellaObject } from "../support/UmbrellaLines.js";

/** Change it to explore other interleavings; the suite prints it with its figures. */
const SEED = Number(process.env["FAULT_SEED"] ?? 20261204);
const OBJECTS = 60;
const INTAKE_FAILURE_RATE = 0.2;
const INTAKE_TIMEOUT_RATE = 0.02;
const S3_FAILURE_RATE = 0.08;
const S3_CUT_RATE = 0.05;
const KILL_AFTER_FRACTION = 0.3;

interface SuiteObject {
  key: string;
  lines: string[];
  messageId: string;
}

/**
 * The delivery guarantees under everything at once, seeded and bounded in time: many objects,
 * an intake failing at random (500, 429, timeouts, resets), S3 reads failing or cut at random,
 * two processes sharing the queue, one of them killed (SIGKILL) and restarted.
 */
describe("fault injection", () => {
  const harness = new TriggerHarness();
  let proxy: AwsFaultProxy;
  const random = seededRandom(SEED);
  const objects: SuiteObject[] = [];
  const faults = {
    intake500: 0,
    intake429: 0,
    intakeTimeout: 0,
    intakeReset: 0,
    s3Error: 0,
    s3Cut: 0,
  };
  let killedAt = 0;

  before(async () => {
    await harness.start();
    proxy = await new AwsFaultProxy(harness.emulator.address).start();
    for (let index = 0; index < OBJECTS; index += 1) {
      const count = 200 + Math.floor(random() * 1800);
      const key = `iplogs/2024-05-0${1 + (index % 3)}/object-${index}.csv${index % 5 === 0 ? "" : ".gz"}`;
      const lines = umbrellaIpLines(count, `o${index}`, index + 1);
      await harness.putObject(key, umbrellaObject(lines, !key.endsWith(".csv")));
      objects.push({ key, lines, messageId: "" });
    }
  });
  after(async () => {
    await harness.stop();
    await proxy.stop();
  });

  test("every line arrives, duplicates only from objects in flight at the kill, queue empty", async (t) => {
    harness.intake.behave = () => {
      const draw = random();
      if (draw < INTAKE_TIMEOUT_RATE) {
        faults.intakeTimeout += 1;

        return { hang: true };
      }
      if (draw < INTAKE_FAILURE_RATE / 3) {
        faults.intakeReset += 1;

        return { destroy: true };
      }
      if (draw < (INTAKE_FAILURE_RATE * 2) / 3) {
        faults.intake429 += 1;

        return { status: 429, headers: { "retry-after": "0" } };
      }
      if (draw < INTAKE_FAILURE_RATE) {
        faults.intake500 += 1;

        return { status: 500, body: "injected" };
      }

      return undefined;
    };
    proxy.intercept = (request) => {
      if (request.action !== "GetObject") {
        return undefined;
      }
      const draw = random();
      if (draw < S3_FAILURE_RATE) {
        faults.s3Error += 1;

        return AwsFaultProxy.s3Error("InternalError", "injected", 500);
      }
      if (draw < S3_FAILURE_RATE + S3_CUT_RATE) {
        faults.s3Cut += 1;

        return { cutAfterBytes: 2000 + Math.floor(random() * 20_000) };
      }

      return undefined;
    };
    const settings = {
      env: { AWS_ENDPOINT_URL: proxy.url },
      trigger: {
        visibility_timeout_seconds: 10,
        max_concurrent_objects: 3,
        intake_batch_max_bytes: 262_144,
        intake_timeout_seconds: 2,
        retry_delay_seconds: 1,
      },
    };
    const total = objects.reduce((sum, object) => sum + object.lines.length, 0);
    const victim = harness.startTrigger(settings);
    const survivor = harness.startTrigger(settings);
    for (let index = 0; index < objects.length; index += 2) {
      const batch = objects.slice(index, index + (random() < 0.5 ? 1 : 2));
      const messageId = await harness.notify(batch.map((object) => object.key));
      batch.forEach((object) => (object.messageId = messageId));
      if (batch.length === 1) {
        const rest = objects[index + 1];
        if (rest !== undefined) {
          rest.messageId = await harness.notify([rest.key]);
        }
      }
    }

    await harness.intake.waitForEvents(Math.floor(total * KILL_AFTER_FRACTION), 60_000);
    victim.child.kill("SIGKILL");
    await victim.exited;
    killedAt = Date.now();
    const restarted = harness.startTrigger(settings);
    await harness.intake.waitForEvents(total, 90_000);
    await harness.waitForEmptyQueue(60_000);
    const processes: TriggerProcess[] = [survivor, restarted];
    const retries = await Promise.all(processes.map((process) => process.scrapeMetrics()));
    await Promise.all(processes.map((process) => process.stop()));

    const firstAcceptance = new Map<string, number>();
    const counts = new Map<string, number>();
    for (const batch of harness.intake.accepted) {
      for (const line of batch.events) {
        counts.set(line, (counts.get(line) ?? 0) + 1);
        if (!firstAcceptance.has(line)) {
          firstAcceptance.set(line, batch.acceptedAt);
        }
      }
    }
    const consumedAt = new Map<string, number>();
    for (const message of harness.emulator.server.spy.getAllMessages()) {
      if (message.service === "sqs" && message.status === "consumed") {
        consumedAt.set(message.messageId, message.timestamp);
      }
    }
    let lost = 0;
    let duplicates = 0;
    const duplicatedObjects: string[] = [];
    const deletedEarly: string[] = [];
    const inFlightAtKill = new Set<string>();
    for (const object of objects) {
      const deleted = consumedAt.get(object.messageId);
      const started = object.lines.some(
        (line) => (firstAcceptance.get(line) ?? Infinity) <= killedAt,
      );
      if (started && (deleted === undefined || deleted > killedAt)) {
        inFlightAtKill.add(object.key);
      }
      let objectDuplicates = 0;
      for (const line of object.lines) {
        const count = counts.get(line) ?? 0;
        lost += count === 0 ? 1 : 0;
        objectDuplicates += Math.max(0, count - 1);
        if (deleted !== undefined && (firstAcceptance.get(line) ?? Infinity) > deleted) {
          deletedEarly.push(object.key);
        }
      }
      if (objectDuplicates > 0) {
        duplicates += objectDuplicates;
        duplicatedObjects.push(object.key);
      }
    }
    t.diagnostic(
      JSON.stringify({
        seed: SEED,
        objects: OBJECTS,
        lines: total,
        faults,
        intakeRequests: harness.intake.requests.length,
        duplicates,
        duplicatedObjects: duplicatedObjects.length,
        inFlightAtKill: inFlightAtKill.size,
        lost,
        retryLines: retries.flatMap((text) =>
          text.split("\n").filter((line) => line.startsWith("umbrella_s3_retries_total")),
        ),
      }),
    );

    assert.equal(lost, 0, "no line is lost");
    assert.deepEqual(
      [...new Set(deletedEarly)],
      [],
      "no message is deleted before its events were accepted",
    );
    assert.deepEqual(
      duplicatedObjects.filter((key) => !inFlightAtKill.has(key)),
      [],
      "duplicates come only from objects in flight at the kill",
    );
    assert.deepEqual(harness.queueDepth(), { ready: 0, inflight: 0, delayed: 0 });
    assert.ok(
      Object.values(faults).every((count) => count > 0),
      `every fault kind was injected: ${JSON.stringify(faults)}`,
    );
  });
});
