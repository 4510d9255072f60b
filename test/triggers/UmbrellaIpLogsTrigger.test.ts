import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";

import { TriggerHarness, TEST_INTAKE_KEY } from "../support/TriggerHarness.js";
import { umbrellaIpLines, umbrellaObject } from "../support/UmbrellaLines.js";

describe("Cisco Umbrella IP logs trigger, end to end", () => {
  const harness = new TriggerHarness();

  before(async () => {
    await harness.start();
  });
  after(async () => {
    await harness.stop();
  });

  test("forwards every line of an object byte for byte, then deletes the message", async () => {
    const lines = umbrellaIpLines(5000, "basic");
    await harness.putObject("iplogs/2024-05-01/2024-05-01-10-20-a1b2.csv.gz", umbrellaObject(lines));
    const messageId = await harness.notify(["iplogs/2024-05-01/2024-05-01-10-20-a1b2.csv.gz"]);
    const trigger = harness.startTrigger();

    await harness.intake.waitForEvents(lines.length);
    await harness.emulator.server.spy.waitForMessageWithId(messageId, "consumed", 10_000);

    assert.deepEqual(harness.intake.events, lines);
    assert.ok(harness.intake.accepted.every((batch) => batch.intakeKey === TEST_INTAKE_KEY));
    assert.deepEqual(harness.queueDepth(), { ready: 0, inflight: 0, delayed: 0 });
    assert.equal(await trigger.stop(), 0);
  });
});
