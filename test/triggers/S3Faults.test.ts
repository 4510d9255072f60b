import assert from "node:assert/strict";
import { afterEach, beforeEach, describe, test } from "node:test";

import { AwsFaultProxy } from "../support/AwsFaultProxy.js";
import { TriggerHarness } from "../support/TriggerHarness.js";
import { umbrellaIpLines, umbrellaObject } from "../support/UmbrellaLines.js";

/** S3 faults that fauxqs cannot produce, injected by a proxy between the trigger and fauxqs. */
describe("S3 faults", () => {
  let harness: TriggerHarness;
  let proxy: AwsFaultProxy;

  beforeEach(async () => {
    harness = await new TriggerHarness().start();
    proxy = await new AwsFaultProxy(harness.emulator.address).start();
  });
  afterEach(async () => {
    await harness.stop();
    await proxy.stop();
  });

  const viaProxy = (trigger: Record<string, unknown> = {}) =>
    harness.startTrigger({ env: { AWS_ENDPOINT_URL: proxy.url }, trigger });

  test("retries S3 throttling and server errors, then delivers", async () => {
    const lines = umbrellaIpLines(100, "throttled");
    await harness.putObject("iplogs/throttled.csv.gz", umbrellaObject(lines));
    let failures = 0;
    proxy.intercept = (request) => {
      if (request.action !== "GetObject" || failures >= 3) {
        return undefined;
      }
      failures += 1;

      return failures === 1
        ? AwsFaultProxy.s3Error("SlowDown", "Please reduce your request rate.", 503)
        : AwsFaultProxy.s3Error("InternalError", "We encountered an internal error.", 500);
    };
    const messageId = await harness.notify(["iplogs/throttled.csv.gz"]);
    viaProxy();

    await harness.emulator.server.spy.waitForMessageWithId(messageId, "consumed", 30_000);

    assert.equal(failures, 3);
    assert.deepEqual(harness.intake.events, lines);
  });

  test("resumes a download cut mid-way from where it stopped, without duplicates", async () => {
    const lines = umbrellaIpLines(20_000, "resumed");
    const body = umbrellaObject(lines);
    await harness.putObject("iplogs/resumed.csv.gz", body);
    const ranges: string[] = [];
    proxy.intercept = (request) => {
      if (request.action !== "GetObject") {
        return undefined;
      }
      ranges.push(String(request.headers["range"] ?? "whole"));

      return ranges.length === 1 ? { cutAfterBytes: Math.floor(body.length / 3) } : undefined;
    };
    const messageId = await harness.notify(["iplogs/resumed.csv.gz"]);
    const trigger = viaProxy();

    await harness.emulator.server.spy.waitForMessageWithId(messageId, "consumed", 30_000);

    assert.equal(ranges[0], "whole");
    assert.match(ranges[1] ?? "", /^bytes=\d+-$/);
    // Batches go out concurrently: the order of arrival may differ from the object's.
    assert.deepEqual([...harness.intake.events].sort(), [...lines].sort());
    const resume = await trigger.waitForLog(
      (log) => log.message === "object download interrupted, resuming",
    );
    assert.equal(resume["key"], "iplogs/resumed.csv.gz");
    assert.equal(await trigger.metric("umbrella_s3_retries_total", { reason: "s3_resume" }), 1);
  });

  test("access denied is logged with the missing permission, and the message is kept", async () => {
    const lines = umbrellaIpLines(10, "denied");
    await harness.putObject("iplogs/denied.csv.gz", umbrellaObject(lines));
    let denied = true;
    proxy.intercept = (request) =>
      denied && request.action === "GetObject"
        ? AwsFaultProxy.s3Error("AccessDenied", "Access Denied", 403)
        : undefined;
    const messageId = await harness.notify(["iplogs/denied.csv.gz"]);
    const trigger = viaProxy({ retry_delay_seconds: 1 });

    const error = await trigger.waitForLog((log) =>
      log.message.startsWith("object cannot be read"),
    );
    assert.equal(error.level, "error");
    assert.equal(error["bucket"], "umbrella-logs");
    assert.equal(error["key"], "iplogs/denied.csv.gz");
    assert.match(
      String(error["reason"]),
      /s3:GetObject on arn:aws:s3:::umbrella-logs\/iplogs\/denied\.csv\.gz/,
    );
    const released = await trigger.waitForLog((log) => log.message === "message released");
    assert.equal(released["reason"], "retry");
    assert.equal(
      harness.emulator.server.spy.checkForMessage({ service: "sqs", messageId }, "consumed"),
      undefined,
    );
    denied = false;

    await harness.emulator.server.spy.waitForMessageWithId(messageId, "consumed", 30_000);
    assert.deepEqual(harness.intake.events, lines);
  });

  test("an S3 outage longer than max_receive_count receives never leads to giving up", async () => {
    const lines = umbrellaIpLines(50, "outage");
    await harness.putObject("iplogs/outage.csv.gz", umbrellaObject(lines));
    let outage = true;
    let failedReads = 0;
    proxy.intercept = (request) => {
      if (!outage || request.action !== "GetObject") {
        return undefined;
      }
      failedReads += 1;

      return AwsFaultProxy.s3Error("InternalError", "We encountered an internal error.", 500);
    };
    const messageId = await harness.notify(["iplogs/outage.csv.gz"]);
    const trigger = viaProxy({ retry_delay_seconds: 1, max_receive_count: 2 });

    await trigger.waitForLog(
      (log) => log.message === "message released" && log["receiveCount"] === 3,
    );
    outage = false;
    await harness.emulator.server.spy.waitForMessageWithId(messageId, "consumed", 30_000);

    assert.ok(failedReads >= 2 * 5, `${failedReads} failed reads`);
    assert.deepEqual(harness.intake.events, lines);
    assert.equal(trigger.logs.filter((log) => log.message.startsWith("giving up")).length, 0);
    const released = trigger.logs.filter((log) => log.message === "message released");
    assert.ok(released.every((log) => log["reason"] === "s3"));
  });

  test("gives up after max_receive_count and deletes when the queue has no dead-letter queue", async () => {
    await harness.putObject("iplogs/poison.csv.gz", umbrellaObject(umbrellaIpLines(5, "poison")));
    proxy.intercept = (request) =>
      request.action === "GetObject"
        ? AwsFaultProxy.s3Error("AccessDenied", "Access Denied", 403)
        : undefined;
    const messageId = await harness.notify(["iplogs/poison.csv.gz"]);
    const trigger = viaProxy({ retry_delay_seconds: 1, max_receive_count: 2 });

    await harness.emulator.server.spy.waitForMessageWithId(messageId, "consumed", 30_000);

    const error = await trigger.waitForLog((log) =>
      log.message.startsWith("giving up on a message"),
    );
    assert.match(error.message, /no dead-letter queue, deleted/);
    assert.equal(error["receiveCount"], 2);
    assert.deepEqual(error["objects"], [
      {
        object: "umbrella-logs/iplogs/poison.csv.gz",
        reason:
          "Cannot read s3://umbrella-logs/iplogs/poison.csv.gz: access denied (AccessDenied): the credentials need s3:GetObject on arn:aws:s3:::umbrella-logs/iplogs/poison.csv.gz (and kms:Decrypt on the bucket's key when it uses SSE-KMS).",
      },
    ]);
    assert.equal(harness.intake.events.length, 0);
  });
});

describe("S3 faults with a dead-letter queue", () => {
  let harness: TriggerHarness;
  let proxy: AwsFaultProxy;

  beforeEach(async () => {
    harness = new TriggerHarness();
    await harness.start({
      queueAttributes: {
        RedrivePolicy: JSON.stringify({
          deadLetterTargetArn: "arn:aws:sqs:eu-west-1:000000000000:umbrella-iplogs-dlq",
          maxReceiveCount: "3",
        }),
      },
      deadLetterQueue: "umbrella-iplogs-dlq",
    });
    proxy = await new AwsFaultProxy(harness.emulator.address).start();
  });
  afterEach(async () => {
    await harness.stop();
    await proxy.stop();
  });

  test("leaves a poison message to the queue's dead-letter queue instead of deleting it", async () => {
    await harness.putObject("iplogs/poison.csv.gz", umbrellaObject(umbrellaIpLines(5, "dlq")));
    proxy.intercept = (request) =>
      request.action === "GetObject"
        ? AwsFaultProxy.s3Error("AccessDenied", "Access Denied", 403)
        : undefined;
    const messageId = await harness.notify(["iplogs/poison.csv.gz"]);
    const trigger = harness.startTrigger({
      env: { AWS_ENDPOINT_URL: proxy.url },
      trigger: { retry_delay_seconds: 1, max_receive_count: 2 },
    });

    await harness.emulator.server.spy.waitForMessageWithId(messageId, "dlq", 30_000);

    const error = await trigger.waitForLog((log) =>
      log.message.startsWith("giving up on a message"),
    );
    assert.match(error.message, /left to the dead-letter queue/);
    assert.equal(
      error["deadLetterQueue"],
      "arn:aws:sqs:eu-west-1:000000000000:umbrella-iplogs-dlq",
    );
    assert.equal(
      harness.emulator.server.spy.checkForMessage({ service: "sqs", messageId }, "consumed"),
      undefined,
    );
    const getObjects = proxy.requests.filter((request) => request.action === "GetObject").length;
    assert.equal(getObjects, 2, "no object read after giving up");
  });
});
