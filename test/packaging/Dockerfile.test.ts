import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";

import { PRODUCTION_NODE_FLAGS } from "../../lib/runtime/NodeFlags.js";
import { PACKAGE_ROOT } from "../../lib/runtime/PackageFiles.js";

describe("Dockerfile", () => {
  const dockerfile = readFileSync(join(PACKAGE_ROOT, "Dockerfile"), "utf8");

  test("starts node with the production flags, then the entry point and the platform's command", () => {
    const entrypoint = /^ENTRYPOINT (\[.*\])$/m.exec(dockerfile)?.[1];

    assert.deepEqual(JSON.parse(entrypoint ?? "[]"), [
      "node",
      ...PRODUCTION_NODE_FLAGS,
      "/app/dist/main.js",
    ]);
  });

  test("runs as the non-root sekoiaio-runtime user on a Node LTS image", () => {
    assert.match(dockerfile, /^USER sekoiaio-runtime$/m);
    assert.match(dockerfile, /^FROM node:24-bookworm-slim/m);
  });
});
