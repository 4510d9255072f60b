import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";
import assert from "node:assert/strict";

import { PACKAGE_ROOT } from "../../lib/runtime/PackageFiles.js";
import { renderSetupGuide } from "../../lib/setup/renderSetupGuide.js";

const GUIDE = join(PACKAGE_ROOT, "docs", "SETUP.md");

void describe("docs/SETUP.md", () => {
  void test("matches what the setup assistant generates for the sample names", () => {
    const generated = renderSetupGuide();
    if (process.env["UPDATE_SETUP_GUIDE"] === "1") {
      mkdirSync(join(PACKAGE_ROOT, "docs"), { recursive: true });
      writeFileSync(GUIDE, generated);
    }

    assert.ok(existsSync(GUIDE), "docs/SETUP.md is missing; run with UPDATE_SETUP_GUIDE=1");
    assert.equal(readFileSync(GUIDE, "utf8"), generated);
  });

  void test("lists the three classic gaps of integration-page examples", () => {
    const guide = renderSetupGuide();

    assert.match(guide, /object actions need the object ARN form `arn:aws:s3:::bucket\/\*`/);
    assert.match(guide, /No `sqs:ChangeMessageVisibility`/);
    assert.match(guide, /No `sqs:GetQueueUrl`/);
    assert.match(guide, /No `sqs:GetQueueAttributes`/);
  });
});
