import assert from "node:assert/strict";
import { describe, test } from "node:test";

import { decodeS3Key } from "../../lib/s3queue/decodeS3Key.js";
import {
  decodeNotification,
  type DecodedNotification,
} from "../../lib/s3queue/NotificationDecoder.js";
import type { ObjectRef } from "../../lib/s3queue/ObjectRef.js";

const EVENT_TIME = "2024-05-01T10:20:31.123Z";

function s3Record(eventName: string, key: string, extra: Record<string, unknown> = {}): unknown {
  return {
    eventVersion: "2.1",
    eventSource: "aws:s3",
    awsRegion: "eu-west-1",
    eventTime: EVENT_TIME,
    eventName,
    s3: {
      s3SchemaVersion: "1.0",
      bucket: { name: "umbrella-logs", arn: "arn:aws:s3:::umbrella-logs" },
      object: {
        key,
        size: 1234,
        eTag: "0123456789abcdef0123456789abcdef",
        sequencer: "0065F1A2B3C4D5E6F7",
        ...extra,
      },
    },
  };
}

function body(document: unknown): string {
  return JSON.stringify(document);
}

function snsEnvelope(message: string): string {
  return body({
    Type: "Notification",
    MessageId: "6f1c6a2e-0000-4000-8000-000000000001",
    TopicArn: "arn:aws:sns:eu-west-1:123456789012:umbrella",
    Subject: "Amazon S3 Notification",
    Message: message,
    Timestamp: EVENT_TIME,
  });
}

function eventBridge(detailType: string, detail: unknown): string {
  return body({
    version: "0",
    id: "17793124-05d4-b198-2fde-7ededc63b103",
    "detail-type": detailType,
    source: "aws.s3",
    account: "123456789012",
    time: EVENT_TIME,
    region: "eu-west-1",
    resources: ["arn:aws:s3:::umbrella-logs"],
    detail,
  });
}

function objectsOf(decoded: DecodedNotification): {
  objects: ObjectRef[];
  ignored: { reason: string; detail: string }[];
} {
  assert.equal(decoded.kind, "objects", JSON.stringify(decoded));

  return decoded.kind === "objects" ? decoded : { objects: [], ignored: [] };
}

function notANotification(decoded: DecodedNotification): { reason: string; excerpt: string } {
  assert.equal(decoded.kind, "not-a-notification", JSON.stringify(decoded));

  return decoded.kind === "not-a-notification" ? decoded : { reason: "", excerpt: "" };
}

const KEY = "iplogs/2024-05-01/2024-05-01-10-20-a1b2.csv.gz";

void describe("decodeNotification", () => {
  void describe("S3 event records", () => {
    void test("decodes every record of a message with its key, size, ETag, sequencer and time", () => {
      const decoded = decodeNotification(
        body({
          Records: [
            s3Record("ObjectCreated:Put", KEY),
            s3Record("ObjectCreated:Post", "iplogs/b.csv.gz", { versionId: "v2" }),
            s3Record("ObjectCreated:Copy", "iplogs/c.csv.gz"),
            s3Record("ObjectCreated:CompleteMultipartUpload", "iplogs/d.csv.gz"),
          ],
        }),
      );

      const { objects, ignored } = objectsOf(decoded);
      assert.deepEqual(ignored, []);
      assert.deepEqual(
        objects.map((ref) => ref.key),
        [KEY, "iplogs/b.csv.gz", "iplogs/c.csv.gz", "iplogs/d.csv.gz"],
      );
      assert.deepEqual(objects[0], {
        bucket: "umbrella-logs",
        key: KEY,
        size: 1234,
        etag: "0123456789abcdef0123456789abcdef",
        sequencer: "0065F1A2B3C4D5E6F7",
        versionId: undefined,
        eventTime: Date.parse(EVENT_TIME),
        source: "s3",
      });
      assert.equal(objects[1]?.versionId, "v2");
    });

    void test("ignores ObjectRemoved records with their event name and keeps the others", () => {
      const decoded = decodeNotification(
        body({
          Records: [
            s3Record("ObjectRemoved:Delete", "iplogs/old.csv.gz"),
            s3Record("ObjectCreated:Put", KEY),
            s3Record("ObjectRemoved:DeleteMarkerCreated", "iplogs/old2.csv.gz"),
          ],
        }),
      );

      const { objects, ignored } = objectsOf(decoded);
      assert.deepEqual(
        objects.map((ref) => ref.key),
        [KEY],
      );
      assert.deepEqual(ignored, [
        { reason: "object-removed", detail: "ObjectRemoved:Delete" },
        { reason: "object-removed", detail: "ObjectRemoved:DeleteMarkerCreated" },
      ]);
    });

    void test("ignores other events, and records without an event name", () => {
      const withoutName = s3Record("", KEY) as Record<string, unknown>;
      delete withoutName["eventName"];
      const decoded = decodeNotification(
        body({
          Records: [
            s3Record("ObjectRestore:Completed", KEY),
            s3Record("LifecycleExpiration:Delete", KEY),
            withoutName,
          ],
        }),
      );

      const { objects, ignored } = objectsOf(decoded);
      assert.deepEqual(objects, []);
      assert.deepEqual(ignored, [
        { reason: "other-event", detail: "ObjectRestore:Completed" },
        { reason: "other-event", detail: "LifecycleExpiration:Delete" },
        { reason: "other-event", detail: "no eventName" },
      ]);
    });

    void test("sets aside records missing the bucket or the key, and records that are not objects", () => {
      const noBucket = {
        eventName: "ObjectCreated:Put",
        s3: { object: { key: KEY } },
      };
      const emptyBucket = {
        eventName: "ObjectCreated:Put",
        s3: { bucket: { name: "" }, object: { key: KEY } },
      };
      const noKey = {
        eventName: "ObjectCreated:Put",
        s3: { bucket: { name: "umbrella-logs" }, object: { size: 3 } },
      };
      const numericKey = {
        eventName: "ObjectCreated:Put",
        s3: { bucket: { name: "umbrella-logs" }, object: { key: 42 } },
      };
      const noS3 = { eventName: "ObjectCreated:Put" };
      const decoded = decodeNotification(
        body({ Records: [noBucket, emptyBucket, noKey, numericKey, noS3, "text", null, [1]] }),
      );

      const { objects, ignored } = objectsOf(decoded);
      assert.deepEqual(objects, []);
      assert.deepEqual(
        ignored.map((item) => item.reason),
        Array(8).fill("incomplete-record"),
      );
      assert.equal(ignored[0]?.detail, "ObjectCreated:Put without bucket name or key");
      assert.equal(ignored[5]?.detail, "a record is a string");
      assert.equal(ignored[6]?.detail, "a record is null");
      assert.equal(ignored[7]?.detail, "a record is a list");
    });

    void test("leaves out size, ETag, sequencer and time when they are absent or unreadable", () => {
      const record = s3Record("ObjectCreated:Put", KEY, {
        size: "12",
        eTag: "",
        sequencer: 5,
      }) as Record<string, unknown>;
      record["eventTime"] = "yesterday";

      const { objects } = objectsOf(decodeNotification(body({ Records: [record] })));

      assert.equal(objects.length, 1);
      assert.equal(objects[0]?.size, undefined);
      assert.equal(objects[0]?.etag, undefined);
      assert.equal(objects[0]?.sequencer, undefined);
      assert.equal(objects[0]?.eventTime, undefined);
    });

    void test("decodes the form-encoded key of a record", () => {
      const { objects } = objectsOf(
        decodeNotification(
          body({
            Records: [s3Record("ObjectCreated:Put", "my+prefix/a%2Bb%20c/caf%C3%A9.csv.gz")],
          }),
        ),
      );

      assert.equal(objects[0]?.key, "my prefix/a+b c/café.csv.gz");
    });

    void test("returns an empty list for an empty Records list", () => {
      assert.deepEqual(decodeNotification(body({ Records: [] })), {
        kind: "objects",
        objects: [],
        ignored: [],
      });
    });

    void test("reports Records that is not a list", () => {
      for (const [records, what] of [
        [{}, "an object"],
        ["x", "a string"],
        [null, "null"],
        [3, "a number"],
      ] as const) {
        const text = body({ Records: records });
        const result = notANotification(decodeNotification(text));
        assert.equal(result.reason, `"Records" is ${what}, not a list`);
        assert.equal(result.excerpt, text);
      }
    });
  });

  void test("recognises the s3:TestEvent sent when a notification is configured", () => {
    const decoded = decodeNotification(
      body({
        Service: "Amazon S3",
        Event: "s3:TestEvent",
        Time: EVENT_TIME,
        Bucket: "umbrella-logs",
        RequestId: "5582815E1AEA5ADF",
        HostId: "8cLeGAmw098X5cv4Zkwcmo8vvZa3eH3eKxsPzbB9wrR+YstdA6Knx4Ip8EXAMPLE",
      }),
    );

    assert.deepEqual(decoded, { kind: "test-event" });
  });

  void describe("SNS envelopes", () => {
    void test("decodes the S3 records carried in the Message string, keys decoded", () => {
      const message = body({
        Records: [
          s3Record("ObjectCreated:Put", "a+b/x%2By.csv.gz"),
          s3Record("ObjectRemoved:Delete", KEY),
        ],
      });

      const { objects, ignored } = objectsOf(decodeNotification(snsEnvelope(message)));

      assert.equal(objects.length, 1);
      assert.equal(objects[0]?.key, "a b/x+y.csv.gz");
      assert.equal(objects[0]?.source, "sns");
      assert.equal(objects[0]?.bucket, "umbrella-logs");
      assert.deepEqual(ignored, [{ reason: "object-removed", detail: "ObjectRemoved:Delete" }]);
    });

    void test("recognises an s3:TestEvent inside an SNS envelope", () => {
      const message = body({ Service: "Amazon S3", Event: "s3:TestEvent" });

      assert.deepEqual(decodeNotification(snsEnvelope(message)), { kind: "test-event" });
    });

    void test("reports an envelope whose Message is not JSON, quoting the start of the body", () => {
      const text = snsEnvelope("hello, this is plain text");

      const result = notANotification(decodeNotification(text));

      assert.equal(result.reason, "the SNS envelope's Message is not JSON");
      assert.equal(result.excerpt, `${text.slice(0, 200)}...`);
    });

    void test("reports an envelope whose Message is JSON but no notification", () => {
      const result = notANotification(decodeNotification(snsEnvelope(body({ hello: "world" }))));

      assert.match(result.reason, /^the SNS envelope carries no S3 notification: /);
      assert.match(result.reason, /not an S3, SNS or EventBridge notification/);
    });

    void test("reports an envelope whose Message is a JSON list", () => {
      const result = notANotification(decodeNotification(snsEnvelope("[1,2]")));

      assert.equal(
        result.reason,
        "the SNS envelope carries no S3 notification: the message body is JSON a list, not an object",
      );
    });

    void test("does not unwrap an SNS envelope nested inside another", () => {
      const inner = snsEnvelope(body({ Records: [s3Record("ObjectCreated:Put", KEY)] }));

      const result = notANotification(decodeNotification(snsEnvelope(inner)));

      assert.match(result.reason, /^the SNS envelope carries no S3 notification/);
    });
  });

  void describe("EventBridge events", () => {
    void test("decodes an Object Created event, its key taken as it is", () => {
      const decoded = decodeNotification(
        eventBridge("Object Created", {
          version: "0",
          bucket: { name: "umbrella-logs" },
          object: {
            key: "iplogs/a b+c.csv.gz",
            size: 99,
            etag: "d41d8cd98f00b204e9800998ecf8427e",
            sequencer: "00617F08299329D189",
            "version-id": "abc",
          },
          reason: "PutObject",
        }),
      );

      assert.deepEqual(objectsOf(decoded), {
        kind: "objects",
        objects: [
          {
            bucket: "umbrella-logs",
            key: "iplogs/a b+c.csv.gz",
            size: 99,
            etag: "d41d8cd98f00b204e9800998ecf8427e",
            sequencer: "00617F08299329D189",
            versionId: "abc",
            eventTime: Date.parse(EVENT_TIME),
            source: "eventbridge",
          },
        ],
        ignored: [],
      });
    });

    void test("ignores an Object Deleted event as a removal", () => {
      const decoded = decodeNotification(
        eventBridge("Object Deleted", { bucket: { name: "umbrella-logs" }, object: { key: KEY } }),
      );

      assert.deepEqual(objectsOf(decoded), {
        kind: "objects",
        objects: [],
        ignored: [{ reason: "object-removed", detail: "Object Deleted" }],
      });
    });

    void test("ignores other S3 EventBridge events", () => {
      const decoded = decodeNotification(
        eventBridge("Object Restore Completed", {
          bucket: { name: "umbrella-logs" },
          object: { key: KEY },
        }),
      );

      assert.deepEqual(objectsOf(decoded).ignored, [
        { reason: "other-event", detail: "Object Restore Completed" },
      ]);
    });

    void test("reports an Object Created event without bucket or key", () => {
      const result = notANotification(
        decodeNotification(eventBridge("Object Created", { bucket: { name: "umbrella-logs" } })),
      );

      assert.equal(result.reason, "the EventBridge event has no bucket name or object key");
    });
  });

  void describe("bodies that are no notification", () => {
    void test("reports an empty or blank body", () => {
      for (const text of [undefined, "", "   \n"]) {
        const result = notANotification(decodeNotification(text));
        assert.equal(result.reason, "the message body is empty");
        assert.equal(result.excerpt, text ?? "");
      }
    });

    void test("reports a body that is not JSON", () => {
      const result = notANotification(decodeNotification("Records: none"));

      assert.equal(result.reason, "the message body is not JSON");
      assert.equal(result.excerpt, "Records: none");
    });

    void test("reports JSON that is not an object, naming its type", () => {
      for (const [text, what] of [
        ["[1,2]", "a list"],
        ["42", "a number"],
        ['"Records"', "a string"],
        ["null", "null"],
        ["true", "a boolean"],
      ] as const) {
        const result = notANotification(decodeNotification(text));
        assert.equal(result.reason, `the message body is JSON ${what}, not an object`, text);
      }
    });

    void test("reports a JSON object of another shape", () => {
      const result = notANotification(decodeNotification(body({ hello: "world" })));

      assert.equal(result.reason, "the JSON object is not an S3, SNS or EventBridge notification");
    });

    void test("cuts the excerpt at 200 characters", () => {
      const long = `not json ${"x".repeat(500)}`;

      const result = notANotification(decodeNotification(long));

      assert.equal(result.excerpt, `${long.slice(0, 200)}...`);
    });

    void test("keeps a body of exactly 200 characters whole", () => {
      const exact = `{${"y".repeat(199)}`;

      assert.equal(notANotification(decodeNotification(exact)).excerpt, exact);
    });
  });
});

void describe("decodeS3Key", () => {
  void test("turns + into a space", () => {
    assert.equal(decodeS3Key("my+prefix/iplogs/a+b.csv.gz"), "my prefix/iplogs/a b.csv.gz");
  });

  void test("turns %2B into a plus sign", () => {
    assert.equal(decodeS3Key("c%2B%2B/x%2by"), "c++/x+y");
  });

  void test("turns %20 into a space", () => {
    assert.equal(decodeS3Key("a%20b"), "a b");
  });

  void test("decodes UTF-8 percent escapes", () => {
    assert.equal(decodeS3Key("caf%C3%A9/%E2%82%AC"), "café/€");
  });

  void test("leaves a plain key and its slashes unchanged", () => {
    assert.equal(decodeS3Key(KEY), KEY);
  });

  void test("returns a key with a malformed escape with only + replaced", () => {
    assert.equal(decodeS3Key("a+b/%E0%A4%A"), "a b/%E0%A4%A");
    assert.equal(decodeS3Key("100%+sure"), "100% sure");
  });
});
