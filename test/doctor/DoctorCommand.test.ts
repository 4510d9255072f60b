import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { after, before, beforeEach, describe, test } from "node:test";
import assert from "node:assert/strict";

import { CreateBucketCommand, PutObjectCommand } from "@aws-sdk/client-s3";

import { DoctorCommand } from "../../lib/doctor/DoctorCommand.js";
import type { DoctorStep } from "../../lib/doctor/DoctorStep.js";
import { HttpTransport } from "../../lib/http/HttpTransport.js";
import { createLogger } from "../../lib/runtime/createLogger.js";
import { Liveness } from "../../lib/runtime/Liveness.js";
import { Metrics } from "../../lib/runtime/Metrics.js";
import type { RuntimeContext } from "../../lib/runtime/RuntimeContext.js";
import { SchemaValidator } from "../../lib/runtime/SchemaValidator.js";
import { SecretRedactor } from "../../lib/runtime/SecretRedactor.js";
import { SymphonyConfig } from "../../lib/runtime/SymphonyConfig.js";
import { parseSetupArguments } from "../../lib/setup/SetupArguments.js";
import { queueAccessPolicy } from "../../lib/setup/SetupPolicies.js";
import { FakeTokenEndpoint } from "../aws/FakeTokenEndpoint.js";
import { AwsFaultProxy, type ProxiedRequest } from "../support/AwsFaultProxy.js";
import { startEmulator, TEST_REGION, type Emulator } from "../support/Emulator.js";
import { FakeSts } from "../support/FakeSts.js";

/** The account fauxqs puts in every ARN and answers GetCallerIdentity with. */
const EMULATOR_ACCOUNT = "000000000000";
const EMULATOR_IDENTITY = `arn:aws:iam::${EMULATOR_ACCOUNT}:root`;
const KEYS_CONFIGURATION = {
  aws_region_name: TEST_REGION,
  aws_access_key: "AKIAEMULATOR000TEST",
  aws_secret_access_key: "emulator-secret-access-key-for-tests",
};
const MESSAGE_ACTIONS = [
  "ReceiveMessage",
  "DeleteMessage",
  "DeleteMessageBatch",
  "ChangeMessageVisibility",
  "ChangeMessageVisibilityBatch",
  "PurgeQueue",
];

interface SetUp {
  queue: string;
  queueUrl: string;
  queueArn: string;
  bucket: string;
}

interface DoctorRun {
  code: number;
  steps: DoctorStep[];
  text: string;
}

function notificationXml(
  queueArn: string,
  prefix: string,
  events = ["s3:ObjectCreated:*"],
): string {
  return (
    '<?xml version="1.0" encoding="UTF-8"?>\n' +
    '<NotificationConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/">' +
    "<QueueConfiguration><Id>sekoia-umbrella-iplogs</Id>" +
    `<Queue>${queueArn}</Queue>` +
    events.map((event) => `<Event>${event}</Event>`).join("") +
    "<Filter><S3Key><FilterRule><Name>Prefix</Name>" +
    `<Value>${prefix}</Value></FilterRule></S3Key></Filter>` +
    "</QueueConfiguration></NotificationConfiguration>"
  );
}

function accessDenied(request: ProxiedRequest): ReturnType<typeof AwsFaultProxy.s3Error> {
  return request.service === "sqs"
    ? AwsFaultProxy.sqsError(
        "com.amazon.coral.service#AccessDeniedException",
        "AccessDenied",
        `User: ${EMULATOR_IDENTITY} is not authorized to perform: sqs:${request.action.toLowerCase()}`,
        403,
      )
    : AwsFaultProxy.s3Error("AccessDenied", "Access Denied", 403);
}

void describe("DoctorCommand", () => {
  let emulator: Emulator;
  let proxy: AwsFaultProxy;
  let sts: FakeSts;
  let tokens: FakeTokenEndpoint;
  let http: HttpTransport;
  let counter = 0;

  before(async () => {
    emulator = await startEmulator();
    proxy = await new AwsFaultProxy(emulator.address).start();
    sts = await new FakeSts().start();
    tokens = await new FakeTokenEndpoint().start();
    http = new HttpTransport();
  });

  beforeEach(() => {
    proxy.intercept = () => undefined;
    proxy.requests.length = 0;
  });

  after(async () => {
    http.close();
    await tokens.stop();
    await sts.stop();
    await proxy.stop();
    await emulator.stop();
  });

  /** A complete set-up as `setup` describes it: bucket, object, queue with its policy. */
  async function healthySetUp(options: { policy?: boolean; region?: string } = {}): Promise<SetUp> {
    counter += 1;
    const queue = `umbrella-doctor-${counter}`;
    const bucket = `umbrella-doctor-bucket-${counter}`;
    await emulator.s3.send(new CreateBucketCommand({ Bucket: bucket }));
    await emulator.s3.send(
      new PutObjectCommand({ Bucket: bucket, Key: "iplogs/2024-05-01/a.csv.gz", Body: "abc" }),
    );
    const setupOptions = parseSetupArguments([
      ...["--account-id", EMULATOR_ACCOUNT, "--region", options.region ?? TEST_REGION],
      ...["--bucket", bucket, "--queue", queue, "--auth", "keys"],
    ]);
    const attributes =
      options.policy === false ? {} : { Policy: JSON.stringify(queueAccessPolicy(setupOptions)) };
    const created = emulator.server.createQueue(queue, {
      region: options.region ?? TEST_REGION,
      attributes,
    });

    return { queue, queueUrl: created.queueUrl, queueArn: created.queueArn, bucket };
  }

  /** Answers the notification request of `setUp`'s bucket, which fauxqs does not implement. */
  function notifyQueue(setUp: SetUp, prefix = "iplogs/"): void {
    proxy.intercept = (request) =>
      request.action === "GetBucketNotificationConfiguration" && request.path.includes(setUp.bucket)
        ? AwsFaultProxy.xml(notificationXml(setUp.queueArn, prefix))
        : undefined;
  }

  async function runDoctor(options: {
    module?: object;
    trigger: object;
    args?: string[];
    files?: Record<string, string>;
    env?: NodeJS.ProcessEnv;
  }): Promise<DoctorRun> {
    const directory = mkdtempSync(join(tmpdir(), "doctor-"));
    try {
      writeFileSync(
        join(directory, "module_configuration"),
        JSON.stringify(options.module ?? KEYS_CONFIGURATION),
      );
      writeFileSync(join(directory, "trigger_configuration"), JSON.stringify(options.trigger));
      for (const [name, content] of Object.entries(options.files ?? {})) {
        writeFileSync(join(directory, name), content);
      }
      const redactor = new SecretRedactor();
      const context: RuntimeContext = {
        symphony: new SymphonyConfig({ directory, env: {} }),
        logger: createLogger({ redactor, stream: new PassThrough().resume() }),
        redactor,
        metrics: new Metrics({ defaultMetrics: false }),
        liveness: new Liveness(),
        http,
        validator: new SchemaValidator(),
        shutdown: new AbortController().signal,
        args: [...(options.args ?? []), "--format", "json"],
      };
      const out = new PassThrough();
      let text = "";
      out.on("data", (chunk: Buffer) => (text += chunk.toString()));
      const env = options.env ?? { AWS_ENDPOINT_URL: proxy.url };

      const code = await new DoctorCommand({ env, out }).run(context);

      return { code, text, steps: (JSON.parse(text) as { steps: DoctorStep[] }).steps };
    } finally {
      rmSync(directory, { recursive: true, force: true });
    }
  }

  function stepOf(run: DoctorRun, name: string): DoctorStep {
    const step = run.steps.find((item) => item.step === name);
    assert.ok(step !== undefined, `no step ${name}`);

    return step;
  }

  function results(run: DoctorRun): Record<string, string> {
    return Object.fromEntries(run.steps.map((step) => [step.step, step.result]));
  }

  void test("passes every step of a healthy set-up and never touches a message", async () => {
    const setUp = await healthySetUp();
    notifyQueue(setUp);

    const run = await runDoctor({ trigger: { queue_name: setUp.queue, intake_key: "k" } });

    assert.equal(run.code, 0);
    assert.deepEqual(results(run), {
      "module configuration": "PASS",
      "trigger configuration": "PASS",
      credentials: "PASS",
      "caller identity": "PASS",
      queue: "PASS",
      "queue attributes": "PASS",
      "queue policy": "PASS",
      bucket: "PASS",
      "bucket notification": "PASS",
      "object read": "PASS",
    });
    assert.equal(
      stepOf(run, "caller identity").detail,
      `account ${EMULATOR_ACCOUNT}, ${EMULATOR_IDENTITY}`,
    );
    assert.equal(
      stepOf(run, "bucket").detail,
      `${setUp.bucket} (from the queue policy's aws:SourceArn)`,
    );
    assert.match(
      stepOf(run, "queue policy").detail,
      new RegExp(`arn:aws:s3:::${setUp.bucket}, account`),
    );
    assert.match(
      stepOf(run, "object read").detail,
      /^read 1 byte\(s\) of iplogs\/2024-05-01\/a\.csv\.gz \(3 bytes\)$/,
    );
    assert.deepEqual(
      proxy.actions.filter((action) => MESSAGE_ACTIONS.includes(action)),
      [],
    );
    assert.ok(proxy.actions.includes("GetQueueAttributes") && proxy.actions.includes("GetObject"));
  });

  void test("fails the notification step on fauxqs alone, which stores no notification", async () => {
    // The only step fauxqs cannot answer: it replies to GET ?notification with an empty
    // configuration, so without the proxy's crafted answer the doctor finds no notification.
    const setUp = await healthySetUp();

    const run = await runDoctor({ trigger: { queue_name: setUp.queue } });

    const notification = stepOf(run, "bucket notification");
    assert.equal(notification.result, "FAIL");
    assert.equal(
      notification.detail,
      `Bucket ${setUp.bucket} sends no event notification to any SQS queue.`,
    );
    assert.match(notification.remedy ?? "", new RegExp(`destination SQS queue ${setUp.queueArn}`));
    assert.equal(run.steps.filter((step) => step.result !== "PASS").length, 1);
  });

  void test("prints a table with the steps, the remedies and the count of failures", async () => {
    const setUp = await healthySetUp({ policy: false });
    const directory = mkdtempSync(join(tmpdir(), "doctor-text-"));
    writeFileSync(join(directory, "module_configuration"), JSON.stringify(KEYS_CONFIGURATION));
    writeFileSync(
      join(directory, "trigger_configuration"),
      JSON.stringify({ queue_name: setUp.queue }),
    );
    const redactor = new SecretRedactor();
    const out = new PassThrough();
    let text = "";
    out.on("data", (chunk: Buffer) => (text += chunk.toString()));

    const code = await new DoctorCommand({ env: { AWS_ENDPOINT_URL: proxy.url }, out }).run({
      symphony: new SymphonyConfig({ directory, env: {} }),
      logger: createLogger({ redactor, stream: new PassThrough().resume() }),
      redactor,
      metrics: new Metrics({ defaultMetrics: false }),
      liveness: new Liveness(),
      http,
      validator: new SchemaValidator(),
      shutdown: new AbortController().signal,
      args: [],
    });
    rmSync(directory, { recursive: true, force: true });

    assert.equal(code, 1);
    const lines = text.split("\n");
    assert.match(lines[2] ?? "", /^STEP {18}RESULT {2}DETAIL$/);
    assert.ok(lines.some((line) => /^queue policy {10}FAIL {4}Queue arn:aws:sqs:/.test(line)));
    assert.ok(lines.some((line) => /^ {30}remedy: Paste the queue access policy/.test(line)));
    assert.match(text, /\n1 step failed\.\n$/);
  });

  void test("checks the role path: assumption through the fake STS, then the assumed identity", async () => {
    const setUp = await healthySetUp();
    notifyQueue(setUp);

    const run = await runDoctor({
      module: { aws_region_name: TEST_REGION, aws_role_arn: "arn:aws:iam::123456789012:role/umb" },
      trigger: { queue_name: setUp.queue },
      files: {
        url_logs: `${tokens.url}/api/v1/logs`,
        token: "platform-bearer-token-0123456789",
        trigger_configuration_uuid: "trigger-uuid-1",
      },
      env: { AWS_ENDPOINT_URL: proxy.url, AWS_ENDPOINT_URL_STS: sts.url },
    });

    assert.equal(stepOf(run, "credentials").result, "PASS");
    assert.match(
      stepOf(run, "credentials").detail,
      /role arn:aws:iam::123456789012:role\/umb assumed/,
    );
    assert.equal(
      stepOf(run, "caller identity").detail,
      "account 123456789012, arn:aws:sts::123456789012:assumed-role/umb/sekoia-automation-session",
    );
    assert.equal(stepOf(run, "object read").result, "PASS");
  });

  void test("finds a queue created in another region and says which region it must be in", async () => {
    const setUp = await healthySetUp({ region: "us-east-1" });

    const run = await runDoctor({ trigger: { queue_name: setUp.queue } });

    const queue = stepOf(run, "queue");
    assert.equal(run.code, 1);
    assert.equal(queue.result, "FAIL");
    assert.equal(
      queue.detail,
      `The SQS queue "${setUp.queue}" does not exist in region eu-west-1 (account ${EMULATOR_ACCOUNT}).`,
    );
    assert.match(queue.remedy ?? "", /the queue must be in eu-west-1, the region of the bucket/);
    assert.deepEqual(
      [stepOf(run, "queue attributes"), stepOf(run, "queue policy")].map((s) => [
        s.result,
        s.detail,
      ]),
      [
        ["SKIP", "needs the queue"],
        ["SKIP", "needs the queue"],
      ],
    );
    assert.equal(stepOf(run, "bucket").remedy, "Run the doctor again with --bucket <bucket name>.");
  });

  void test("reports a queue URL that names another region before calling it", async () => {
    const setUp = await healthySetUp({ region: "us-east-1" });

    const run = await runDoctor({ trigger: { queue_url: setUp.queueUrl } });

    const queue = stepOf(run, "queue");
    assert.equal(
      queue.detail,
      `The queue URL ${setUp.queueUrl} is in region us-east-1, but aws_region_name is eu-west-1.`,
    );
    assert.match(
      queue.remedy ?? "",
      /^Set aws_region_name to us-east-1 if the bucket is there too/,
    );
    assert.ok(!proxy.actions.includes("GetQueueUrl"));
  });

  void test("reports a missing queue and still reads the bucket given with --bucket", async () => {
    const setUp = await healthySetUp();

    const run = await runDoctor({
      trigger: { queue_name: "no-such-queue" },
      args: ["--bucket", setUp.bucket],
    });

    assert.equal(stepOf(run, "queue").result, "FAIL");
    assert.match(
      stepOf(run, "queue").remedy ?? "",
      /^Check the queue name or URL, and aws_region_name/,
    );
    assert.equal(stepOf(run, "bucket").detail, `${setUp.bucket} (from --bucket)`);
    assert.deepEqual(
      [stepOf(run, "bucket notification").result, stepOf(run, "bucket notification").detail],
      ["SKIP", "needs the queue"],
    );
    assert.equal(stepOf(run, "object read").result, "PASS");
  });

  void test("fails the notification whose prefix is not the trigger's", async () => {
    const setUp = await healthySetUp();
    notifyQueue(setUp, "dnslogs/");

    const run = await runDoctor({ trigger: { queue_name: setUp.queue } });

    const notification = stepOf(run, "bucket notification");
    assert.equal(run.code, 1);
    assert.equal(notification.result, "FAIL");
    assert.equal(
      notification.detail,
      `Notification "sekoia-umbrella-iplogs" to ${setUp.queueArn} filters prefix "dnslogs/", ` +
        `but the trigger reads "iplogs/": new Umbrella objects are not announced.`,
    );
    assert.equal(
      notification.remedy,
      `In S3 > ${setUp.bucket} > Properties > Event notifications, edit "sekoia-umbrella-iplogs" ` +
        `and set the prefix to "iplogs/"; or, if Umbrella really writes under "dnslogs/", set ` +
        "the trigger's key_prefix to it.",
    );
  });

  void test("fails without an object-read permission, naming the action and the resource", async () => {
    const setUp = await healthySetUp();
    proxy.intercept = (request) => {
      if (request.action === "GetBucketNotificationConfiguration") {
        return AwsFaultProxy.xml(notificationXml(setUp.queueArn, "iplogs/"));
      }

      return request.action === "GetObject" ? accessDenied(request) : undefined;
    };

    const run = await runDoctor({ trigger: { queue_name: setUp.queue } });

    const read = stepOf(run, "object read");
    assert.equal(run.code, 1);
    assert.equal(
      read.detail,
      `${EMULATOR_IDENTITY} may not read s3://${setUp.bucket}/iplogs/2024-05-01/a.csv.gz (AccessDenied).`,
    );
    assert.match(
      read.remedy ?? "",
      new RegExp(
        `^Grant s3:GetObject on arn:aws:s3:::${setUp.bucket}/iplogs/\\* to ${EMULATOR_IDENTITY}`,
      ),
    );
  });

  void test("fails without sqs:GetQueueAttributes and skips the policy check that needs it", async () => {
    const setUp = await healthySetUp();
    proxy.intercept = (request) =>
      request.action === "GetQueueAttributes" ? accessDenied(request) : undefined;

    const run = await runDoctor({
      trigger: { queue_name: setUp.queue },
      args: ["--bucket", setUp.bucket],
    });

    const attributes = stepOf(run, "queue attributes");
    assert.equal(attributes.result, "FAIL");
    assert.equal(
      attributes.detail,
      `${EMULATOR_IDENTITY} is not allowed to call sqs:GetQueueAttributes on queue "${setUp.queueUrl}".`,
    );
    assert.match(
      attributes.remedy ?? "",
      new RegExp(`sqs:GetQueueAttributes on ${setUp.queueArn} to `),
    );
    assert.equal(stepOf(run, "queue policy").detail, "needs the queue attributes");
  });

  void test("skips, not fails, the notification check without the optional permission", async () => {
    const setUp = await healthySetUp();
    proxy.intercept = (request) =>
      request.action === "GetBucketNotificationConfiguration" ? accessDenied(request) : undefined;

    const run = await runDoctor({ trigger: { queue_name: setUp.queue } });

    const notification = stepOf(run, "bucket notification");
    assert.equal(run.code, 0);
    assert.equal(notification.result, "SKIP");
    assert.match(
      notification.remedy ?? "",
      /doctor-policy\.json\); the module itself does not need it/,
    );
  });

  void test("points at kms:Decrypt when S3 refuses the object for its KMS key", async () => {
    const setUp = await healthySetUp();
    proxy.intercept = (request) =>
      request.action === "GetObject"
        ? AwsFaultProxy.s3Error(
            "AccessDenied",
            "User is not authorized to perform: kms:Decrypt",
            403,
          )
        : undefined;

    const run = await runDoctor({ trigger: { queue_name: setUp.queue } });

    assert.match(stepOf(run, "object read").remedy ?? "", /grant kms:Decrypt on it/);
  });

  void test("fails a queue without an access policy and a policy that excludes --bucket", async () => {
    const bare = await healthySetUp({ policy: false });
    const other = await healthySetUp();

    const noPolicy = await runDoctor({ trigger: { queue_name: bare.queue } });
    const wrongBucket = await runDoctor({
      trigger: { queue_name: other.queue },
      args: ["--bucket", bare.bucket],
    });

    assert.equal(
      stepOf(noPolicy, "queue policy").detail,
      `Queue ${bare.queueArn} has no access policy, so S3 cannot send notifications to it.`,
    );
    assert.equal(stepOf(noPolicy, "bucket").result, "SKIP");
    assert.equal(
      stepOf(wrongBucket, "queue policy").detail,
      `The access policy of queue ${other.queueArn} lets S3 send only for ` +
        `arn:aws:s3:::${other.bucket} (aws:SourceArn), not for arn:aws:s3:::${bare.bucket}.`,
    );
  });

  void test("fails a queue encrypted with the AWS managed key, which S3 cannot use", async () => {
    counter += 1;
    const queue = `umbrella-doctor-kms-${counter}`;
    const created = emulator.server.createQueue(queue, {
      attributes: { KmsMasterKeyId: "alias/aws/sqs" },
    });

    const run = await runDoctor({ trigger: { queue_name: queue } });

    const attributes = stepOf(run, "queue attributes");
    assert.equal(attributes.result, "FAIL");
    assert.match(
      attributes.detail,
      new RegExp(`Queue ${created.queueArn} is encrypted with the AWS managed key alias/aws/sqs`),
    );
    assert.match(attributes.remedy ?? "", /SSE-SQS/);
  });

  void test("reports an invalid trigger configuration and skips every AWS step", async () => {
    const run = await runDoctor({ trigger: { intake_key: "k" } });

    assert.equal(run.code, 1);
    assert.equal(stepOf(run, "trigger configuration").result, "FAIL");
    assert.match(stepOf(run, "trigger configuration").detail, /queue/);
    assert.deepEqual(
      run.steps.slice(2).map((step) => step.result),
      Array.from({ length: 8 }, () => "SKIP"),
    );
    assert.equal(proxy.requests.length, 0);
  });
});
