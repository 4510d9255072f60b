import winston from "winston";
import type Transport from "winston-transport";

import { ModuleError } from "../errors/ModuleError.js";
import type { SecretRedactor } from "./SecretRedactor.js";

/** The logger every component receives; winston's, so transports can be added. */
export type Logger = winston.Logger;

/** Levels in the platform's vocabulary (RUNTIME.md section 5), most severe first. */
export const LOG_LEVELS = { critical: 0, error: 1, warning: 2, info: 3, debug: 4 } as const;

export type LogLevel = keyof typeof LOG_LEVELS;

export interface LoggerOptions {
  redactor: SecretRedactor;
  /** Lowest level written; `LOG_LEVEL` in the environment, else `info`. */
  level?: LogLevel;
  /** Extra transports, e.g. the platform logs API. Stdout is always there. */
  transports?: Transport[];
  /** Where the stdout transport writes; tests pass their own stream. */
  stream?: NodeJS.WritableStream;
  /** Told of every critical entry: the trigger counts as broken until restarted. */
  onCritical?: (message: string) => void;
}

/** Turns errors in log fields into plain objects with name, code and message. */
function errorFields(error: unknown): Record<string, unknown> {
  if (!(error instanceof Error)) {
    return { message: String(error) };
  }
  const fields: Record<string, unknown> = { name: error.name, message: error.message };
  if (ModuleError.isModuleError(error)) {
    fields["code"] = error.code;
  }
  if (error.cause instanceof Error) {
    fields["cause"] = error.cause.message;
  }

  return fields;
}

/** A winston format that removes secrets and flattens errors, applied before any output. */
export function redactFormat(redactor: SecretRedactor): winston.Logform.Format {
  return winston.format((info) => {
    if (info instanceof Error) {
      // An Error logged alone is the info object: its message and stack are not enumerable.
      for (const key of ["message", "stack"] as const) {
        Object.defineProperty(info, key, { value: info[key], enumerable: true, writable: true });
      }
    }
    for (const key of Object.keys(info)) {
      const value = info[key];
      if (value instanceof Error) {
        info[key] = redactor.redact(errorFields(value));
      } else if (key !== "level") {
        info[key] = redactor.redact(value);
      }
    }

    return info;
  })();
}

/** Calls `onCritical` for each critical entry, before any output. */
function criticalWatch(
  onCritical: ((message: string) => void) | undefined,
): winston.Logform.Format {
  return winston.format((info) => {
    if (info.level === "critical" && onCritical !== undefined) {
      onCritical(String(info.message));
    }

    return info;
  })();
}

/**
 * Creates the process logger: structured JSON lines on stdout, secrets redacted, levels named
 * as the platform names them. Library code receives it as a parameter, never imports it.
 */
export function createLogger(options: LoggerOptions): Logger {
  const level = options.level ?? parseLogLevel(process.env["LOG_LEVEL"]);
  const stdout = options.stream
    ? new winston.transports.Stream({ stream: options.stream })
    : new winston.transports.Console();

  return winston.createLogger({
    levels: LOG_LEVELS,
    level,
    format: winston.format.combine(
      criticalWatch(options.onCritical),
      redactFormat(options.redactor),
      winston.format.timestamp(),
      winston.format.json(),
    ),
    transports: [stdout, ...(options.transports ?? [])],
  });
}

/** Accepts platform and common spellings (`warn`, `WARNING`, `20`); defaults to `info`. */
export function parseLogLevel(value: string | undefined): LogLevel {
  const normalised = (value ?? "").trim().toLowerCase();
  const aliases: Record<string, LogLevel> = {
    warn: "warning",
    fatal: "critical",
    "10": "debug",
    "20": "info",
    "30": "warning",
    "40": "error",
    "50": "critical",
  };
  const candidate = aliases[normalised] ?? normalised;

  return candidate in LOG_LEVELS ? (candidate as LogLevel) : "info";
}
