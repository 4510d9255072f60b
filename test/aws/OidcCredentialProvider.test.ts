import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { after, afterEach, before, beforeEach, describe, test } from "node:test";
import assert from "node:assert/strict";

import {
  OIDC_ROLE_SESSION_NAME,
  OidcCredentialProvider,
  SDK_IDENTITY_REFRESH_WINDOW_MS,
  type OidcCredentialProviderOptions,
} from "../../lib/aws/OidcCredentialProvider.js";
import { CredentialsError } from "../../lib/errors/CredentialsError.js";
import { HttpTransport } from "../../lib/http/HttpTransport.js";
import { createLogger } from "../../lib/runtime/createLogger.js";
import { SecretRedactor } from "../../lib/runtime/SecretRedactor.js";
import { SymphonyConfig } from "../../lib/runtime/SymphonyConfig.js";
import { FakeSts } from "../support/FakeSts.js";
import { FakeTokenEndpoint } from "./FakeTokenEndpoint.js";

const ROLE_ARN = "arn:aws:iam::123456789012:role/sekoia-umbrella";
const PLATFORM_TOKEN = "platform-bearer-token-0123456789";
const TRIGGER_UUID = "7b0f2f4e-1111-4c3a-9d5e-0a1b2c3d4e5f";
const COMMUNITY_UUID = "c0ffee00-2222-4c3a-9d5e-0a1b2c3d4e5f";
const MODCONF_UUID = "decade00-3333-4c3a-9d5e-0a1b2c3d4e5f";
const MINUTE_MS = 60_000;

interface Harness {
  provider: OidcCredentialProvider;
  redactor: SecretRedactor;
  logs: string[];
  clock: { offsetMs: number };
}

void describe("OidcCredentialProvider", () => {
  let tokens: FakeTokenEndpoint;
  let sts: FakeSts;
  let http: HttpTransport;
  let directory: string;

  before(async () => {
    tokens = await new FakeTokenEndpoint().start();
    sts = await new FakeSts().start();
    http = new HttpTransport();
  });

  after(async () => {
    http.close();
    await tokens.stop();
    await sts.stop();
  });

  beforeEach(() => {
    directory = mkdtempSync(join(tmpdir(), "oidc-"));
    tokens.requests.length = 0;
    tokens.behave = () => undefined;
    sts.requests.length = 0;
    sts.issued.length = 0;
    sts.lifetimeMs = 3_600_000;
    sts.behave = () => undefined;
  });

  afterEach(() => {
    rmSync(directory, { recursive: true, force: true });
  });

  function platformFiles(files: Record<string, string>): void {
    for (const [name, content] of Object.entries(files)) {
      writeFileSync(join(directory, name), `${content}\n`);
    }
  }

  function standardFiles(extra: Record<string, string> = {}): void {
    platformFiles({
      url_logs: `${tokens.url}/api/v1/logs`,
      token: PLATFORM_TOKEN,
      trigger_configuration_uuid: TRIGGER_UUID,
      ...extra,
    });
  }

  function harness(options: Partial<OidcCredentialProviderOptions> = {}): Harness {
    const redactor = new SecretRedactor();
    const logs: string[] = [];
    const stream = new PassThrough();
    stream.on("data", (chunk: Buffer) => logs.push(chunk.toString()));
    const clock = { offsetMs: 0 };
    const provider = new OidcCredentialProvider({
      roleArn: ROLE_ARN,
      region: "eu-west-1",
      symphony: new SymphonyConfig({ directory, env: {} }),
      http,
      logger: createLogger({ redactor, stream, level: "debug" }),
      redactor,
      stsEndpoint: sts.url,
      now: () => Date.now() + clock.offsetMs,
      ...options,
    });

    return { provider, redactor, logs, clock };
  }

  async function failure(promise: Promise<unknown>): Promise<CredentialsError> {
    try {
      await promise;
    } catch (error: unknown) {
      assert.ok(error instanceof CredentialsError, `not a CredentialsError: ${String(error)}`);

      return error;
    }
    throw new Error("the credentials were expected to fail");
  }

  void test("asks the platform for a token with its bearer and node identity", async () => {
    standardFiles();
    const { provider } = harness();

    await provider.credentials();

    assert.equal(tokens.requests.length, 1);
    const request = tokens.requests[0];
    assert.equal(request?.path, "/api/v1/symphony/oidc/token");
    assert.deepEqual(Object.fromEntries(request?.query ?? []), {
      node_type: "trigger",
      node_uuid: TRIGGER_UUID,
      audience: "sts.amazonaws.com",
    });
    assert.equal(request?.authorization, `Bearer ${PLATFORM_TOKEN}`);
  });

  void test("assumes the role with that token and returns the STS credentials", async () => {
    standardFiles();
    const { provider, redactor } = harness();

    const identity = await provider.credentials();

    const [call] = sts.requestsOf("AssumeRoleWithWebIdentity");
    assert.equal(call?.params["RoleArn"], ROLE_ARN);
    assert.equal(call?.params["RoleSessionName"], OIDC_ROLE_SESSION_NAME);
    assert.equal(call?.params["WebIdentityToken"], tokens.tokens[0]);
    assert.equal(call?.signedBy, undefined);
    const issued = sts.issued[0];
    assert.equal(identity.accessKeyId, issued?.accessKeyId);
    assert.equal(identity.secretAccessKey, issued?.secretAccessKey);
    assert.equal(identity.sessionToken, issued?.sessionToken);
    const hidden = redactor.redactText(
      `${tokens.tokens[0]} ${issued?.secretAccessKey} ${issued?.sessionToken} ${PLATFORM_TOKEN}`,
    );
    assert.equal(hidden, "[redacted] [redacted] [redacted] [redacted]");
  });

  void test("derives the token URL from url_callback and names a connector", async () => {
    platformFiles({
      url_callback: `${tokens.url}/api/v1/connectors/abc/callback`,
      token: PLATFORM_TOKEN,
      connector_configuration_uuid: "conn-uuid-1",
    });
    const { provider } = harness();

    await provider.credentials();

    const request = tokens.requests[0];
    assert.equal(request?.path, "/api/v1/symphony/oidc/token");
    assert.equal(request?.query.get("node_type"), "connector");
    assert.equal(request?.query.get("node_uuid"), "conn-uuid-1");
  });

  void test("falls back to an action named by url_callback's second-to-last segment", async () => {
    platformFiles({
      url_callback: `${tokens.url}/api/v1/actions/runs/run-uuid-9/callback`,
      token: PLATFORM_TOKEN,
    });
    const { provider } = harness();

    await provider.credentials();

    assert.deepEqual(
      [tokens.requests[0]?.query.get("node_type"), tokens.requests[0]?.query.get("node_uuid")],
      ["action", "run-uuid-9"],
    );
  });

  void test("keeps a url_logs without /api/ whole", async () => {
    standardFiles({ url_logs: `${tokens.url}/` });
    const { provider } = harness();

    await provider.credentials();

    assert.equal(tokens.requests[0]?.path, "/api/v1/symphony/oidc/token");
  });

  void test("explains a refused platform token without revealing it", async () => {
    standardFiles();
    tokens.behave = () => ({ status: 401, body: '{"message":"invalid token"}' });
    const { provider } = harness();

    const error = await failure(provider.credentials());

    assert.match(error.message, /refused the request \(HTTP 401/);
    assert.match(error.remedy, /the `token` file\) is missing, expired or wrong/);
    assert.ok(!error.message.includes(PLATFORM_TOKEN));
    assert.equal(sts.requests.length, 0);
  });

  void test("points at url_logs and the trigger UUID file when the endpoint answers 404", async () => {
    standardFiles();
    tokens.behave = () => ({ status: 404, body: '{"message":"unknown node"}' });
    const { provider } = harness();

    const error = await failure(provider.credentials());

    assert.match(error.remedy, /url_logs \/ url_callback/);
    assert.match(error.remedy, /trigger_configuration_uuid file, which names this trigger/);
  });

  void test("fills the trust policy remedy with the community and module configuration UUIDs", async () => {
    standardFiles({ community_uuid: COMMUNITY_UUID, module_configuration_uuid: MODCONF_UUID });
    sts.behave = () => ({
      code: "AccessDenied",
      message: "Not authorized to perform sts:AssumeRoleWithWebIdentity",
      status: 403,
    });
    const { provider } = harness();

    const error = await failure(provider.credentials());

    assert.match(error.message, /AccessDenied: Not authorized/);
    assert.ok(
      error.remedy.includes(
        "arn:aws:iam::123456789012:oidc-provider/<Sekoia.io OIDC issuer>, with the conditions " +
          `"<issuer>:aud" = "sts.amazonaws.com" and "<issuer>:sub" = ` +
          `"community:${COMMUNITY_UUID}:modconf:${MODCONF_UUID}"`,
      ),
      error.remedy,
    );
    assert.ok(!error.message.includes(tokens.tokens[0] ?? "none"));
  });

  void test("says where to find the module configuration UUID when the platform gives none", async () => {
    standardFiles({ community_uuid: COMMUNITY_UUID });
    sts.behave = () => ({ code: "AccessDenied", message: "denied", status: 403 });
    const { provider } = harness();

    const error = await failure(provider.credentials());

    assert.match(error.remedy, new RegExp(`community:${COMMUNITY_UUID}:modconf:<the UUID of this`));
    assert.match(error.remedy, /module_configuration_uuid file is not set/);
  });

  void test("asks for the OIDC identity provider when STS refuses the token", async () => {
    standardFiles();
    sts.behave = () => ({
      code: "InvalidIdentityToken",
      message: "No OpenIDConnect provider found in your account",
      status: 400,
    });
    const { provider } = harness();

    const error = await failure(provider.credentials());

    assert.match(error.remedy, /OpenID Connect identity provider in account 123456789012/);
    assert.match(error.remedy, /audience sts\.amazonaws\.com/);
  });

  void test("rejects a malformed role ARN before asking for a token", async () => {
    standardFiles();
    const { provider } = harness({ roleArn: "arn:aws:iam::12345:user/bob" });

    const error = await failure(provider.credentials());

    assert.match(error.message, /"arn:aws:iam::12345:user\/bob" is not a valid IAM role ARN/);
    assert.match(error.remedy, /arn:aws:iam::<12-digit account id>:role\/<role name>/);
    assert.equal(tokens.requests.length, 0);
  });

  void test("reports an STS ValidationError as an invalid role ARN", async () => {
    standardFiles();
    sts.behave = () => ({
      code: "ValidationError",
      message: "1 validation error detected: Value at 'roleArn' failed to satisfy constraint",
      status: 400,
    });
    const { provider } = harness();

    const error = await failure(provider.credentials());

    assert.match(error.message, /is not a valid IAM role ARN/);
  });

  void test("lets concurrent callers share one role assumption", async () => {
    standardFiles();
    const { provider } = harness();

    const identities = await Promise.all(Array.from({ length: 10 }, () => provider.credentials()));

    assert.equal(tokens.requests.length, 1);
    assert.equal(sts.requestsOf("AssumeRoleWithWebIdentity").length, 1);
    assert.equal(new Set(identities.map((identity) => identity.accessKeyId)).size, 1);
  });

  void test("refreshes within the margin with a new token while serving the current keys", async () => {
    standardFiles();
    const { provider, clock } = harness({ refreshMarginMs: 10 * MINUTE_MS });
    const first = await provider.credentials();

    clock.offsetMs = 51 * MINUTE_MS;
    const during = await provider.credentials();
    await provider.settled();
    const after = await provider.credentials();

    assert.equal(during.accessKeyId, first.accessKeyId);
    assert.equal(after.accessKeyId, sts.issued[1]?.accessKeyId);
    assert.notEqual(after.accessKeyId, first.accessKeyId);
    assert.equal(tokens.tokens.length, 2);
    assert.notEqual(tokens.tokens[0], tokens.tokens[1]);
    const calls = sts.requestsOf("AssumeRoleWithWebIdentity");
    assert.deepEqual(
      calls.map((call) => call.params["WebIdentityToken"]),
      tokens.tokens,
    );
  });

  void test("does not refresh before the margin", async () => {
    standardFiles();
    const { provider, clock } = harness({ refreshMarginMs: 10 * MINUTE_MS });
    await provider.credentials();

    clock.offsetMs = 49 * MINUTE_MS;
    await provider.credentials();
    await provider.settled();

    assert.equal(tokens.requests.length, 1);
  });

  void test("moves the expiration handed to SDK clients so their refresh window opens at the margin", async () => {
    standardFiles();
    const { provider } = harness({ refreshMarginMs: 10 * MINUTE_MS });

    const identity = await provider.credentials();

    const expiresAt = sts.issued[0]?.expiration.getTime() ?? 0;
    const reported = identity.expiration?.getTime() ?? 0;
    assert.equal(expiresAt - reported, 10 * MINUTE_MS - SDK_IDENTITY_REFRESH_WINDOW_MS);
  });

  void test("retries a failed refresh with backoff and fails callers only once the keys expired", async () => {
    standardFiles();
    const { provider, clock, logs } = harness({
      refreshMarginMs: 10 * MINUTE_MS,
      retryBackoff: { initialDelayMs: MINUTE_MS, maxDelayMs: MINUTE_MS, random: () => 1 },
    });
    const first = await provider.credentials();
    tokens.behave = () => ({ status: 503, body: '{"message":"maintenance"}' });

    clock.offsetMs = 51 * MINUTE_MS;
    assert.equal((await provider.credentials()).accessKeyId, first.accessKeyId);
    await provider.settled();
    assert.equal((await provider.credentials()).accessKeyId, first.accessKeyId);
    await provider.settled();
    const attemptsWithinBackoff = tokens.requests.length;

    clock.offsetMs = 52.5 * MINUTE_MS;
    assert.equal((await provider.credentials()).accessKeyId, first.accessKeyId);
    await provider.settled();
    const attemptsAfterBackoff = tokens.requests.length;

    clock.offsetMs = 61 * MINUTE_MS;
    const error = await failure(provider.credentials());

    tokens.behave = () => undefined;
    clock.offsetMs = 63 * MINUTE_MS;
    const healed = await provider.credentials();

    assert.equal(attemptsWithinBackoff, 2);
    assert.equal(attemptsAfterBackoff, 3);
    assert.match(error.message, /HTTP 503/);
    assert.match(error.remedy, /retried automatically/);
    assert.equal(healed.accessKeyId, sts.issued[1]?.accessKeyId);
    const warnings = logs.filter((line) => line.includes("role credentials refresh failed"));
    assert.equal(warnings.length, 3);
    assert.match(warnings[0] ?? "", /"retryInMs":60000/);
    assert.ok(!logs.join("").includes(PLATFORM_TOKEN));
  });
});
