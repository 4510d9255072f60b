import { readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

/** The package root: compiled files live in dist/lib/runtime, three levels below it. */
export const PACKAGE_ROOT = fileURLToPath(new URL("../../../", import.meta.url));

/** A JSON schema, as far as this module needs to look into one. */
export interface JsonSchema {
  title?: string;
  description?: string;
  type?: string | string[];
  properties?: Record<string, JsonSchema>;
  required?: string[];
  default?: unknown;
  enum?: unknown[];
  unit?: string;
  secrets?: string[];
  [keyword: string]: unknown;
}

/** A trigger as the Sekoia.io library describes it (`trigger_<name>.json`). */
export interface TriggerDefinition {
  uuid: string;
  name: string;
  description: string;
  docker_parameters: string;
  arguments: JsonSchema;
  results: JsonSchema;
}

/** The module manifest (`manifest.json`). */
export interface ModuleManifest {
  uuid: string;
  name: string;
  slug: string;
  version: string;
  description: string;
  categories: string[];
  supports_validation: boolean;
  configuration: JsonSchema;
}

export function readPackageJson<T>(relativePath: string): T {
  return JSON.parse(readFileSync(join(PACKAGE_ROOT, relativePath), "utf8")) as T;
}

/** The module configuration schema, source of truth for manifest.json `configuration`. */
export function loadModuleConfigurationSchema(): JsonSchema {
  return readPackageJson<JsonSchema>("schemas/module_configuration.json");
}

/** A trigger definition from `schemas/trigger_<slug>.json`. */
export function loadTriggerDefinition(slug: string): TriggerDefinition {
  return readPackageJson<TriggerDefinition>(`schemas/trigger_${slug}.json`);
}
