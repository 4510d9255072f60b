import assert from "node:assert/strict";
import { afterEach, beforeEach, describe, test } from "node:test";

import { IpLogNormalizer } from "../../lib/umbrella/IpLogNormalizer.js";
import { TEST_CREDENTIALS, TEST_REGION } from "../support/Emulator.js";
import {
  CALLBACK_PATH,
  LOGS_PATH,
  PLATFORM_TEST_TOKEN,
  PlatformServer,
  SECRETS_PATH,
} from "../support/PlatformServer.js";
import { TriggerHarness, TEST_INTAKE_KEY } from "../support/TriggerHarness.js";
import { umbrellaIpLines, umbrellaObject } from "../support/UmbrellaLines.js";

/** The trigger and the validator inside the platform: secrets, logs, callback, health. */
describe("platform integration", () => {
  let harness: TriggerHarness;
  let platform: PlatformServer;

  beforeEach(async () => {
    harness = await new TriggerHarness().start();
    platform = await new PlatformServer().start();
  });
  afterEach(async () => {
    await harness.stop();
    await platform.stop();
  });

  const placeholderModule = {
    aws_region_name: TEST_REGION,
    aws_access_key: TEST_CREDENTIALS.accessKeyId,
    aws_secret_access_key: "encrypted",
  };

  test("fetches the secret key, sends its logs to the platform, and never leaks a secret", async () => {
    platform.answer(SECRETS_PATH, {
      body: { value: { aws_secret_access_key: TEST_CREDENTIALS.secretAccessKey } },
    });
    const lines = umbrellaIpLines(20, "platform");
    await harness.putObject("iplogs/platform.csv.gz", umbrellaObject(lines));
    const messageId = await harness.notify(["iplogs/platform.csv.gz"]);
    const trigger = harness.startTrigger({
      module: placeholderModule,
      env: platform.symphonyEnv(),
    });

    await harness.emulator.server.spy.waitForMessageWithId(messageId, "consumed", 15_000);
    await trigger.stop();

    const secrets = platform.requestsTo(SECRETS_PATH);
    assert.equal(secrets.length, 1);
    assert.equal(secrets[0]?.headers.authorization, `Bearer ${PLATFORM_TEST_TOKEN}`);
    const logs = platform
      .requestsTo(LOGS_PATH)
      .flatMap((request) => (request.body as { logs: { level: string; message: string }[] }).logs);
    assert.ok(logs.some((log) => log.message.startsWith("trigger starting")));
    assert.ok(logs.some((log) => log.message.startsWith("object delivered")));
    const everything = JSON.stringify([
      platform.requests.map((request) => request.text),
      trigger.logs,
    ]);
    for (const secret of [TEST_CREDENTIALS.secretAccessKey, PLATFORM_TEST_TOKEN, TEST_INTAKE_KEY]) {
      assert.ok(
        !everything.replaceAll(`Bearer ${PLATFORM_TEST_TOKEN}`, "").includes(secret),
        secret,
      );
    }
    assert.deepEqual(harness.intake.events, lines);
  });

  test("sends each line to the playbook as an ECS event when forward_to is playbook", async () => {
    const lines = umbrellaIpLines(12, "");
    await harness.putObject("iplogs/playbook.csv.gz", umbrellaObject(lines));
    const messageId = await harness.notify(["iplogs/playbook.csv.gz"]);
    platform.answer(SECRETS_PATH, {
      body: { value: { aws_secret_access_key: TEST_CREDENTIALS.secretAccessKey } },
    });
    harness.startTrigger({
      trigger: { forward_to: "playbook", intake_key: null },
      env: platform.symphonyEnv(),
    });

    await harness.emulator.server.spy.waitForMessageWithId(messageId, "consumed", 15_000);

    const events = platform
      .requestsTo(CALLBACK_PATH)
      .map((request) => request.body as Record<string, unknown>);
    const normalizer = new IpLogNormalizer();
    assert.equal(events.length, lines.length);
    assert.deepEqual(
      events
        .map((event) => event["event"])
        .sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b))),
      lines
        .map((line) => normalizer.normalize(line))
        .sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b))),
    );
    assert.ok(events.every((event) => event["name"] === "Cisco Umbrella IP logs"));
    assert.equal(new Set(events.map((event) => event["request_id"])).size, lines.length);
    assert.equal(harness.intake.requests.length, 0);
  });

  test("stops with a critical error when the secrets cannot be had, never on placeholders", async () => {
    platform.answer(SECRETS_PATH, { status: 200, body: {} });
    const trigger = harness.startTrigger({
      module: placeholderModule,
      env: platform.symphonyEnv(),
    });

    assert.equal(await trigger.exited, 1);

    const critical = trigger.logs.find((log) => log.level === "critical");
    assert.match(critical?.message ?? "", /will not start on placeholder values/);
    assert.equal(harness.intake.requests.length, 0);
  });

  test("serves /health and /metrics while running", async () => {
    const trigger = harness.startTrigger();
    await trigger.waitForLog((log) => log.message === "collecting");

    const health = await trigger.health();
    const metrics = await trigger.scrapeMetrics();

    assert.equal(health.status, 200);
    assert.equal(health.body["healthy"], true);
    assert.equal(typeof health.body["last_heartbeat"], "string");
    assert.match(metrics, /symphony_module_common_forwarded_events_total/);
    assert.match(metrics, /process_resident_memory_bytes/);
    assert.ok(!metrics.includes(TEST_INTAKE_KEY));
  });

  test("the account validator reports running, then a successful verdict", async () => {
    platform.answer(CALLBACK_PATH, {
      body: {
        module_configuration: {
          value: { aws_secret_access_key: TEST_CREDENTIALS.secretAccessKey },
        },
      },
    });
    const validator = harness.startTrigger({
      command: "validate_module_configuration",
      module: placeholderModule,
      env: platform.symphonyEnv(),
    });

    assert.equal(await validator.exited, 0);

    assert.deepEqual(
      platform.requestsTo(CALLBACK_PATH).map((request) => [request.method, request.body]),
      [
        ["PATCH", { status: "running" }],
        ["PATCH", { status: "finished", results: { success: true } }],
      ],
    );
  });

  test("the account validator explains a role the platform cannot get a token for", async () => {
    platform.answer("/api/v1/symphony/oidc/token", { status: 401, body: { message: "bad token" } });
    const validator = harness.startTrigger({
      command: "validate_module_configuration",
      module: {
        aws_region_name: TEST_REGION,
        aws_role_arn: "arn:aws:iam::123456789012:role/umbrella",
      },
      env: platform.symphonyEnv(),
    });

    assert.equal(await validator.exited, 0);

    const finished = platform.requestsTo(CALLBACK_PATH).at(-1)?.body as {
      status: string;
      results: { success: boolean };
      error: string;
    };
    assert.equal(finished.status, "finished");
    assert.equal(finished.results.success, false);
    assert.match(finished.error, /token/);
    assert.ok(!finished.error.includes(PLATFORM_TEST_TOKEN));
  });
});
