import { createHash } from "node:crypto";

import { LOG_LEVELS, type LogLevel } from "./createLogger.js";

/** Longer messages are remembered by their digest in the duplicate window. */
const DUPLICATE_KEY_MAX_CHARS = 256;

/** Longest message sent; a log line embedding a payload is cut there. */
const MESSAGE_MAX_CHARS = 16_384;

/** Info fields that the entry carries elsewhere, or that the platform stamps itself. */
const NON_FIELD_KEYS = new Set(["level", "message", "timestamp"]);

/** Stands for a field that JSON cannot represent. */
const UNRENDERABLE_VALUE = "[unrenderable]";

/** winston keeps the level unchanged by formats under this symbol. */
const LEVEL_SYMBOL = Symbol.for("level");

/** The platform's date form: naive UTC with microseconds, `2024-05-01T12:00:00.123000`. */
export function formatPlatformDate(epochMs: number): string {
  return `${new Date(epochMs).toISOString().slice(0, 23)}000`;
}

/**
 * The message followed by the entry's fields as `key=value`, so that the context (bucket,
 * key, queue) is visible on the platform. Strings with spaces or quotes are JSON-quoted.
 */
export function renderLogMessage(info: Record<string, unknown>): string {
  const message =
    typeof info["message"] === "string" ? info["message"] : renderValue(info["message"]);
  const fields = Object.entries(info)
    .filter(([key, value]) => !NON_FIELD_KEYS.has(key) && value !== undefined)
    .map(([key, value]) => `${key}=${renderValue(value)}`);

  return [message, ...fields].filter((part) => part !== "").join(" ");
}

function renderValue(value: unknown): string {
  if (typeof value === "string") {
    return /^[^\s"=]+$/.test(value) ? value : JSON.stringify(value);
  }
  if (typeof value === "number" || typeof value === "boolean" || typeof value === "bigint") {
    return String(value);
  }
  if (value === undefined) {
    return "";
  }
  if (value instanceof Error) {
    return JSON.stringify(value.message);
  }
  try {
    return JSON.stringify(value) ?? "";
  } catch {
    // Circular structures and nested bigints: the message itself still goes out.
    return UNRENDERABLE_VALUE;
  }
}

export function platformLevel(info: Record<string, unknown>): LogLevel {
  const raw = (info as Record<symbol, unknown>)[LEVEL_SYMBOL] ?? info["level"];
  if (raw === "warn") {
    return "warning";
  }

  return typeof raw === "string" && raw in LOG_LEVELS ? (raw as LogLevel) : "info";
}

/** Long messages are remembered by digest, so that the window costs little memory. */
export function duplicateKey(level: LogLevel, message: string): string {
  if (message.length <= DUPLICATE_KEY_MAX_CHARS) {
    return `${level}:${message}`;
  }

  return `${level}#${createHash("sha256").update(message).digest("base64")}`;
}

export function truncate(message: string): string {
  return message.length <= MESSAGE_MAX_CHARS
    ? message
    : `${message.slice(0, MESSAGE_MAX_CHARS)}... (truncated)`;
}
