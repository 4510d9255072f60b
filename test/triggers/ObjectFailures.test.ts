import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { gzipSync } from "node:zlib";
import { afterEach, beforeEach, describe, test } from "node:test";

import { TriggerHarness } from "../support/TriggerHarness.js";
import { umbrellaIpLines, umbrellaObject } from "../support/UmbrellaLines.js";

describe("objects that cannot be read", () => {
  let harness: TriggerHarness;

  beforeEach(async () => {
    harness = await new TriggerHarness().start();
  });
  afterEach(async () => {
    await harness.stop();
  });

  test("a missing object is logged with its bucket and key, counted, and its message deleted", async () => {
    const lines = umbrellaIpLines(10, "present");
    await harness.putObject("iplogs/present.csv.gz", umbrellaObject(lines));
    const messageId = await harness.notify([
      "iplogs/deleted-before-read.csv.gz",
      "iplogs/present.csv.gz",
    ]);
    const trigger = harness.startTrigger();

    await harness.emulator.server.spy.waitForMessageWithId(messageId, "consumed", 15_000);

    const warning = await trigger.waitForLog(
      (log) => log["key"] === "iplogs/deleted-before-read.csv.gz",
    );
    assert.equal(warning.level, "warning");
    assert.equal(warning["bucket"], "umbrella-logs");
    assert.equal(warning["messageId"], messageId);
    assert.match(warning.message, /no longer exists/);
    assert.equal(await trigger.metric("umbrella_s3_objects_total", { outcome: "missing" }), 1);
    assert.deepEqual(harness.intake.events, lines);
  });

  test("a damaged gzip forwards the lines before the damage and reports the offset", async () => {
    const good = umbrellaIpLines(4000, "before-damage");
    const first = gzipSync(Buffer.from(good.map((line) => `${line}\n`).join("")));
    const second = Buffer.from(umbrellaObject(umbrellaIpLines(4000, "after-damage")));
    second.fill(0x55, 200, 260);
    await harness.putObject("iplogs/damaged.csv.gz", Buffer.concat([first, second]));
    const messageId = await harness.notify(["iplogs/damaged.csv.gz"]);
    const trigger = harness.startTrigger();

    await harness.emulator.server.spy.waitForMessageWithId(messageId, "consumed", 15_000);

    const error = await trigger.waitForLog((log) => log.message.startsWith("damaged object"));
    assert.equal(error.level, "error");
    assert.equal(error["key"], "iplogs/damaged.csv.gz");
    assert.ok(
      Number(error["storedOffset"]) > first.length,
      `offset ${String(error["storedOffset"])}`,
    );
    assert.match(String(error["reason"]), /near stored byte \d+/);
    assert.deepEqual(harness.intake.events.slice(0, good.length), good);
    assert.ok(!harness.intake.events.some((line) => line.includes("after-damage-3999")));
    assert.equal(await trigger.metric("umbrella_s3_objects_total", { outcome: "corrupt" }), 1);
  });

  test("bytes after a complete gzip stream lose none of its lines", async () => {
    const lines = umbrellaIpLines(5000, "trailing");
    await harness.putObject(
      "iplogs/trailing.csv.gz",
      Buffer.concat([umbrellaObject(lines), Buffer.from("GARBAGE")]),
    );
    const messageId = await harness.notify(["iplogs/trailing.csv.gz"]);
    const trigger = harness.startTrigger();

    await harness.emulator.server.spy.waitForMessageWithId(messageId, "consumed", 15_000);

    assert.deepEqual(harness.intake.events, lines);
    await trigger.waitForLog((log) => log.message.startsWith("damaged object"));
  });

  test("keeps memory bounded on a gzip bomb while the intake does not answer", async () => {
    const bomb = gzipSync(Buffer.alloc(256 * 1024 * 1024, "a\n"), { level: 9 });
    await harness.putObject("iplogs/bomb.csv.gz", bomb);
    harness.intake.behave = () => ({ hang: true });
    await harness.notify(["iplogs/bomb.csv.gz"]);
    const trigger = harness.startTrigger({ trigger: { intake_timeout_seconds: 300 } });

    await harness.intake.waitForRequests(4, 20_000);
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    const status = readFileSync(`/proc/${trigger.child.pid}/status`, "utf8");
    const peakMegabytes = Number(/VmHWM:\s+(\d+) kB/.exec(status)?.[1]) / 1024;

    assert.ok(peakMegabytes < 200, `peak RSS ${peakMegabytes.toFixed(0)} MB`);
    assert.equal(harness.intake.requests.length, 4, "no request beyond the concurrency limit");
  });

  test("a truncated gzip forwards every complete line before the cut", async () => {
    const lines = umbrellaIpLines(3000, "truncated");
    const whole = umbrellaObject(lines);
    await harness.putObject(
      "iplogs/truncated.csv.gz",
      whole.subarray(0, Math.floor(whole.length * 0.8)),
    );
    const messageId = await harness.notify(["iplogs/truncated.csv.gz"]);
    const trigger = harness.startTrigger();

    await harness.emulator.server.spy.waitForMessageWithId(messageId, "consumed", 15_000);

    const events = harness.intake.events;
    assert.ok(events.length > 1000 && events.length < lines.length, `${events.length} lines`);
    assert.deepEqual(events, lines.slice(0, events.length));
    const error = await trigger.waitForLog((log) => log.message.startsWith("damaged object"));
    assert.match(String(error["reason"]), /Z_BUF_ERROR/);
  });

  test("drops a line over the intake's event size, logs it once and counts it", async () => {
    const lines = umbrellaIpLines(3, "oversized");
    const huge = `"2024-05-01 10:20:30","${"x".repeat(300_000)}"`;
    await harness.putObject(
      "iplogs/oversized.csv.gz",
      umbrellaObject([lines[0] ?? "", huge, lines[1] ?? "", lines[2] ?? ""]),
    );
    const messageId = await harness.notify(["iplogs/oversized.csv.gz"]);
    const trigger = harness.startTrigger();

    await harness.emulator.server.spy.waitForMessageWithId(messageId, "consumed", 15_000);

    assert.deepEqual(harness.intake.events, lines);
    const warning = await trigger.waitForLog((log) =>
      log.message.startsWith("line over the intake"),
    );
    assert.equal(warning["key"], "iplogs/oversized.csv.gz");
    assert.equal(warning["length"], huge.length);
    assert.equal(
      await trigger.metric("symphony_module_common_discarded_events_total", {
        reason: "oversized",
      }),
      1,
    );
  });
});
