import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";

import { SendMessageBatchCommand } from "@aws-sdk/client-sqs";

import {
  s3Notification,
  TriggerHarness,
  TEST_BUCKET,
  type TriggerProcess,
} from "../support/TriggerHarness.js";
import { umbrellaIpLines, umbrellaObject } from "../support/UmbrellaLines.js";

/** Wraps an S3 notification in the envelope SNS delivers to a subscribed queue. */
function snsEnvelope(message: string): string {
  return JSON.stringify({
    Type: "Notification",
    MessageId: "0b4f6e8a-1111-2222-3333-444455556666",
    TopicArn: "arn:aws:sns:eu-west-1:123456789012:umbrella-logs",
    Subject: "Amazon S3 Notification",
    Message: message,
    Timestamp: new Date().toISOString(),
  });
}

function eventBridgeEvent(key: string, detailType = "Object Created"): string {
  return JSON.stringify({
    version: "0",
    id: "c9888434-815d-c6f4-9fc2-4dd7bdeccaaf",
    "detail-type": detailType,
    source: "aws.s3",
    account: "123456789012",
    time: new Date().toISOString(),
    region: "eu-west-1",
    resources: [`arn:aws:s3:::${TEST_BUCKET}`],
    detail: {
      version: "0",
      bucket: { name: TEST_BUCKET },
      object: { key, size: 10, etag: "e1", sequencer: "0064D3901D00059242" },
      reason: "PutObject",
    },
  });
}

describe("notification shapes", () => {
  const harness = new TriggerHarness();
  let trigger: TriggerProcess;

  before(async () => {
    await harness.start();
    trigger = harness.startTrigger();
  });
  after(async () => {
    await harness.stop();
  });

  async function deliverVia(body: (key: string) => string, tag: string): Promise<string[]> {
    const lines = umbrellaIpLines(25, tag);
    const key = `iplogs/2024-05-01/${tag}.csv.gz`;
    await harness.putObject(key, umbrellaObject(lines));
    const from = harness.intake.events.length;
    const messageId = await harness.sendBody(body(key));
    await harness.emulator.server.spy.waitForMessageWithId(messageId, "consumed", 15_000);

    assert.deepEqual(harness.intake.events.slice(from), lines);

    return lines;
  }

  test("reads objects announced through SNS", async () => {
    await deliverVia((key) => snsEnvelope(JSON.stringify(s3Notification([key]))), "sns");
  });

  test("reads objects announced by EventBridge, whose keys are not encoded", async () => {
    await deliverVia((key) => eventBridgeEvent(key), "event bridge+plus");
  });

  test("counts and deletes ObjectRemoved records without reading anything", async () => {
    const requests = harness.intake.requests.length;
    const body = JSON.stringify(
      s3Notification(["iplogs/x.csv.gz"], { eventName: "ObjectRemoved:Delete" }),
    );

    const messageId = await harness.sendBody(body);
    await harness.emulator.server.spy.waitForMessageWithId(messageId, "consumed", 15_000);

    assert.equal(harness.intake.requests.length, requests);
    assert.equal(
      await trigger.metric("umbrella_s3_notifications_ignored_total", { reason: "object-removed" }),
      1,
    );
  });

  const oddBodies: [string, string, RegExp][] = [
    ["a body that is not JSON", "hello, queue", /not JSON/],
    ["JSON that is not an object", "[1,2,3]", /JSON a list, not an object/],
    [
      '"Records" that is not a list',
      '{"Records": {"s3": {}}}',
      /"Records" is an object, not a list/,
    ],
    [
      "an SNS envelope carrying no S3 notification",
      snsEnvelope("plain text alert"),
      /SNS envelope/,
    ],
  ];
  for (const [name, body, reason] of oddBodies) {
    test(`logs, counts and deletes ${name}`, async () => {
      const before = await trigger.metric("umbrella_s3_notifications_ignored_total", {
        reason: "not-a-notification",
      });

      const messageId = await harness.sendBody(body);
      await harness.emulator.server.spy.waitForMessageWithId(messageId, "consumed", 15_000);

      const log = await trigger.waitForLog((entry) => entry["messageId"] === messageId);
      assert.equal(log.level, "warning");
      assert.match(String(log["reason"]), reason);
      const after = await trigger.metric("umbrella_s3_notifications_ignored_total", {
        reason: "not-a-notification",
      });
      assert.equal(after, before + 1);
    });
  }

  test("an odd message does not affect the other messages of the same receive", async () => {
    const lines = umbrellaIpLines(40, "neighbours");
    await harness.putObject("iplogs/neighbours.csv.gz", umbrellaObject(lines));
    const from = harness.intake.events.length;
    const response = await harness.emulator.sqs.send(
      new SendMessageBatchCommand({
        QueueUrl: harness.queueUrl,
        Entries: [
          { Id: "a", MessageBody: "{not json" },
          { Id: "b", MessageBody: JSON.stringify(s3Notification(["iplogs/neighbours.csv.gz"])) },
          { Id: "c", MessageBody: "42" },
        ],
      }),
    );

    for (const entry of response.Successful ?? []) {
      await harness.emulator.server.spy.waitForMessageWithId(
        entry.MessageId ?? "",
        "consumed",
        15_000,
      );
    }

    assert.deepEqual(harness.intake.events.slice(from), lines);
    assert.deepEqual(harness.queueDepth(), { ready: 0, inflight: 0, delayed: 0 });
  });
});
