import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";

import { ConfigurationError } from "../errors/ConfigurationError.js";

/** Where the platform mounts the configuration files in the module container. */
export const DEFAULT_SYMPHONY_DIR = "/symphony";

/** Environment variable that moves the configuration directory, for local runs and tests. */
export const SYMPHONY_DIR_VARIABLE = "SYMPHONY_DIR";

export interface SymphonyConfigOptions {
  /** Defaults to `$SYMPHONY_DIR`, else `/symphony`. */
  directory?: string;
  /** Defaults to `process.env`. */
  env?: NodeJS.ProcessEnv;
}

/**
 * Reads the runtime configuration the way the platform provides it (RUNTIME.md 2.1): the
 * file `/symphony/<name>` wins; otherwise the environment variable `<NAME>`; JSON values may
 * be base64-encoded JSON in the environment. String values are trimmed.
 */
export class SymphonyConfig {
  readonly directory: string;
  private readonly env: NodeJS.ProcessEnv;

  constructor(options: SymphonyConfigOptions = {}) {
    this.env = options.env ?? process.env;
    this.directory = options.directory ?? this.env[SYMPHONY_DIR_VARIABLE] ?? DEFAULT_SYMPHONY_DIR;
  }

  /** The raw text of a value, or undefined when neither file nor variable holds it. */
  readString(name: string): string | undefined {
    const raw = this.readRaw(name);
    const trimmed = raw?.text.trim();

    return trimmed === undefined || trimmed === "" ? undefined : trimmed;
  }

  /** The parsed JSON of a value, or undefined when absent. Unparsable JSON is an error. */
  readJson(name: string): unknown {
    const raw = this.readRaw(name);
    if (raw === undefined || raw.text.trim() === "") {
      return undefined;
    }
    try {
      return JSON.parse(raw.text) as unknown;
    } catch (error: unknown) {
      if (raw.origin === "environment") {
        const decoded = decodeBase64Json(raw.text);
        if (decoded !== undefined) {
          return decoded;
        }
      }
      throw new ConfigurationError(
        name,
        [],
        `${name} (${raw.where}) is not valid JSON: ${describeSyntaxError(error)}. ` +
          "Write the configuration as a JSON object" +
          (raw.origin === "environment" ? ", or as base64 of a JSON object." : "."),
        { cause: error },
      );
    }
  }

  /** Like readJson, but a missing value is a configuration error naming both places. */
  requireJson(name: string): unknown {
    const value = this.readJson(name);
    if (value === undefined) {
      const raw = this.readRaw(name);
      throw new ConfigurationError(
        name,
        [],
        raw === undefined
          ? `${name} is missing: neither the file ${join(this.directory, name)} nor the ` +
              `environment variable ${name.toUpperCase()} is set.`
          : `${name} (${raw.where}) is empty: it must hold a JSON object.`,
      );
    }

    return value;
  }

  /** An integer value such as `liveness_port`, or the fallback when absent. */
  readInteger(name: string, fallback: number, maximum = Number.MAX_SAFE_INTEGER): number {
    const text = this.readString(name);
    if (text === undefined) {
      return fallback;
    }
    const value = /^\d+$/.test(text) ? Number(text) : Number.NaN;
    if (!Number.isSafeInteger(value) || value > maximum) {
      throw new ConfigurationError(
        name,
        [],
        `${name} must be an integer between 0 and ${maximum}, got "${text}".`,
      );
    }

    return value;
  }

  private readRaw(
    name: string,
  ): { text: string; origin: "file" | "environment"; where: string } | undefined {
    const path = join(this.directory, name);
    if (existsSync(path)) {
      try {
        return { text: readFileSync(path, "utf8"), origin: "file", where: `file ${path}` };
      } catch (error: unknown) {
        throw new ConfigurationError(
          name,
          [],
          `${name} cannot be read from ${path} (${(error as NodeJS.ErrnoException).code ?? "error"}): ` +
            "it must be a readable file holding the value.",
          { cause: error },
        );
      }
    }
    const variable = name.toUpperCase();
    const value = this.env[variable];
    if (value === undefined || value === "") {
      return undefined;
    }

    return { text: value, origin: "environment", where: `environment variable ${variable}` };
  }
}

/** V8 quotes the text around a JSON syntax error; that text may hold a secret. */
function describeSyntaxError(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);

  return message.replace(/,? *(?:\.\.\.)?"[\s\S]*"(?:\.\.\.)? is not valid JSON$/, "");
}

function decodeBase64Json(text: string): unknown {
  const compact = text.trim();
  if (!/^[A-Za-z0-9+/=_-]+$/.test(compact)) {
    return undefined;
  }
  try {
    return JSON.parse(Buffer.from(compact, "base64").toString("utf8")) as unknown;
  } catch {
    return undefined;
  }
}
