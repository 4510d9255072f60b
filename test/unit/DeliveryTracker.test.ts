import assert from "node:assert/strict";
import { describe, test } from "node:test";

import { promiseState, tracker } from "../support/TestHelpers.js";

void describe("DeliveryTracker", () => {
  void test("is delivered once reading is over and every event was confirmed", async () => {
    const owner = tracker();
    owner.eventAdded();
    owner.eventAdded();
    owner.eventAdded();
    owner.confirm(2);
    owner.finishReading();

    assert.equal(await promiseState(owner.delivered), "pending");
    owner.confirm(1);
    assert.equal(await promiseState(owner.delivered), "resolved");
    assert.equal(owner.eventsAdded, 3);
    assert.equal(owner.eventsConfirmed, 3);
  });

  void test("is not delivered before reading is over, even with every event confirmed", async () => {
    const owner = tracker();
    owner.eventAdded();
    owner.confirm(1);

    assert.equal(await promiseState(owner.delivered), "pending");
    owner.finishReading();
    assert.equal(await promiseState(owner.delivered), "resolved");
  });

  void test("is delivered at once for an object without events", async () => {
    const owner = tracker();

    owner.finishReading();

    assert.equal(await promiseState(owner.delivered), "resolved");
  });

  void test("fails on the first failure and keeps that error", async () => {
    const owner = tracker();
    owner.eventAdded();
    const first = new Error("first");

    owner.fail(first);
    owner.fail(new Error("second"));
    owner.confirm(1);
    owner.finishReading();

    await assert.rejects(owner.delivered, (error: unknown) => error === first);
    assert.equal(owner.failed, true);
  });

  void test("fails with a generic error when given none", async () => {
    const owner = tracker();

    owner.fail(undefined);

    await assert.rejects(owner.delivered, /delivery failed/);
  });

  void test("ignores a failure after delivery", async () => {
    const owner = tracker();
    owner.finishReading();

    owner.fail(new Error("late"));

    assert.equal(await promiseState(owner.delivered), "resolved");
    assert.equal(owner.failed, false);
  });

  void test("a failure nobody awaits is no unhandled rejection", async () => {
    const unhandled: unknown[] = [];
    const listener = (reason: unknown): void => {
      unhandled.push(reason);
    };
    process.on("unhandledRejection", listener);
    try {
      tracker().fail(new Error("nobody listens"));
      await new Promise((resolve) => setImmediate(resolve));
      await new Promise((resolve) => setImmediate(resolve));
    } finally {
      process.off("unhandledRejection", listener);
    }

    assert.deepEqual(unhandled, []);
  });
});
