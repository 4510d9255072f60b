import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";

import { AwsFaultProxy } from "../support/AwsFaultProxy.js";
import { TEST_REGION } from "../support/Emulator.js";
import { FakeSts } from "../support/FakeSts.js";
import { PLATFORM_TEST_TOKEN, PlatformServer, SECRETS_PATH } from "../support/PlatformServer.js";
import { TriggerHarness } from "../support/TriggerHarness.js";
import { umbrellaIpLines, umbrellaObject } from "../support/UmbrellaLines.js";

const TOKEN_PATH = "/api/v1/symphony/oidc/token";
const ROLE_ARN = "arn:aws:iam::123456789012:role/sekoia-umbrella";
/** Lifetime of the credentials the fake STS hands out: refreshed at half of it. */
const CREDENTIALS_LIFETIME_MS = 5_000;

/**
 * The recommended access: the trigger gets a web-identity token from the platform, assumes the
 * role through STS, and keeps its credentials fresh while it reads objects.
 */
describe("role access through the Sekoia.io OIDC provider", () => {
  const harness = new TriggerHarness();
  const platform = new PlatformServer();
  const sts = new FakeSts();
  let proxy: AwsFaultProxy;

  before(async () => {
    await harness.start();
    await platform.start();
    await sts.start();
    proxy = await new AwsFaultProxy(harness.emulator.address).start();
  });
  after(async () => {
    await harness.stop();
    await Promise.all([platform.stop(), sts.stop(), proxy.stop()]);
  });

  test("assumes the role, refreshes the credentials while objects are processed, loses nothing", async () => {
    sts.lifetimeMs = CREDENTIALS_LIFETIME_MS;
    let tokens = 0;
    platform.answer(TOKEN_PATH, () => ({ body: { token: `web-identity-token-${(tokens += 1)}` } }));
    platform.answer(SECRETS_PATH, { body: { value: {} } });
    harness.intake.behave = () => ({ delayMs: 150 });
    const expected: string[] = [];
    const keys: string[] = [];
    for (let index = 0; index < 30; index += 1) {
      const lines = umbrellaIpLines(3_000, `role-${index}`, index + 1);
      keys.push(`iplogs/role-${index}.csv.gz`);
      expected.push(...lines);
      await harness.putObject(keys[index] ?? "", umbrellaObject(lines));
    }
    for (const key of keys) {
      await harness.notify([key]);
    }

    const trigger = harness.startTrigger({
      module: { aws_region_name: TEST_REGION, aws_role_arn: ROLE_ARN },
      trigger: {
        max_concurrent_objects: 2,
        intake_batch_max_bytes: 262_144,
        intake_max_concurrent_requests: 1,
      },
      env: {
        ...platform.symphonyEnv(),
        TRIGGER_CONFIGURATION_UUID: "7f1c3f2e-1111-4222-8333-944455556666",
        AWS_ENDPOINT_URL: proxy.url,
        AWS_ENDPOINT_URL_STS: sts.url,
      },
    });
    await harness.intake.waitForEvents(expected.length, 60_000);
    await harness.waitForEmptyQueue(20_000);
    await trigger.stop();

    const assumed = sts.requestsOf("AssumeRoleWithWebIdentity");
    assert.ok(assumed.length >= 3, `${assumed.length} role assumptions`);
    assert.deepEqual(
      assumed.map((request) => request.params["WebIdentityToken"]),
      assumed.map((_, index) => `web-identity-token-${index + 1}`),
      "a new token for each assumption",
    );
    assert.ok(assumed.every((request) => request.params["RoleArn"] === ROLE_ARN));
    assert.ok(
      assumed.every((request) => request.params["RoleSessionName"] === "sekoia-automation-session"),
    );
    const tokenRequest = platform.requestsTo(TOKEN_PATH)[0];
    assert.equal(tokenRequest?.headers.authorization, `Bearer ${PLATFORM_TEST_TOKEN}`);
    const signers = new Set(
      proxy.requests.map(
        (request) => /Credential=([^/]+)\//.exec(request.headers.authorization ?? "")?.[1],
      ),
    );
    const issued = new Set(sts.issued.map((credentials) => credentials.accessKeyId));
    assert.ok(
      [...signers].every((key) => key !== undefined && issued.has(key)),
      "only assumed keys sign",
    );
    assert.ok(signers.size >= 2, `${signers.size} different keys signed S3/SQS requests`);
    assert.equal(harness.intake.events.length, expected.length);
    assert.deepEqual(new Set(harness.intake.events).size, expected.length);
  });
});
