import { describe, test } from "node:test";
import assert from "node:assert/strict";

import type { Event, QueueConfiguration } from "@aws-sdk/client-s3";

import { inspectNotification } from "../../lib/doctor/NotificationInspector.js";
import {
  allowsBucket,
  bucketOfPolicy,
  inspectQueuePolicy,
} from "../../lib/doctor/QueuePolicyInspector.js";

const QUEUE_ARN = "arn:aws:sqs:eu-west-1:123456789012:umbrella";

void describe("inspectQueuePolicy", () => {
  void test("reads a single statement object with wildcards in action and source ARN", () => {
    const policy = JSON.stringify({
      Statement: {
        Effect: "Allow",
        Principal: { Service: ["s3.amazonaws.com"] },
        Action: "SQS:Send*",
        Resource: "arn:aws:sqs:eu-west-1:123456789012:*",
        Condition: { ArnLike: { "aws:SourceArn": "arn:aws:s3:::umbrella-*" } },
      },
    });

    const verdict = inspectQueuePolicy(policy, QUEUE_ARN);

    assert.equal(verdict.allowsS3, true);
    assert.equal(allowsBucket(verdict, "arn:aws:s3:::umbrella-logs"), true);
    assert.equal(allowsBucket(verdict, "arn:aws:s3:::other"), false);
    assert.equal(bucketOfPolicy(verdict), undefined);
  });

  void test("ignores statements for another queue or another principal", () => {
    const policy = JSON.stringify({
      Statement: [
        {
          Effect: "Allow",
          Principal: { Service: "s3.amazonaws.com" },
          Action: "sqs:SendMessage",
          Resource: `${QUEUE_ARN}-dlq`,
        },
        {
          Effect: "Allow",
          Principal: { Service: "sns.amazonaws.com" },
          Action: "sqs:SendMessage",
          Resource: QUEUE_ARN,
        },
      ],
    });

    assert.equal(inspectQueuePolicy(policy, QUEUE_ARN).allowsS3, false);
  });

  void test("sees an unconditional Deny and tolerates a policy that is not JSON", () => {
    const policy = JSON.stringify({
      Statement: [
        { Effect: "Allow", Principal: "*", Action: "sqs:*", Resource: QUEUE_ARN },
        { Effect: "Deny", Principal: { AWS: "*" }, Action: "sqs:SendMessage", Resource: QUEUE_ARN },
      ],
    });

    assert.deepEqual(
      [inspectQueuePolicy(policy, QUEUE_ARN).deniesS3, inspectQueuePolicy("{", QUEUE_ARN).allowsS3],
      [true, false],
    );
  });
});

void describe("inspectNotification", () => {
  const entry = (
    prefix: string,
    suffix?: string,
    events: Event[] = ["s3:ObjectCreated:*"],
  ): QueueConfiguration => ({
    Id: "n1",
    QueueArn: QUEUE_ARN,
    Events: events,
    Filter: {
      Key: {
        FilterRules: [
          { Name: "prefix" as const, Value: prefix },
          ...(suffix === undefined ? [] : [{ Name: "suffix" as const, Value: suffix }]),
        ],
      },
    },
  });

  void test("accepts a broader prefix and says it announces more than the trigger reads", () => {
    const verdict = inspectNotification([entry("")], QUEUE_ARN, "b", "iplogs/");

    assert.deepEqual(verdict, {
      ok: true,
      detail: `"n1": s3:ObjectCreated:*, prefix ""; it also announces objects outside "iplogs/", which the trigger skips`,
    });
  });

  void test("fails a narrower prefix, a suffix that excludes .csv.gz, and no create event", () => {
    const narrower = inspectNotification([entry("iplogs/2024/")], QUEUE_ARN, "b", "iplogs/");
    const suffix = inspectNotification([entry("iplogs/", ".csv")], QUEUE_ARN, "b", "iplogs/");
    const removed = inspectNotification(
      [entry("iplogs/", undefined, ["s3:ObjectRemoved:*"])],
      QUEUE_ARN,
      "b",
      "iplogs/",
    );

    assert.deepEqual([narrower.ok, suffix.ok, removed.ok], [false, false, false]);
    assert.match(
      !suffix.ok ? suffix.problem : "",
      /suffix "\.csv", which excludes Umbrella's \.csv\.gz/,
    );
    assert.match(!removed.ok ? removed.remedy : "", /"All object create events"/);
  });

  void test("names the queues the bucket notifies instead", () => {
    const other = { ...entry("iplogs/"), QueueArn: `${QUEUE_ARN}-old` };

    const verdict = inspectNotification([other], QUEUE_ARN, "b", "iplogs/");

    assert.equal(
      !verdict.ok && verdict.problem,
      `Bucket b notifies ${QUEUE_ARN}-old, not ${QUEUE_ARN}.`,
    );
  });
});
