import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";

import { PACKAGE_ROOT } from "../../lib/runtime/PackageFiles.js";
import {
  REFERENCE_END,
  REFERENCE_START,
  renderConfigurationReference,
} from "../../scripts/renderConfigurationReference.js";

describe("README", () => {
  const readme = readFileSync(join(PACKAGE_ROOT, "README.md"), "utf8");

  test("holds the configuration reference generated from the schemas", () => {
    const start = readme.indexOf(REFERENCE_START) + REFERENCE_START.length;
    const end = readme.indexOf(REFERENCE_END);

    assert.equal(readme.slice(start, end).trim(), renderConfigurationReference().trim());
  });

  test("opens with the demo and the test commands", () => {
    const firstBlock = readme.slice(
      readme.indexOf("```sh"),
      readme.indexOf("```", readme.indexOf("```sh") + 5),
    );

    assert.match(firstBlock, /npm ci && npm run demo/);
    assert.match(firstBlock, /npm test/);
  });

  test("documents every field of the trigger configuration", () => {
    for (const field of [
      "queue_name",
      "intake_key",
      "max_concurrent_objects",
      "shutdown_grace_seconds",
    ]) {
      assert.match(readme, new RegExp(`\\| \`${field}\``));
    }
  });
});
