import assert from "node:assert/strict";
import { describe, test } from "node:test";

import { Semaphore } from "../../lib/s3queue/Semaphore.js";
import { promiseState } from "../support/TestHelpers.js";

void describe("Semaphore", () => {
  void test("grants up to `permits` holders at once and makes the next one wait", async () => {
    const semaphore = new Semaphore(2);

    await semaphore.acquire();
    await semaphore.acquire();
    const third = semaphore.acquire();

    assert.equal(semaphore.free, 0);
    assert.equal(await promiseState(third), "pending");
    semaphore.release();
    assert.equal(await promiseState(third), "resolved");
    assert.equal(semaphore.free, 0);
  });

  void test("serves waiters in arrival order", async () => {
    const semaphore = new Semaphore(1);
    await semaphore.acquire();
    const order: number[] = [];
    const waiters = [1, 2, 3].map((index) => semaphore.acquire().then(() => order.push(index)));

    semaphore.release();
    semaphore.release();
    semaphore.release();
    await Promise.all(waiters);

    assert.deepEqual(order, [1, 2, 3]);
  });

  void test("gives a released permit back when nobody waits", async () => {
    const semaphore = new Semaphore(3);
    await semaphore.acquire();

    semaphore.release();

    assert.equal(semaphore.free, 3);
  });

  void test("rejects a waiter whose signal aborts and passes its turn to the next", async () => {
    const semaphore = new Semaphore(1);
    await semaphore.acquire();
    const controller = new AbortController();
    const aborted = semaphore.acquire(controller.signal);
    const next = semaphore.acquire();

    controller.abort();
    await assert.rejects(aborted, /aborted/);
    semaphore.release();

    assert.equal(await promiseState(next), "resolved");
    semaphore.release();
    assert.equal(semaphore.free, 1, "the aborted waiter holds no permit");
  });

  void test("rejects at once, taking no permit, when the signal is already aborted", async () => {
    const semaphore = new Semaphore(1);

    await assert.rejects(semaphore.acquire(AbortSignal.abort()), /aborted/);

    assert.equal(semaphore.free, 1);
  });

  void test("ignores an abort after the permit was granted", async () => {
    const semaphore = new Semaphore(1);
    await semaphore.acquire();
    const controller = new AbortController();
    const waiting = semaphore.acquire(controller.signal);
    semaphore.release();
    await waiting;

    controller.abort();
    semaphore.release();

    assert.equal(semaphore.free, 1);
  });
});
