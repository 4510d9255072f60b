import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";

import { TriggerHarness, TEST_INTAKE_KEY, type TriggerProcess } from "../support/TriggerHarness.js";
import { umbrellaIpLines, umbrellaObject } from "../support/UmbrellaLines.js";

const HEADER =
  '"Timestamp","Identity","Source IP","Source Port","Destination IP","Destination Port","Categories","Identity Types"';

describe("Cisco Umbrella IP logs trigger, end to end", () => {
  const harness = new TriggerHarness();
  let trigger: TriggerProcess;

  before(async () => {
    await harness.start();
    trigger = harness.startTrigger();
  });
  after(async () => {
    await harness.stop();
  });

  /** Waits until the message is deleted, then returns the events that arrived since `from`. */
  async function delivered(messageId: string, from: number, count: number): Promise<string[]> {
    await harness.intake.waitForEvents(from + count);
    await harness.emulator.server.spy.waitForMessageWithId(messageId, "consumed", 15_000);

    return harness.intake.events.slice(from);
  }

  test("forwards every line of an object byte for byte, then deletes the message", async () => {
    const lines = umbrellaIpLines(5000, "basic");
    const key = "iplogs/2024-05-01/2024-05-01-10-20-a1b2.csv.gz";
    await harness.putObject(key, umbrellaObject(lines));
    const from = harness.intake.events.length;

    const events = await delivered(await harness.notify([key]), from, lines.length);

    assert.deepEqual([...events].sort(), [...lines].sort());
    assert.equal(events.length, lines.length);
    assert.ok(harness.intake.accepted.every((batch) => batch.intakeKey === TEST_INTAKE_KEY));
    const log = await trigger.waitForLog(
      (entry) => entry.message === "object delivered" && entry["key"] === key,
    );
    assert.equal(log["lines"], 5000);
    assert.equal(log["gzip"], true);
  });

  test("reads both objects of a message that announces two", async () => {
    const first = umbrellaIpLines(300, "two-a");
    const second = umbrellaIpLines(200, "two-b");
    await harness.putObject(
      "iplogs/2024-05-01/2024-05-01-10-30-aaaa.csv.gz",
      umbrellaObject(first),
    );
    await harness.putObject(
      "iplogs/2024-05-01/2024-05-01-10-30-bbbb.csv.gz",
      umbrellaObject(second),
    );
    const from = harness.intake.events.length;

    const messageId = await harness.notify([
      "iplogs/2024-05-01/2024-05-01-10-30-aaaa.csv.gz",
      "iplogs/2024-05-01/2024-05-01-10-30-bbbb.csv.gz",
    ]);
    const events = await delivered(messageId, from, 500);

    assert.deepEqual([...events].sort(), [...first, ...second].sort());
  });

  test("decodes keys with spaces and plus signs the way S3 encodes them", async () => {
    const lines = umbrellaIpLines(10, "keys");
    const key = "iplogs/my folder/2024-05-01 10+20 a+b.csv.gz";
    await harness.putObject(key, umbrellaObject(lines));
    const from = harness.intake.events.length;

    const messageId = await harness.sendBody(
      JSON.stringify({
        Records: [
          {
            eventName: "ObjectCreated:Put",
            s3: {
              bucket: { name: "umbrella-logs" },
              object: { key: "iplogs/my+folder/2024-05-01+10%2B20+a%2Bb.csv.gz", eTag: "k1" },
            },
          },
        ],
      }),
    );
    const events = await delivered(messageId, from, lines.length);

    assert.deepEqual(events, lines);
  });

  test("reads plain text objects as well as gzip ones", async () => {
    const lines = umbrellaIpLines(120, "plain");
    await harness.putObject("iplogs/2024-05-01/plain.csv", umbrellaObject(lines, false));
    const from = harness.intake.events.length;

    const events = await delivered(
      await harness.notify(["iplogs/2024-05-01/plain.csv"]),
      from,
      120,
    );

    assert.deepEqual(events, lines);
    const log = await trigger.waitForLog((entry) => entry["key"] === "iplogs/2024-05-01/plain.csv");
    assert.equal(log["gzip"], false);
  });

  test("handles CRLF, a byte-order mark, blank lines and the optional header row", async () => {
    const lines = umbrellaIpLines(3, "crlf");
    const text = `\uFEFF${HEADER}\r\n${lines[0]}\r\n\r\n${lines[1]}\r\n${lines[2]}`;
    await harness.putObject("iplogs/2024-05-01/crlf.csv.gz", umbrellaObject([text]));
    const from = harness.intake.events.length;

    const events = await delivered(
      await harness.notify(["iplogs/2024-05-01/crlf.csv.gz"]),
      from,
      3,
    );

    assert.deepEqual(events, lines);
  });

  test("deletes the message of an empty object without sending anything", async () => {
    await harness.putObject("iplogs/2024-05-01/empty.csv.gz", Buffer.alloc(0));
    const requests = harness.intake.requests.length;

    const messageId = await harness.notify(["iplogs/2024-05-01/empty.csv.gz"]);
    await harness.emulator.server.spy.waitForMessageWithId(messageId, "consumed", 15_000);

    assert.equal(harness.intake.requests.length, requests);
    const log = await trigger.waitForLog(
      (entry) => entry["key"] === "iplogs/2024-05-01/empty.csv.gz",
    );
    assert.equal(log["lines"], 0);
  });

  test("acknowledges the s3:TestEvent S3 sends when a notification is configured", async () => {
    const messageId = await harness.sendBody(
      JSON.stringify({ Service: "Amazon S3", Event: "s3:TestEvent", Bucket: "umbrella-logs" }),
    );

    await harness.emulator.server.spy.waitForMessageWithId(messageId, "consumed", 15_000);

    const log = await trigger.waitForLog((entry) => entry["messageId"] === messageId);
    assert.match(log.message, /test event/);
  });

  test("skips README_FROM_UMBRELLA.txt and keys outside the prefix, and deletes their messages", async () => {
    await harness.putObject("README_FROM_UMBRELLA.txt", Buffer.from("token: 42\n"));
    await harness.putObject("dnslogs/2024-05-01/dns.csv.gz", umbrellaObject(["not ip logs"]));
    const requests = harness.intake.requests.length;

    const messageId = await harness.notify([
      "README_FROM_UMBRELLA.txt",
      "dnslogs/2024-05-01/dns.csv.gz",
    ]);
    await harness.emulator.server.spy.waitForMessageWithId(messageId, "consumed", 15_000);

    assert.equal(harness.intake.requests.length, requests);
  });

  test("warns with the key_prefix to set when IP logs sit under another folder", async () => {
    const key = "1234567_0123456789abcdef0123456789abcdef01234567/iplogs/2024-05-01/x.csv.gz";
    await harness.putObject(key, umbrellaObject(umbrellaIpLines(3, "managed")));

    const messageId = await harness.notify([key]);
    await harness.emulator.server.spy.waitForMessageWithId(messageId, "consumed", 15_000);

    const warning = await trigger.waitForLog((log) => log["key"] === key);
    assert.equal(warning.level, "warning");
    assert.match(
      String(warning["reason"]),
      /set key_prefix to "1234567_0123456789abcdef0123456789abcdef01234567\/iplogs\/"/,
    );
  });

  test("warns when an object named .gz is not gzip, and reads it as text", async () => {
    const lines = umbrellaIpLines(4, "notgzip");
    await harness.putObject("iplogs/2024-05-01/not-gzip.csv.gz", umbrellaObject(lines, false));
    const from = harness.intake.events.length;

    const events = await delivered(
      await harness.notify(["iplogs/2024-05-01/not-gzip.csv.gz"]),
      from,
      4,
    );

    assert.deepEqual(events, lines);
    const warning = await trigger.waitForLog((log) =>
      log.message.startsWith("object named .gz is not gzip"),
    );
    assert.equal(warning["key"], "iplogs/2024-05-01/not-gzip.csv.gz");
  });

  test("stops on SIGTERM with exit code 0 and an empty queue", async () => {
    assert.deepEqual(harness.queueDepth(), { ready: 0, inflight: 0, delayed: 0 });

    const code = await trigger.stop();

    assert.equal(code, 0);
    await trigger.waitForLog((entry) => entry.message === "stop requested");
  });
});
