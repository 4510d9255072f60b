import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";

import { TEST_CREDENTIALS, TEST_REGION } from "../support/Emulator.js";
import { TriggerHarness } from "../support/TriggerHarness.js";

describe("configuration errors", () => {
  const harness = new TriggerHarness();

  before(async () => {
    await harness.start();
  });
  after(async () => {
    await harness.stop();
  });

  /** Runs the trigger with a configuration and returns its exit code and critical log. */
  async function failWith(options: Parameters<TriggerHarness["startTrigger"]>[0]): Promise<{
    code: number | null;
    message: string;
  }> {
    const trigger = harness.startTrigger(options);
    const code = await trigger.exited;
    const critical = trigger.logs.find((log) => log.level === "critical");

    return { code, message: critical?.message ?? "" };
  }

  test("names the field when a tunable is out of range", async () => {
    const { code, message } = await failWith({ trigger: { max_concurrent_objects: 0 } });

    assert.equal(code, 1);
    assert.match(message, /trigger_configuration/);
    assert.match(message, /"max_concurrent_objects" \(Objects read at once\) must be >= 1/);
  });

  test("names an intake server that is not a URL", async () => {
    const { code, message } = await failWith({ trigger: { intake_server: "https://" } });

    assert.equal(code, 1);
    assert.match(message, /"intake_server" is not a valid URL \("https:\/\/"\)/);
  });

  test("names a liveness port out of range", async () => {
    const { code, message } = await failWith({ env: { LIVENESS_PORT: "99999" } });

    assert.equal(code, 1);
    assert.match(message, /liveness_port must be an integer between 0 and 65535, got "99999"/);
  });

  test("says that a queue name or URL is needed", async () => {
    const { code, message } = await failWith({ trigger: { queue_name: null } });

    assert.equal(code, 1);
    assert.match(message, /"queue_name"/);
    assert.match(message, /"queue_url"/);
  });

  test("requires the intake key when events go to the intake", async () => {
    const { code, message } = await failWith({ trigger: { intake_key: "" } });

    assert.equal(code, 1);
    assert.match(message, /"intake_key" \(Intake key\) is required/);
  });

  test("refuses two authentication methods and says what to do, without the secret", async () => {
    const { code, message } = await failWith({
      module: {
        aws_region_name: TEST_REGION,
        aws_role_arn: "arn:aws:iam::123456789012:role/umbrella",
        aws_access_key: TEST_CREDENTIALS.accessKeyId,
        aws_secret_access_key: TEST_CREDENTIALS.secretAccessKey,
      },
    });

    assert.equal(code, 1);
    assert.match(message, /both an IAM role/);
    assert.match(message, /Keep one method/);
    assert.ok(!message.includes(TEST_CREDENTIALS.secretAccessKey));
  });

  test("refuses a configuration with no authentication method", async () => {
    const { code, message } = await failWith({ module: { aws_region_name: TEST_REGION } });

    assert.equal(code, 1);
    assert.match(message, /no AWS authentication is configured/);
  });

  test("names a missing configuration file and its environment variable", async () => {
    const trigger = harness.startTrigger({ env: { SYMPHONY_DIR: "/nonexistent-symphony" } });
    const code = await trigger.exited;

    assert.equal(code, 1);
    const critical = trigger.logs.find((log) => log.level === "critical");
    assert.match(critical?.message ?? "", /\/nonexistent-symphony\/trigger_configuration/);
    assert.match(critical?.message ?? "", /TRIGGER_CONFIGURATION/);
  });

  test("warns about unknown fields, which are most often typing mistakes, and runs", async () => {
    const trigger = harness.startTrigger({ trigger: { queue_nmae: "typo" } });

    const warning = await trigger.waitForLog((log) =>
      log.message.startsWith("unknown configuration fields"),
    );
    await trigger.waitForLog((log) => log.message === "collecting");
    await trigger.stop();

    assert.equal(warning.level, "warning");
    assert.deepEqual(warning["fields"], ["queue_nmae"]);
  });

  test("exits 1 and lists the known commands for an unknown command", async () => {
    const trigger = harness.startTrigger({ command: "no_such_trigger" });
    const code = await trigger.exited;

    assert.equal(code, 1);
    assert.match(trigger.stderr.join("\n"), /Unknown command "no_such_trigger"/);
    assert.match(trigger.stderr.join("\n"), /cisco_umbrella_ip_logs/);
  });
});
