import assert from "node:assert/strict";
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";

import { Ajv } from "ajv";

import { ConfigurationError } from "../../lib/errors/ConfigurationError.js";
import {
  PACKAGE_ROOT,
  type JsonSchema,
  type ModuleManifest,
} from "../../lib/runtime/PackageFiles.js";
import { buildManifest, writeLibraryLayout } from "../../scripts/writeLibrary.js";

/** Published identifiers: changing one makes the platform see a different module or trigger. */
const PUBLISHED_MODULE_UUID = "0e03edcf-fda0-40df-83b6-0cf58e9ec8ed";
const KNOWN_TRIGGER_UUIDS: Record<string, string> = {
  "trigger_cisco_umbrella_ip_logs.json": "044ef24f-c5d8-4115-a9ad-bf6380f4430e",
};
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const SEMVER = /^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$/;
const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;
const TRIGGER_KEYS = ["uuid", "name", "description", "docker_parameters", "arguments", "results"];

const temporaryDirectories: string[] = [];

function temporaryDirectory(): string {
  const directory = mkdtempSync(join(tmpdir(), "library-layout-"));
  temporaryDirectories.push(directory);

  return directory;
}

function readJsonFile<T>(path: string): T {
  return JSON.parse(readFileSync(path, "utf8")) as T;
}

/**
 * Ajv as strict as the schemas allow, with our annotation keywords. strictRequired is off:
 * "give one of these fields" is written as anyOf/oneOf branches that only list `required`,
 * which that rule forbids although it is standard JSON Schema.
 */
function strictAjv(): Ajv {
  const ajv = new Ajv({ strict: true, strictRequired: false, allErrors: true });
  ajv.addVocabulary(["unit", "secrets"]);
  ajv.addFormat("date-time", RFC3339);

  return ajv;
}

function writeLayout(): { directory: string; written: string[] } {
  const directory = temporaryDirectory();

  return { directory, written: writeLibraryLayout(directory) };
}

function triggerFiles(directory: string): string[] {
  return readdirSync(directory).filter((file) => /^trigger_.+\.json$/.test(file));
}

void describe("Sekoia.io library layout", () => {
  after(() => {
    for (const directory of temporaryDirectories) {
      rmSync(directory, { recursive: true, force: true });
    }
  });

  void test("writes the manifest, one file per trigger schema, the logo and the changelog", () => {
    const { directory, written } = writeLayout();

    const schemaTriggers = readdirSync(join(PACKAGE_ROOT, "schemas")).filter((file) =>
      file.startsWith("trigger_"),
    );
    assert.ok(schemaTriggers.length > 0);
    assert.deepStrictEqual(
      [...written].sort(),
      ["manifest.json", "logo.svg", "CHANGELOG.md", ...schemaTriggers]
        .map((file) => join(directory, file))
        .sort(),
    );
    assert.deepStrictEqual(
      readFileSync(join(directory, "logo.svg")),
      readFileSync(join(PACKAGE_ROOT, "logo.svg")),
    );
    assert.match(readFileSync(join(directory, "CHANGELOG.md"), "utf8"), /^## \[Unreleased\]$/m);
  });

  void test("writes a manifest with a valid identity and an object configuration schema", () => {
    const { directory } = writeLayout();

    const manifest = readJsonFile<ModuleManifest>(join(directory, "manifest.json"));

    assert.equal(manifest.uuid, PUBLISHED_MODULE_UUID);
    assert.match(manifest.uuid, UUID);
    assert.match(manifest.slug, /^[a-z0-9-]+$/);
    assert.match(manifest.version, SEMVER);
    assert.ok(manifest.name.length > 0 && manifest.description.length > 0);
    assert.ok(manifest.categories.length > 0);
    assert.ok(manifest.categories.every((category) => typeof category === "string"));
    assert.equal(manifest.supports_validation, true);
    const configuration = manifest.configuration;
    assert.equal(configuration.type, "object");
    assert.equal(typeof configuration.properties, "object");
    const properties = Object.keys(configuration.properties ?? {});
    assert.ok(Array.isArray(configuration.secrets));
    for (const secret of configuration.secrets) {
      assert.ok(properties.includes(secret), `secret "${secret}" is not a property`);
    }
    assert.doesNotThrow(() => strictAjv().compile(configuration));
  });

  void test("writes trigger files with exactly the six library keys, correctly typed", () => {
    const { directory } = writeLayout();

    for (const file of triggerFiles(directory)) {
      const trigger = readJsonFile<Record<string, unknown>>(join(directory, file));
      assert.deepStrictEqual(Object.keys(trigger), TRIGGER_KEYS, file);
      assert.match(String(trigger["uuid"]), UUID);
      for (const key of ["name", "description", "docker_parameters"]) {
        assert.equal(typeof trigger[key], "string", `${file} ${key}`);
        assert.ok(String(trigger[key]).length > 0, `${file} ${key}`);
      }
      assert.match(String(trigger["docker_parameters"]), /^[a-z0-9_]+$/);
      for (const key of ["arguments", "results"]) {
        const schema = trigger[key];
        assert.ok(typeof schema === "object" && schema !== null && !Array.isArray(schema));
      }
    }
  });

  void test("writes trigger arguments and results that compile in strict mode", () => {
    const { directory } = writeLayout();

    for (const file of triggerFiles(directory)) {
      const trigger = readJsonFile<{ arguments: JsonSchema; results: JsonSchema }>(
        join(directory, file),
      );
      const ajv = strictAjv();
      assert.doesNotThrow(() => ajv.compile(trigger.arguments), `${file} arguments`);
      assert.doesNotThrow(() => ajv.compile(trigger.results), `${file} results`);
    }
  });

  void test("gives every trigger argument a title and a description, every integer a default and a unit", () => {
    const { directory } = writeLayout();

    for (const file of triggerFiles(directory)) {
      const trigger = readJsonFile<{ arguments: JsonSchema }>(join(directory, file));
      const properties = Object.entries(trigger.arguments.properties ?? {});
      assert.ok(properties.length > 0, file);
      for (const [name, property] of properties) {
        assert.ok((property.title ?? "").length > 0, `${file} ${name} has no title`);
        assert.ok((property.description ?? "").length > 0, `${file} ${name} has no description`);
        if (property.type === "integer") {
          assert.equal(typeof property.default, "number", `${file} ${name} has no default`);
          assert.ok((property.unit ?? "").length > 0, `${file} ${name} has no unit`);
        }
      }
    }
  });

  void test("keeps each trigger identical to its schema and its uuid stable", () => {
    const { directory } = writeLayout();

    for (const file of triggerFiles(directory)) {
      const written = readJsonFile<Record<string, unknown>>(join(directory, file));
      const source = readJsonFile<Record<string, unknown>>(join(PACKAGE_ROOT, "schemas", file));
      for (const key of TRIGGER_KEYS) {
        assert.deepStrictEqual(written[key], source[key], `${file} ${key}`);
      }
      const published = KNOWN_TRIGGER_UUIDS[file];
      if (published !== undefined) {
        assert.equal(written["uuid"], published, `${file} changed its published uuid`);
      }
    }
  });

  void test("has a manifest.json at the package root equal to buildManifest()", () => {
    const onDisk = readJsonFile<ModuleManifest>(join(PACKAGE_ROOT, "manifest.json"));

    assert.deepStrictEqual(
      onDisk,
      buildManifest(),
      "manifest.json is stale: run node dist/scripts/writeLibrary.js --manifest",
    );
  });

  void test("refuses to write anything when the manifest configuration differs from the schema", () => {
    const root = temporaryDirectory();
    for (const file of ["package.json", "schemas", "logo.svg", "CHANGELOG.md"]) {
      cpSync(join(PACKAGE_ROOT, file), join(root, file), { recursive: true });
    }
    const manifest = buildManifest(root);
    manifest.configuration = { ...manifest.configuration, required: [] };
    writeFileSync(join(root, "manifest.json"), JSON.stringify(manifest));
    const output = join(root, "library");

    assert.throws(
      () => writeLibraryLayout(output, root),
      (error: unknown) =>
        error instanceof ConfigurationError &&
        /configuration` differs from schemas\/module_configuration\.json/.test(error.message),
    );
    assert.deepStrictEqual(readdirSync(root).includes("library"), false);
  });

  void test("removes trigger files left over from an earlier layout", () => {
    const directory = temporaryDirectory();
    writeFileSync(join(directory, "trigger_removed_long_ago.json"), "{}");

    writeLibraryLayout(directory);

    assert.equal(readdirSync(directory).includes("trigger_removed_long_ago.json"), false);
  });
});
