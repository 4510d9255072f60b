import assert from "node:assert/strict";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { after, before, describe, test } from "node:test";

import { ConfigurationError } from "../../lib/errors/ConfigurationError.js";
import { PlatformError } from "../../lib/errors/PlatformError.js";
import { HttpTransport } from "../../lib/http/HttpTransport.js";
import { createLogger, type Logger } from "../../lib/runtime/createLogger.js";
import { SecretRedactor } from "../../lib/runtime/SecretRedactor.js";
import {
  SECRETS_MAX_ATTEMPTS,
  fetchModuleSecrets,
  type SecretsFetchOptions,
} from "../../lib/runtime/SecretsClient.js";
import { SymphonyConfig } from "../../lib/runtime/SymphonyConfig.js";
import { PLATFORM_TEST_TOKEN, PlatformServer, SECRETS_PATH } from "../support/PlatformServer.js";

const NO_FILES = join(tmpdir(), "secrets-client-test-no-symphony-files");
const SECRET = "real-aws-secret-access-key-value";
const SECRET_KEYS = ["aws_secret_access_key"];
const STORED_CONFIGURATION = JSON.stringify({
  aws_access_key: "AKIAEXAMPLE",
  aws_secret_access_key: "encrypted",
  aws_region_name: "eu-west-1",
});

interface Harness {
  options: SecretsFetchOptions;
  redactor: SecretRedactor;
  output: () => string;
}

void describe("fetchModuleSecrets", () => {
  let platform: PlatformServer;
  const http = new HttpTransport();

  before(async () => {
    platform = await new PlatformServer().start();
  });

  after(async () => {
    http.close();
    await platform.stop();
  });

  function harness(env: Record<string, string> = {}, secretKeys = SECRET_KEYS): Harness {
    platform.requests.length = 0;
    const redactor = new SecretRedactor();
    const stream = new PassThrough();
    let text = "";
    stream.on("data", (chunk: Buffer) => (text += chunk.toString("utf8")));
    const logger: Logger = createLogger({ redactor, stream, level: "debug" });
    const symphony = new SymphonyConfig({
      directory: NO_FILES,
      env: { ...platform.symphonyEnv(), MODULE_CONFIGURATION: STORED_CONFIGURATION, ...env },
    });

    return {
      options: { symphony, http, logger, redactor, secretKeys, retryDelaysMs: [1] },
      redactor,
      output: () => text,
    };
  }

  void test("fetches the declared secrets with the bearer token and registers them", async () => {
    platform.answer(SECRETS_PATH, {
      body: { value: { aws_secret_access_key: SECRET, unrelated: "other-value-123" } },
    });
    const { options, redactor, output } = harness();

    const secrets = await fetchModuleSecrets(options);

    assert.deepEqual(secrets, { aws_secret_access_key: SECRET });
    const [request] = platform.requestsTo(SECRETS_PATH);
    assert.equal(request?.method, "GET");
    assert.equal(request?.headers.authorization, `Bearer ${PLATFORM_TEST_TOKEN}`);
    assert.equal(redactor.redactText(`key ${SECRET}`), "key [redacted]");
    assert.ok(!output().includes(SECRET), "the secret reached the log");
    assert.ok(!output().includes(PLATFORM_TEST_TOKEN), "the token reached the log");
  });

  void test("retries a 503 and a dropped connection, then succeeds", async () => {
    platform.answer(
      SECRETS_PATH,
      { status: 503 },
      { destroy: true },
      { body: { value: { aws_secret_access_key: SECRET } } },
    );
    const { options } = harness();

    const secrets = await fetchModuleSecrets(options);

    assert.deepEqual(secrets, { aws_secret_access_key: SECRET });
    assert.equal(platform.requestsTo(SECRETS_PATH).length, 3);
  });

  void test("gives up after ten attempts with the path, the status and the consequence", async () => {
    platform.answer(SECRETS_PATH, { status: 503, body: { error: "maintenance" } });
    const { options } = harness();

    await assert.rejects(fetchModuleSecrets(options), (error: unknown) => {
      assert.ok(error instanceof PlatformError);
      assert.equal(error.operation, "fetch secrets");
      assert.equal(error.status, 503);
      assert.match(error.message, new RegExp(SECRETS_PATH));
      assert.match(error.message, /last status 503/);
      assert.match(error.message, /will not start on the placeholder values/);

      return true;
    });
    assert.equal(platform.requestsTo(SECRETS_PATH).length, SECRETS_MAX_ATTEMPTS);
  });

  void test("resolves undefined without a request when no secrets endpoint exists", async () => {
    const { options } = harness();
    const local = new SymphonyConfig({ directory: NO_FILES, env: { TOKEN: "token-abcdef" } });

    const secrets = await fetchModuleSecrets({ ...options, symphony: local });

    assert.equal(secrets, undefined);
    assert.equal(platform.requests.length, 0);
  });

  void test("refuses at once to fetch without a token, naming the setting", async () => {
    const { options } = harness();
    const noToken = new SymphonyConfig({
      directory: NO_FILES,
      env: { URL_CALLBACK: platform.urlFor("/api/v1/symphony/callback") },
    });

    await assert.rejects(
      fetchModuleSecrets({ ...options, symphony: noToken }),
      (error: unknown) => error instanceof ConfigurationError && error.source === "token",
    );
    assert.equal(platform.requests.length, 0);
  });

  void test("resolves undefined without a request when the manifest declares no secret", async () => {
    const { options } = harness({}, []);

    assert.equal(await fetchModuleSecrets(options), undefined);
    assert.equal(platform.requests.length, 0);
  });

  void test("refuses an answer without value, naming the expected keys, at once", async () => {
    platform.answer(SECRETS_PATH, { body: { secrets: {} } });
    const { options } = harness();

    await assert.rejects(
      fetchModuleSecrets(options),
      /without a "value" object.*aws_secret_access_key/,
    );
    assert.equal(platform.requestsTo(SECRETS_PATH).length, 1);
  });

  void test("refuses an answer that lacks a secret the configuration holds a placeholder for", async () => {
    platform.answer(SECRETS_PATH, { body: { value: { other: "x" } } });
    const { options } = harness();

    await assert.rejects(fetchModuleSecrets(options), (error: unknown) => {
      assert.ok(error instanceof PlatformError);
      assert.match(error.message, /without a value for aws_secret_access_key/);

      return true;
    });
  });

  void test("accepts an answer without a secret the configuration leaves out (role setup)", async () => {
    platform.answer(SECRETS_PATH, { body: { value: {} } });
    const { options } = harness({
      MODULE_CONFIGURATION: JSON.stringify({
        aws_region_name: "eu-west-1",
        aws_role_arn: "arn:aws:iam::123456789012:role/umbrella",
      }),
    });

    assert.deepEqual(await fetchModuleSecrets(options), {});
  });

  void test("stops retrying when the signal aborts", async () => {
    platform.answer(SECRETS_PATH, { status: 500 });
    const { options } = harness();
    const controller = new AbortController();

    const fetching = fetchModuleSecrets({
      ...options,
      retryDelaysMs: [60_000],
      signal: controller.signal,
    });
    await platform.waitForRequests(SECRETS_PATH, 1);
    controller.abort();

    await assert.rejects(fetching, /cancelled by shutdown/);
    assert.equal(platform.requestsTo(SECRETS_PATH).length, 1);
  });
});
