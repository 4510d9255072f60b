import assert from "node:assert/strict";
import { afterEach, beforeEach, describe, test } from "node:test";

import { TriggerHarness } from "../support/TriggerHarness.js";
import { umbrellaIpLines, umbrellaObject } from "../support/UmbrellaLines.js";

/** Counts each line; returns the lines seen more than once and those never seen. */
function compare(
  expected: readonly string[],
  received: readonly string[],
): { missing: number; duplicates: number } {
  const counts = new Map<string, number>();
  for (const line of received) {
    counts.set(line, (counts.get(line) ?? 0) + 1);
  }
  let missing = 0;
  let duplicates = 0;
  for (const line of expected) {
    const count = counts.get(line) ?? 0;
    missing += count === 0 ? 1 : 0;
    duplicates += Math.max(0, count - 1);
  }

  return { missing, duplicates };
}

describe("delivery guarantees", () => {
  let harness: TriggerHarness;

  beforeEach(async () => {
    harness = await new TriggerHarness().start();
  });
  afterEach(async () => {
    await harness.stop();
  });

  test("keeps extending the visibility of a message held longer than its timeout", async () => {
    const lines = umbrellaIpLines(30, "slow");
    await harness.putObject("iplogs/slow.csv.gz", umbrellaObject(lines));
    harness.intake.behave = ({ attempt }) => (attempt === 1 ? { delayMs: 16_000 } : undefined);
    const messageId = await harness.notify(["iplogs/slow.csv.gz"]);
    const trigger = harness.startTrigger({ trigger: { visibility_timeout_seconds: 10 } });

    await harness.emulator.server.spy.waitForMessageWithId(messageId, "consumed", 40_000);

    assert.deepEqual(harness.intake.events, lines);
    assert.equal(harness.intake.requests.length, 1);
    assert.ok((await trigger.metric("umbrella_s3_visibility_extensions_total")) >= 1);
    assert.equal(await trigger.metric("umbrella_s3_messages_received_total"), 1);
  });

  test("skips a second notification of the same object version", async () => {
    const lines = umbrellaIpLines(20, "dup");
    const etag = await harness.putObject("iplogs/dup.csv.gz", umbrellaObject(lines));
    const first = await harness.notify(["iplogs/dup.csv.gz"], { etags: [etag] });
    const trigger = harness.startTrigger();
    await harness.emulator.server.spy.waitForMessageWithId(first, "consumed", 15_000);

    const second = await harness.notify(["iplogs/dup.csv.gz"], { etags: [etag] });
    await harness.emulator.server.spy.waitForMessageWithId(second, "consumed", 15_000);

    assert.deepEqual(harness.intake.events, lines);
    assert.equal(await trigger.metric("umbrella_s3_duplicate_notifications_total"), 1);
    await trigger.waitForLog(
      (log) => log.message === "duplicate notification skipped" && log["messageId"] === second,
    );
  });

  test("on SIGTERM finishes the object in flight within the grace period, then exits 0", async () => {
    const lines = umbrellaIpLines(30, "grace");
    await harness.putObject("iplogs/grace.csv.gz", umbrellaObject(lines));
    harness.intake.behave = () => ({ delayMs: 1_500 });
    const messageId = await harness.notify(["iplogs/grace.csv.gz"]);
    const trigger = harness.startTrigger({ trigger: { shutdown_grace_seconds: 10 } });
    await trigger.waitForLog((log) => log.message === "collecting");
    await new Promise<void>((resolve) => {
      harness.intake.behave = () => {
        resolve();

        return { delayMs: 1_500 };
      };
    });

    const code = await trigger.stop();

    assert.equal(code, 0);
    assert.deepEqual(harness.intake.events, lines);
    assert.ok(
      harness.emulator.server.spy.checkForMessage({ service: "sqs", messageId }, "consumed"),
    );
  });

  test("on SIGTERM hands back at once what cannot finish, and another process delivers it", async () => {
    const lines = umbrellaIpLines(30, "handback");
    await harness.putObject("iplogs/handback.csv.gz", umbrellaObject(lines));
    let hanging = true;
    let arrived: () => void = () => undefined;
    const requestArrived = new Promise<void>((resolve) => {
      arrived = resolve;
    });
    harness.intake.behave = () => {
      arrived();

      return hanging ? { hang: true } : undefined;
    };
    const messageId = await harness.notify(["iplogs/handback.csv.gz"]);
    const first = harness.startTrigger({
      trigger: { shutdown_grace_seconds: 1, visibility_timeout_seconds: 600 },
    });
    await requestArrived;

    assert.equal(await first.stop(), 0);
    const released = await first.waitForLog((log) => log.message === "message released");
    assert.equal(released["reason"], "shutdown");
    assert.equal(released["retryInSeconds"], 0);
    hanging = false;
    harness.startTrigger();

    await harness.emulator.server.spy.waitForMessageWithId(messageId, "consumed", 15_000);
    assert.deepEqual(harness.intake.events, lines);
  });

  test("after SIGKILL and a restart every line is delivered; duplicates only from the object in flight", async () => {
    const inFlight = umbrellaIpLines(12_000, "killed");
    const waiting = umbrellaIpLines(500, "waiting");
    await harness.putObject("iplogs/killed.csv.gz", umbrellaObject(inFlight));
    await harness.putObject("iplogs/waiting.csv.gz", umbrellaObject(waiting));
    let killedAt = -1;
    const first = harness.startTrigger({
      trigger: {
        visibility_timeout_seconds: 10,
        max_concurrent_objects: 1,
        intake_batch_max_bytes: 262_144,
      },
    });
    harness.intake.behave = ({ attempt }) => {
      if (attempt === 3 && killedAt === -1) {
        killedAt = harness.intake.events.length;
        first.child.kill("SIGKILL");

        return { hang: true };
      }

      return undefined;
    };
    await harness.notify(["iplogs/killed.csv.gz"]);
    await first.exited;
    await harness.notify(["iplogs/waiting.csv.gz"]);

    const second = harness.startTrigger({ trigger: { visibility_timeout_seconds: 10 } });
    // Requests the first process sent just before it died may still be arriving; the second
    // process gets the killed message only after its 10 s visibility timeout.
    await second.waitForLog((log) => log.message === "collecting");
    const killedLines = new Set(inFlight);
    const acceptedBeforeKill = harness.intake.events.filter((line) => killedLines.has(line)).length;
    await harness.intake.waitForEvents(inFlight.length + waiting.length, 40_000);
    await harness.waitForEmptyQueue(40_000);

    const received = harness.intake.events;
    const killed = compare(inFlight, received);
    assert.ok(killedAt > 0 && acceptedBeforeKill >= killedAt);
    assert.equal(killed.missing, 0);
    assert.ok(killed.duplicates <= acceptedBeforeKill, `${killed.duplicates} duplicates`);
    assert.deepEqual(compare(waiting, received), { missing: 0, duplicates: 0 });
    assert.equal(received.length, inFlight.length + waiting.length + killed.duplicates);
  });

  test("two processes sharing the queue deliver every line exactly once", async () => {
    const expected: string[] = [];
    const keys: string[] = [];
    for (let index = 0; index < 30; index += 1) {
      const lines = umbrellaIpLines(200, `shared-${index}`, index + 1);
      const key = `iplogs/2024-05-01/shared-${index}.csv.gz`;
      await harness.putObject(key, umbrellaObject(lines));
      expected.push(...lines);
      keys.push(key);
    }
    const one = harness.startTrigger({ trigger: { max_concurrent_objects: 2 } });
    const two = harness.startTrigger({ trigger: { max_concurrent_objects: 2 } });
    await Promise.all(
      [one, two].map((process) => process.waitForLog((log) => log.message === "collecting")),
    );
    for (const key of keys) {
      await harness.notify([key]);
    }

    await harness.intake.waitForEvents(expected.length, 40_000);
    await Promise.all([one.stop(), two.stop()]);

    assert.deepEqual(compare(expected, harness.intake.events), { missing: 0, duplicates: 0 });
    assert.equal(harness.intake.events.length, expected.length);
    const delivered = (process: typeof one): number =>
      process.logs.filter((log) => log.message === "object delivered").length;
    assert.equal(delivered(one) + delivered(two), keys.length);
    assert.ok(delivered(one) > 0 && delivered(two) > 0, "both processes took part");
    assert.deepEqual(harness.queueDepth(), { ready: 0, inflight: 0, delayed: 0 });
  });
});
