// Runs every compiled test file (dist/test/**/*.test.js) with the Node test runner.
// TEST_FILES=<text> keeps the files whose path contains it; extra arguments are passed on,
// e.g. `npm test -- --test-name-pattern=intake`.
import { spawnSync } from "node:child_process";
import { readdirSync, statSync } from "node:fs";
import { join } from "node:path";

function findTests(directory) {
  const found = [];
  for (const entry of readdirSync(directory)) {
    const path = join(directory, entry);
    if (statSync(path).isDirectory()) {
      found.push(...findTests(path));
    } else if (entry.endsWith(".test.js")) {
      found.push(path);
    }
  }
  return found.sort();
}

const filter = process.env.TEST_FILES;
const files = findTests("dist/test").filter((file) => !filter || file.includes(filter));
if (files.length === 0) {
  process.stderr.write(
    `No compiled test file matches TEST_FILES=${filter ?? ""} under dist/test.\n`,
  );
  process.exit(1);
}
const result = spawnSync(
  process.execPath,
  ["--test", "--test-concurrency=2", ...process.argv.slice(2), ...files],
  {
    stdio: "inherit",
    env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true" },
  },
);
process.exit(result.status ?? 1);
