import assert from "node:assert/strict";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";

import { HttpTransport } from "../../lib/http/HttpTransport.js";
import { createPlatformTransports } from "../../lib/runtime/createPlatformTransports.js";
import { ModuleRunner } from "../../lib/runtime/ModuleRunner.js";
import { PlatformLogTransport } from "../../lib/runtime/PlatformLogTransport.js";
import { SecretRedactor } from "../../lib/runtime/SecretRedactor.js";
import { SymphonyConfig } from "../../lib/runtime/SymphonyConfig.js";
import { LOGS_PATH, PLATFORM_TEST_TOKEN, PlatformServer } from "../support/PlatformServer.js";

const NO_FILES = join(tmpdir(), "platform-transports-test-no-symphony-files");

void describe("createPlatformTransports", () => {
  let platform: PlatformServer;
  const http = new HttpTransport();

  before(async () => {
    platform = await new PlatformServer().start();
  });

  after(async () => {
    http.close();
    await platform.stop();
  });

  function build(env: Record<string, string>, redactor = new SecretRedactor()) {
    const symphony = new SymphonyConfig({ directory: NO_FILES, env });

    return createPlatformTransports({ symphony, http, redactor });
  }

  void test("returns no transport without a token or without a logs URL", () => {
    assert.deepEqual(build({ URL_CALLBACK: platform.urlFor("/api/v1/symphony/callback") }), []);
    assert.deepEqual(build({ TOKEN: PLATFORM_TEST_TOKEN }), []);
  });

  void test("sends to the logs URL derived from url_callback, with the token", async () => {
    const redactor = new SecretRedactor();
    const [transport] = build(platform.symphonyEnv(), redactor);
    assert.ok(transport instanceof PlatformLogTransport);

    transport.log({ level: "error", message: `token ${PLATFORM_TEST_TOKEN}` }, () => undefined);
    const [request] = await platform.waitForRequests(LOGS_PATH, 1);
    transport.close();

    assert.match(request?.text ?? "", /token \[redacted\]/);
    assert.equal(request?.headers.authorization, `Bearer ${PLATFORM_TEST_TOKEN}`);
    assert.equal(redactor.redactText(PLATFORM_TEST_TOKEN), "[redacted]");
    assert.ok(!request?.text.includes(PLATFORM_TEST_TOKEN));
  });

  void test("delivers what a command logged when the runner exits", async () => {
    platform.requests.length = 0;
    const variables = { ...platform.symphonyEnv(), SYMPHONY_DIR: NO_FILES };
    const saved = Object.fromEntries(
      Object.keys(variables).map((name) => [name, process.env[name]]),
    );
    Object.assign(process.env, variables);
    const runner = new ModuleRunner({
      transports: createPlatformTransports,
      signals: [],
    }).register("probe", {
      description: "logs one line",
      create: () => ({
        run: (context) => {
          context.logger.info("probe done", { queue: "umbrella" });

          return Promise.resolve(0);
        },
      }),
    });

    let code: number;
    try {
      code = await runner.run(["probe"]);
    } finally {
      for (const [name, value] of Object.entries(saved)) {
        if (value === undefined) {
          delete process.env[name];
        } else {
          process.env[name] = value;
        }
      }
    }

    assert.equal(code, 0);
    const entries = platform
      .requestsTo(LOGS_PATH)
      .flatMap((request) => (request.body as { logs: { message: string }[] }).logs);
    assert.deepEqual(
      entries.map((entry) => entry.message),
      ["probe done queue=umbrella"],
    );
  });
});
