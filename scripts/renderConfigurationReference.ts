import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

import {
  loadModuleConfigurationSchema,
  loadTriggerDefinition,
  PACKAGE_ROOT,
  type JsonSchema,
} from "../lib/runtime/PackageFiles.js";

export const REFERENCE_START = "<!-- configuration-reference:start -->";
export const REFERENCE_END = "<!-- configuration-reference:end -->";

/** The README's configuration reference, written from the schemas (their single source). */
export function renderConfigurationReference(): string {
  const module = loadModuleConfigurationSchema();
  const trigger = loadTriggerDefinition("cisco_umbrella_ip_logs");

  return [
    "### Module configuration (`module_configuration`)",
    "",
    "Exactly one authentication method: `aws_role_arn` (recommended), or both access key fields.",
    `Secret fields, fetched from the platform: ${(module.secrets ?? []).map((name) => `\`${name}\``).join(", ")}.`,
    "",
    table(module),
    "",
    `### Trigger configuration (\`trigger_configuration\`), command \`${trigger.docker_parameters}\``,
    "",
    "Give `queue_name` or `queue_url`.",
    "",
    table(trigger.arguments),
  ].join("\n");
}

function table(schema: JsonSchema): string {
  const required = new Set(schema.required ?? []);
  const rows = Object.entries(schema.properties ?? {}).map(([name, property]) => {
    const constraints = [
      property.enum === undefined
        ? undefined
        : `one of ${property.enum.map((v) => `\`${String(v)}\``).join(", ")}`,
      property["minimum"] === undefined
        ? undefined
        : `${property["minimum"] as number} to ${property["maximum"] as number}`,
    ].filter(Boolean);
    const defaultValue =
      property.default === undefined ? "" : `\`${JSON.stringify(property.default)}\``;
    const description = [property.description ?? "", ...constraints]
      .join(" ")
      .replaceAll("|", "\\|");

    return `| \`${name}\`${required.has(name) ? " (required)" : ""} | ${property.title ?? ""} | ${defaultValue} | ${property.unit ?? ""} | ${description} |`;
  });

  return [
    "| field | title | default | unit | description |",
    "|---|---|---|---|---|",
    ...rows,
  ].join("\n");
}

/** Replaces the reference between its markers in README.md; returns whether it changed. */
export function updateReadme(root = PACKAGE_ROOT): boolean {
  const path = join(root, "README.md");
  const text = readFileSync(path, "utf8");
  const start = text.indexOf(REFERENCE_START);
  const end = text.indexOf(REFERENCE_END);
  if (start === -1 || end === -1) {
    throw new Error(`README.md lacks the markers ${REFERENCE_START} / ${REFERENCE_END}`);
  }
  const updated = `${text.slice(0, start + REFERENCE_START.length)}\n${renderConfigurationReference()}\n${text.slice(end)}`;
  writeFileSync(path, updated);

  return updated !== text;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  console.log(
    updateReadme() ? "README.md configuration reference updated" : "README.md already up to date",
  );
}
