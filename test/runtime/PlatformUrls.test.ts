import assert from "node:assert/strict";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, test } from "node:test";

import { ConfigurationError } from "../../lib/errors/ConfigurationError.js";
import { platformUrls } from "../../lib/runtime/PlatformUrls.js";
import { SecretRedactor } from "../../lib/runtime/SecretRedactor.js";
import { SymphonyConfig } from "../../lib/runtime/SymphonyConfig.js";

const NO_FILES = join(tmpdir(), "platform-urls-test-no-symphony-files");
const CALLBACK = "https://app.example.test/api/v1/symphony/trigger-configurations/42/callback";

function symphony(env: Record<string, string>): SymphonyConfig {
  return new SymphonyConfig({ directory: NO_FILES, env });
}

void describe("platformUrls", () => {
  void test("derives the logs and secrets URLs from url_callback", () => {
    const urls = platformUrls(symphony({ URL_CALLBACK: CALLBACK, TOKEN: "token-abcdef" }));

    assert.equal(urls.callback?.href, CALLBACK);
    assert.equal(
      urls.logs?.href,
      "https://app.example.test/api/v1/symphony/trigger-configurations/42/logs",
    );
    assert.equal(
      urls.secrets?.href,
      "https://app.example.test/api/v1/symphony/trigger-configurations/42/secrets",
    );
    assert.equal(urls.token, "token-abcdef");
  });

  void test("prefers url_logs and url_secrets when they are set", () => {
    const urls = platformUrls(
      symphony({
        URL_CALLBACK: CALLBACK,
        URL_LOGS: "https://logs.example.test/api/v1/logs",
        URL_SECRETS: "https://secrets.example.test/v1/secrets",
      }),
    );

    assert.equal(urls.logs?.href, "https://logs.example.test/api/v1/logs");
    assert.equal(urls.secrets?.href, "https://secrets.example.test/v1/secrets");
    assert.equal(urls.token, undefined);
  });

  void test("returns nothing when the platform configured nothing", () => {
    assert.deepEqual(platformUrls(symphony({})), {});
  });

  void test("registers the token with the redactor", () => {
    const redactor = new SecretRedactor();

    platformUrls(symphony({ TOKEN: "bearer-token-value" }), redactor);

    assert.equal(redactor.redactText("Bearer bearer-token-value"), "Bearer [redacted]");
  });

  void test("rejects a url_callback that is not a URL, naming the setting", () => {
    assert.throws(
      () => platformUrls(symphony({ URL_CALLBACK: "not a url/callback" })),
      (error: unknown) => error instanceof ConfigurationError && error.source === "url_callback",
    );
  });
});
