import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { isDeepStrictEqual } from "node:util";

import { ConfigurationError } from "../lib/errors/ConfigurationError.js";
import {
  PACKAGE_ROOT,
  type JsonSchema,
  type ModuleManifest,
  type TriggerDefinition,
} from "../lib/runtime/PackageFiles.js";

/** The module's identity on the Sekoia.io platform: never change it once published. */
export const MODULE_UUID = "0e03edcf-fda0-40df-83b6-0cf58e9ec8ed";

/** Where the layout goes when the command line names no directory, under the package root. */
export const DEFAULT_LIBRARY_DIRECTORY = "build/library";

const MODULE_NAME = "Cisco Umbrella (AWS S3)";
const MODULE_SLUG = "cisco-umbrella-aws-s3";
const MODULE_DESCRIPTION =
  "Collect the Cisco Umbrella logs that Umbrella writes to an Amazon S3 bucket. S3 announces " +
  "each new object on an SQS queue; the module reads the object and forwards its lines to a " +
  "Sekoia.io intake, and optionally to the playbook as normalised ECS events.";
const MODULE_CATEGORIES = ["Network", "Cloud Providers"];

/** The keys of a trigger file, in the order the Sekoia.io library writes them. */
const TRIGGER_KEYS = [
  "uuid",
  "name",
  "description",
  "docker_parameters",
  "arguments",
  "results",
] as const;
const TRIGGER_FILE = /^trigger_[a-z0-9_]+\.json$/;
/** Files copied as they are into the layout. */
const MODULE_EXTRAS = ["logo.svg", "CHANGELOG.md"];

function readJson<T>(root: string, relativePath: string): T {
  return JSON.parse(readFileSync(join(root, relativePath), "utf8")) as T;
}

function toJsonText(value: unknown): string {
  return `${JSON.stringify(value, null, 2)}\n`;
}

/**
 * The manifest.json this package must carry: fixed identity, the version of package.json and
 * the module configuration schema of schemas/module_configuration.json.
 */
export function buildManifest(packageRoot = PACKAGE_ROOT): ModuleManifest {
  const { version } = readJson<{ version: string }>(packageRoot, "package.json");

  return {
    uuid: MODULE_UUID,
    name: MODULE_NAME,
    slug: MODULE_SLUG,
    version,
    description: MODULE_DESCRIPTION,
    categories: [...MODULE_CATEGORIES],
    supports_validation: true,
    configuration: readJson<JsonSchema>(packageRoot, "schemas/module_configuration.json"),
  };
}

/**
 * Writes buildManifest() to manifest.json at the package root, formatted with prettier when
 * it is installed so that the format check stays green. Returns the path written.
 */
export async function writeManifest(packageRoot = PACKAGE_ROOT): Promise<string> {
  const path = join(packageRoot, "manifest.json");
  let text = toJsonText(buildManifest(packageRoot));
  try {
    const prettier = await import("prettier");
    const options = (await prettier.resolveConfig(path)) ?? {};
    text = await prettier.format(text, { ...options, parser: "json" });
  } catch (error: unknown) {
    // Without prettier (a production install) the plain JSON text is still a valid manifest.
    if (!isModuleNotFound(error)) {
      throw error;
    }
  }
  writeFileSync(path, text);

  return path;
}

function isModuleNotFound(error: unknown): boolean {
  return error instanceof Error && "code" in error && error.code === "ERR_MODULE_NOT_FOUND";
}

/** The repository's manifest.json, refused when it disagrees with the schemas or package.json. */
function readCheckedManifest(packageRoot: string): ModuleManifest {
  const manifest = readJson<ModuleManifest>(packageRoot, "manifest.json");
  const expected = buildManifest(packageRoot);
  if (!isDeepStrictEqual(manifest.configuration, expected.configuration)) {
    throw new ConfigurationError(
      "manifest.json",
      ["configuration"],
      "manifest.json: `configuration` differs from schemas/module_configuration.json. " +
        "Regenerate it with `node dist/scripts/writeLibrary.js --manifest`; nothing was written.",
    );
  }
  if (manifest.version !== expected.version) {
    throw new ConfigurationError(
      "manifest.json",
      ["version"],
      `manifest.json: version ${manifest.version} differs from package.json ${expected.version}. ` +
        "Regenerate it with `node dist/scripts/writeLibrary.js --manifest`; nothing was written.",
    );
  }

  return manifest;
}

/** Every schemas/trigger_<slug>.json reduced to exactly the keys of a library trigger file. */
function readTriggers(packageRoot: string): Map<string, TriggerDefinition> {
  const triggers = new Map<string, TriggerDefinition>();
  for (const file of readdirSync(join(packageRoot, "schemas")).sort()) {
    if (!TRIGGER_FILE.test(file)) {
      continue;
    }
    const source = readJson<Record<string, unknown>>(packageRoot, `schemas/${file}`);
    const missing = TRIGGER_KEYS.filter((key) => source[key] === undefined);
    if (missing.length > 0) {
      throw new ConfigurationError(
        `schemas/${file}`,
        missing,
        `schemas/${file} lacks ${missing.join(", ")}; nothing was written.`,
      );
    }
    const trigger = Object.fromEntries(TRIGGER_KEYS.map((key) => [key, source[key]]));
    triggers.set(file, trigger as unknown as TriggerDefinition);
  }

  return triggers;
}

/**
 * Writes the Sekoia.io automation-library layout of this module into `outputDirectory`:
 * manifest.json, one trigger_<slug>.json per schemas/trigger_<slug>.json, logo.svg and
 * CHANGELOG.md. Checks everything before writing anything; trigger files left over from an
 * earlier run that no longer exist in schemas/ are removed. Returns the paths written.
 */
export function writeLibraryLayout(outputDirectory: string, packageRoot = PACKAGE_ROOT): string[] {
  const manifest = readCheckedManifest(packageRoot);
  const triggers = readTriggers(packageRoot);
  const extras = MODULE_EXTRAS.map((name) => ({
    name,
    content: readFileSync(join(packageRoot, name)),
  }));

  mkdirSync(outputDirectory, { recursive: true });
  for (const file of readdirSync(outputDirectory)) {
    if (TRIGGER_FILE.test(file) && !triggers.has(file)) {
      rmSync(join(outputDirectory, file));
    }
  }
  const manifestPath = join(outputDirectory, "manifest.json");
  writeFileSync(manifestPath, toJsonText(manifest));
  const written = [manifestPath];
  for (const [file, trigger] of triggers) {
    const path = join(outputDirectory, file);
    writeFileSync(path, toJsonText(trigger));
    written.push(path);
  }
  for (const extra of extras) {
    const path = join(outputDirectory, extra.name);
    writeFileSync(path, extra.content);
    written.push(path);
  }

  return written;
}

/** `writeLibrary.js [--manifest] [<outdir>]`; resolves to the exit code. */
async function main(args: readonly string[]): Promise<number> {
  if (args.includes("--manifest")) {
    console.log(`wrote ${await writeManifest()}`);

    return 0;
  }

  const target = args[0] === undefined ? join(PACKAGE_ROOT, DEFAULT_LIBRARY_DIRECTORY) : args[0];
  try {
    for (const path of writeLibraryLayout(resolve(target))) {
      console.log(`wrote ${path}`);
    }
  } catch (error: unknown) {
    if (error instanceof ConfigurationError) {
      console.error(error.message);

      return 1;
    }
    throw error;
  }

  return 0;
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  process.exitCode = await main(process.argv.slice(2));
}
