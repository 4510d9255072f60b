import assert from "node:assert/strict";
import { afterEach, beforeEach, describe, test } from "node:test";

import { TriggerHarness, TEST_INTAKE_KEY } from "../support/TriggerHarness.js";
import { umbrellaIpLines, umbrellaObject } from "../support/UmbrellaLines.js";

describe("intake failures", () => {
  let harness: TriggerHarness;

  beforeEach(async () => {
    harness = await new TriggerHarness().start();
  });
  afterEach(async () => {
    await harness.stop();
  });

  test("retries after a 500, delivers, and deletes the message only afterwards", async () => {
    const lines = umbrellaIpLines(100, "500");
    await harness.putObject("iplogs/a.csv.gz", umbrellaObject(lines));
    let deletedBeforeAcceptance = false;
    harness.intake.behave = ({ attempt }) => {
      if (harness.emulator.server.spy.checkForMessage({ service: "sqs" }, "consumed")) {
        deletedBeforeAcceptance = true;
      }

      return attempt === 1 ? { status: 500, body: "boom" } : undefined;
    };
    const messageId = await harness.notify(["iplogs/a.csv.gz"]);
    const trigger = harness.startTrigger();

    await harness.emulator.server.spy.waitForMessageWithId(messageId, "consumed", 20_000);

    assert.equal(deletedBeforeAcceptance, false);
    assert.deepEqual(
      harness.intake.requests.map((request) => request.status),
      [500, 200],
    );
    assert.deepEqual(harness.intake.events, lines);
    const retry = await trigger.waitForLog(
      (log) => log.message === "intake request failed, retrying",
    );
    assert.match(String(retry["reason"]), /HTTP 500/);
  });

  test("keeps the message while the intake is down and delivers once it is back", async () => {
    const lines = umbrellaIpLines(50, "down");
    await harness.putObject("iplogs/b.csv.gz", umbrellaObject(lines));
    harness.intake.behave = () => ({ destroy: true });
    const messageId = await harness.notify(["iplogs/b.csv.gz"]);
    const trigger = harness.startTrigger({ trigger: { visibility_timeout_seconds: 10 } });

    await trigger.waitForLog((log) => log.message === "intake request failed, retrying");
    await trigger.waitForLog(
      (log) => log.message === "intake request failed, retrying" && log["attempt"] === 2,
    );
    assert.equal(
      harness.emulator.server.spy.checkForMessage({ service: "sqs", messageId }, "consumed"),
      undefined,
    );
    assert.equal(harness.queueDepth().inflight, 1);
    harness.intake.behave = () => undefined;

    await harness.emulator.server.spy.waitForMessageWithId(messageId, "consumed", 30_000);
    assert.deepEqual(harness.intake.events, lines);
  });

  test("holds the message through a long intake outage, reports it once, and never hands it back", async () => {
    const lines = umbrellaIpLines(20, "outage");
    await harness.putObject("iplogs/c.csv.gz", umbrellaObject(lines));
    let failing = true;
    harness.intake.behave = () => (failing ? { status: 503 } : undefined);
    const messageId = await harness.notify(["iplogs/c.csv.gz"]);
    const trigger = harness.startTrigger({
      trigger: { intake_failures_before_error: 2, visibility_timeout_seconds: 10 },
    });

    const error = await trigger.waitForLog((log) =>
      log.message.startsWith("the intake keeps failing"),
    );
    assert.equal(error.level, "error");
    failing = false;

    await harness.emulator.server.spy.waitForMessageWithId(messageId, "consumed", 30_000);
    assert.deepEqual(harness.intake.events, lines);
    assert.equal(trigger.logs.filter((log) => log.message === "message released").length, 0);
    assert.equal(await trigger.metric("umbrella_s3_messages_received_total"), 1);
  });

  test("drops nothing when the intake refuses every event, and keeps the message", async () => {
    const lines = umbrellaIpLines(6, "refused");
    await harness.putObject("iplogs/refused.csv.gz", umbrellaObject(lines));
    let refusing = true;
    harness.intake.behave = () => (refusing ? { status: 400, body: "bad request" } : undefined);
    const messageId = await harness.notify(["iplogs/refused.csv.gz"]);
    const trigger = harness.startTrigger({ trigger: { retry_delay_seconds: 1 } });

    const released = await trigger.waitForLog((log) => log.message === "message released");
    refusing = false;
    await harness.emulator.server.spy.waitForMessageWithId(messageId, "consumed", 30_000);

    assert.equal(released["reason"], "retry");
    assert.deepEqual(harness.intake.events, lines);
    assert.equal(
      await trigger.metric("symphony_module_common_discarded_events_total", { reason: "refused" }),
      0,
    );
  });

  test("reports a refused intake key once, masked, and recovers when the intake accepts it", async () => {
    const lines = umbrellaIpLines(10, "401");
    await harness.putObject("iplogs/d.csv.gz", umbrellaObject(lines));
    harness.intake.behave = ({ attempt }) => (attempt <= 2 ? { status: 401 } : undefined);
    const messageId = await harness.notify(["iplogs/d.csv.gz"]);
    const trigger = harness.startTrigger();

    await harness.emulator.server.spy.waitForMessageWithId(messageId, "consumed", 30_000);

    const critical = trigger.logs.filter((log) => log.level === "critical");
    assert.equal(critical.length, 1);
    assert.equal(critical[0]?.["intakeKey"], "inta****");
    assert.equal(critical[0]?.["status"], 401);
    assert.ok(!JSON.stringify(trigger.logs).includes(TEST_INTAKE_KEY));
    await trigger.waitForLog((log) => log.message === "the intake accepts events again");
    assert.deepEqual(harness.intake.events, lines);
    const health = await trigger.health();
    assert.equal(
      health.status,
      500,
      "a critical error makes the trigger unhealthy until restarted",
    );
    assert.match(
      String(health.body["reason"]),
      /critical error: the intake refuses the intake key/,
    );
  });

  test("honours Retry-After on 429", async () => {
    const lines = umbrellaIpLines(10, "429");
    await harness.putObject("iplogs/e.csv.gz", umbrellaObject(lines));
    const times: number[] = [];
    harness.intake.behave = ({ attempt }) => {
      times.push(Date.now());

      return attempt === 1 ? { status: 429, headers: { "retry-after": "2" } } : undefined;
    };
    const messageId = await harness.notify(["iplogs/e.csv.gz"]);
    harness.startTrigger();

    await harness.emulator.server.spy.waitForMessageWithId(messageId, "consumed", 20_000);

    assert.equal(times.length, 2);
    assert.ok(
      (times[1] ?? 0) - (times[0] ?? 0) >= 1900,
      `retried after ${(times[1] ?? 0) - (times[0] ?? 0)} ms`,
    );
  });
});
