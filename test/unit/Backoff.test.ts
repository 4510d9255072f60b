import assert from "node:assert/strict";
import { describe, test } from "node:test";

import { Backoff, sleep } from "../../lib/runtime/Backoff.js";

function activeTimers(): number {
  return process.getActiveResourcesInfo().filter((kind) => kind === "Timeout").length;
}

void describe("Backoff", () => {
  void test("doubles the delay from the initial value up to the maximum", () => {
    const highest = new Backoff({ initialDelayMs: 100, maxDelayMs: 1_000, random: () => 1 });
    const lowest = new Backoff({ initialDelayMs: 100, maxDelayMs: 1_000, random: () => 0 });

    const high = Array.from({ length: 7 }, () => highest.next());
    const low = Array.from({ length: 7 }, () => lowest.next());

    assert.deepEqual(high, [100, 200, 400, 800, 1_000, 1_000, 1_000]);
    assert.deepEqual(low, [50, 100, 200, 400, 500, 500, 500]);
  });

  void test("keeps every delay between half and all of the exponential value", () => {
    const backoff = new Backoff({ initialDelayMs: 10, maxDelayMs: 5_000 });
    for (let attempt = 0; attempt < 40; attempt += 1) {
      const ceiling = Math.min(5_000, 10 * 2 ** attempt);

      const delay = backoff.next();

      assert.ok(delay >= ceiling / 2 && delay <= ceiling, `attempt ${attempt}: ${delay}`);
    }
  });

  void test("uses the given factor", () => {
    const backoff = new Backoff({
      initialDelayMs: 10,
      maxDelayMs: 10_000,
      factor: 3,
      random: () => 1,
    });

    assert.deepEqual([backoff.next(), backoff.next(), backoff.next()], [10, 30, 90]);
  });

  void test("counts the delays handed out and starts over after reset", () => {
    const backoff = new Backoff({ initialDelayMs: 100, maxDelayMs: 1_000, random: () => 1 });
    backoff.next();
    backoff.next();

    assert.equal(backoff.attempts, 2);
    backoff.reset();
    assert.equal(backoff.attempts, 0);
    assert.equal(backoff.next(), 100);
  });
});

void describe("sleep", () => {
  void test("waits the given time", async () => {
    const started = performance.now();

    await sleep(50);

    assert.ok(performance.now() - started >= 49);
  });

  void test("resolves at once, clearing its timer, when the signal aborts", async () => {
    const controller = new AbortController();
    const before = activeTimers();
    const started = performance.now();

    const sleeping = sleep(60_000, controller.signal);
    assert.equal(activeTimers(), before + 1);
    setImmediate(() => controller.abort());
    await sleeping;

    assert.ok(performance.now() - started < 1_000);
    assert.equal(activeTimers(), before);
  });

  void test("resolves at once for an aborted signal or a delay of zero or less", async () => {
    const before = activeTimers();

    await sleep(60_000, AbortSignal.abort());
    await sleep(0);
    await sleep(-5);

    assert.equal(activeTimers(), before);
  });
});
