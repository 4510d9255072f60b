import assert from "node:assert/strict";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { after, before, beforeEach, describe, test } from "node:test";

import { HttpTransport } from "../../lib/http/HttpTransport.js";
import {
  runAccountValidation,
  type AccountValidationContext,
  type ConfigurationCheck,
} from "../../lib/runtime/AccountValidation.js";
import { createLogger } from "../../lib/runtime/createLogger.js";
import { SecretRedactor } from "../../lib/runtime/SecretRedactor.js";
import { SymphonyConfig } from "../../lib/runtime/SymphonyConfig.js";
import { CALLBACK_PATH, PlatformServer } from "../support/PlatformServer.js";

const NO_FILES = join(tmpdir(), "account-validation-test-no-symphony-files");
const SECRET_KEYS = ["aws_secret_access_key"];
const REAL_SECRET = "real-secret-access-key-from-platform";
const STORED = {
  aws_access_key: "AKIAEXAMPLE",
  aws_secret_access_key: "encrypted",
  aws_region_name: "eu-west-1",
};
const RUNNING_ANSWER = {
  body: { module_configuration: { value: { ...STORED, aws_secret_access_key: REAL_SECRET } } },
};

void describe("runAccountValidation", () => {
  let platform: PlatformServer;
  const http = new HttpTransport();
  let stdout = "";

  before(async () => {
    platform = await new PlatformServer().start();
  });

  beforeEach(() => {
    platform.requests.length = 0;
    platform.answer(CALLBACK_PATH, RUNNING_ANSWER, { status: 200 });
    stdout = "";
  });

  after(async () => {
    http.close();
    await platform.stop();
  });

  function context(env: Record<string, string> = platform.symphonyEnv()): AccountValidationContext {
    const redactor = new SecretRedactor();
    const stream = new PassThrough();
    stream.on("data", (chunk: Buffer) => (stdout += chunk.toString("utf8")));

    return {
      symphony: new SymphonyConfig({
        directory: NO_FILES,
        env: { MODULE_CONFIGURATION: JSON.stringify(STORED), ...env },
      }),
      http,
      logger: createLogger({ redactor, stream, level: "debug" }),
      redactor,
    };
  }

  function patches(): unknown[] {
    return platform.requestsTo(CALLBACK_PATH).map((request) => {
      assert.equal(request.method, "PATCH");

      return request.body;
    });
  }

  void test("reports running, checks the merged configuration, reports success", async () => {
    const seen: Record<string, unknown>[] = [];
    const validate: ConfigurationCheck = (configuration) => {
      seen.push(configuration);

      return Promise.resolve({ success: true });
    };

    const code = await runAccountValidation(context(), SECRET_KEYS, validate, {
      retryDelaysMs: [1],
    });

    assert.equal(code, 0);
    assert.deepEqual(seen, [{ ...STORED, aws_secret_access_key: REAL_SECRET }]);
    assert.deepEqual(patches(), [
      { status: "running" },
      { status: "finished", results: { success: true } },
    ]);
    assert.ok(!stdout.includes(REAL_SECRET), "the secret reached the log");
  });

  void test("reports a failed check with its message", async () => {
    const validate: ConfigurationCheck = () =>
      Promise.resolve({ success: false, error: "The access key is not valid." });

    const code = await runAccountValidation(context(), SECRET_KEYS, validate);

    assert.equal(code, 0);
    assert.deepEqual(patches(), [
      { status: "running" },
      {
        status: "finished",
        results: { success: false },
        error: "The access key is not valid.",
      },
    ]);
  });

  void test("reports finished when the check throws, with the secret redacted", async () => {
    const validate: ConfigurationCheck = () =>
      Promise.reject(new Error(`signature mismatch for ${REAL_SECRET}`));

    const code = await runAccountValidation(context(), SECRET_KEYS, validate);

    assert.equal(code, 0);
    assert.deepEqual(patches(), [
      { status: "running" },
      {
        status: "finished",
        results: { success: false },
        error: "the validation stopped on an error: signature mismatch for [redacted]",
      },
    ]);
  });

  void test("reports finished without checking when the configuration cannot be read", async () => {
    let checked = false;
    const validate: ConfigurationCheck = () => {
      checked = true;

      return Promise.resolve({ success: true });
    };

    const code = await runAccountValidation(
      context({ ...platform.symphonyEnv(), MODULE_CONFIGURATION: "{not json" }),
      SECRET_KEYS,
      validate,
    );

    assert.equal(code, 0);
    assert.equal(checked, false);
    const [, finished] = patches() as [unknown, { results: unknown; error: string }];
    assert.deepEqual(finished.results, { success: false });
    assert.match(finished.error, /^the module configuration cannot be read: module_configuration/);
  });

  void test("refuses to check a placeholder the platform gave no secret for", async () => {
    platform.answer(CALLBACK_PATH, { body: { module_configuration: { value: {} } } }, {});
    let checked = false;
    const validate: ConfigurationCheck = () => {
      checked = true;

      return Promise.resolve({ success: true });
    };

    await runAccountValidation(context(), SECRET_KEYS, validate);

    assert.equal(checked, false);
    const [, finished] = patches() as [unknown, { error: string }];
    assert.match(finished.error, /no value for the secret aws_secret_access_key/);
  });

  void test("still reports finished when running was refused", async () => {
    platform.answer(CALLBACK_PATH, { status: 409 }, { status: 200 });

    const code = await runAccountValidation(context(), SECRET_KEYS, () =>
      Promise.resolve({ success: true }),
    );

    assert.equal(code, 0);
    const [running, finished] = patches() as [unknown, { results: unknown; error: string }];
    assert.deepEqual(running, { status: "running" });
    assert.deepEqual(finished.results, { success: false });
    assert.match(finished.error, /the platform did not take the validation: .*HTTP 409/);
  });

  void test("exits 1 when finished cannot be delivered", async () => {
    platform.answer(CALLBACK_PATH, RUNNING_ANSWER, { status: 503 });

    const code = await runAccountValidation(
      context(),
      SECRET_KEYS,
      () => Promise.resolve({ success: true }),
      { retryDelaysMs: [1] },
    );

    assert.equal(code, 1);
    assert.equal(patches().length, 11);
  });

  void test("only logs the verdict without url_callback, exiting with its outcome", async () => {
    const seen: Record<string, unknown>[] = [];
    const check =
      (success: boolean): ConfigurationCheck =>
      (configuration) => {
        seen.push(configuration);

        return Promise.resolve({ success });
      };

    const passed = await runAccountValidation(context({}), SECRET_KEYS, check(true));
    const failed = await runAccountValidation(context({}), SECRET_KEYS, check(false));

    assert.deepEqual([passed, failed], [0, 1]);
    assert.deepEqual(seen, [STORED, STORED]);
    assert.equal(platform.requests.length, 0);
  });
});
