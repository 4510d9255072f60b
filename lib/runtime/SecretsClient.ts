import { ConfigurationError } from "../errors/ConfigurationError.js";
import { PlatformError } from "../errors/PlatformError.js";
import { describeError } from "../errors/ModuleError.js";
import type { HttpTransport } from "../http/HttpTransport.js";
import { sleep } from "./Backoff.js";
import type { Logger } from "./createLogger.js";
import { platformUrls } from "./PlatformUrls.js";
import type { SecretRedactor } from "./SecretRedactor.js";
import type { SymphonyConfig } from "./SymphonyConfig.js";

/** Waits between attempts (RUNTIME.md 2.4); the last one repeats: 1, 2, 4, 8, 10, 10... s. */
export const SECRETS_RETRY_DELAYS_MS: readonly number[] = [1_000, 2_000, 4_000, 8_000, 10_000];

/** Attempts before the module gives up starting. */
export const SECRETS_MAX_ATTEMPTS = 10;

/** Time allowed for one request to the secrets endpoint. */
export const SECRETS_REQUEST_TIMEOUT_MS = 30_000;

const OPERATION = "fetch secrets";

/** What fetchModuleSecrets needs. */
export interface SecretsFetchOptions {
  symphony: SymphonyConfig;
  http: HttpTransport;
  logger: Logger;
  redactor: SecretRedactor;
  /** The manifest's `configuration.secrets`: the keys to take from the answer. */
  secretKeys: readonly string[];
  /** Waits between attempts, in milliseconds; the contract's 1, 2, 4, 8, 10... s by default. */
  retryDelaysMs?: readonly number[];
  signal?: AbortSignal;
}

/** The outcome of one attempt: an answer to read, or a failure worth retrying. */
type Attempt = { body: string } | Failure;

interface Failure {
  status: number | undefined;
  reason: string;
}

/**
 * Fetches the real values of the module configuration's secret keys from the platform
 * (`GET url_secrets`, RUNTIME.md 2.4) and registers them with the redactor. Resolves to
 * undefined when the manifest declares no secrets or no secrets endpoint is configured
 * (local runs). Unlike SDK 1.22.3, a failure is fatal: the module never starts on the
 * placeholders the platform writes in place of secret values.
 */
export async function fetchModuleSecrets(
  options: SecretsFetchOptions,
): Promise<Record<string, string> | undefined> {
  const urls = platformUrls(options.symphony, options.redactor);
  if (options.secretKeys.length === 0 || urls.secrets === undefined) {
    return undefined;
  }

  const url = urls.secrets;
  if (urls.token === undefined) {
    throw new ConfigurationError(
      "token",
      [],
      `token is missing, so GET ${url.pathname} cannot be authorised; ` +
        "the module will not start on the placeholder values of its secrets.",
    );
  }
  const delays = options.retryDelaysMs ?? SECRETS_RETRY_DELAYS_MS;
  let last: Failure = { status: undefined, reason: "not attempted" };
  for (let attempt = 1; attempt <= SECRETS_MAX_ATTEMPTS; attempt += 1) {
    throwIfAborted(url, last, options.signal);
    const outcome = await attemptFetch(options, url, urls.token);
    if ("body" in outcome) {
      return readSecrets(options, url, outcome.body);
    }
    last = outcome;
    throwIfAborted(url, last, options.signal);
    if (attempt < SECRETS_MAX_ATTEMPTS) {
      const delayMs = delays[Math.min(attempt - 1, delays.length - 1)] ?? 0;
      options.logger.log("warning", "secrets fetch failed, retrying", {
        path: url.pathname,
        status: last.status,
        reason: last.reason,
        attempt,
        delayMs,
      });
      await sleep(delayMs, options.signal);
    }
  }
  const lastOutcome =
    last.status === undefined ? `no answer: ${last.reason}` : `last status ${last.status}`;

  throw new PlatformError(
    OPERATION,
    last.status,
    `GET ${url.pathname} failed ${SECRETS_MAX_ATTEMPTS} times (${lastOutcome}); ` +
      "the module will not start on the placeholder values of its secrets.",
  );
}

async function attemptFetch(
  options: SecretsFetchOptions,
  url: URL,
  token: string,
): Promise<Attempt> {
  const headers = { accept: "application/json", authorization: `Bearer ${token}` };
  try {
    const response = await options.http.request({
      method: "GET",
      url,
      headers,
      timeoutMs: SECRETS_REQUEST_TIMEOUT_MS,
      ...(options.signal === undefined ? {} : { signal: options.signal }),
    });
    if (response.status >= 200 && response.status < 300) {
      return { body: response.body };
    }

    return { status: response.status, reason: `HTTP ${response.status}` };
  } catch (error: unknown) {
    return { status: undefined, reason: options.redactor.redactText(describeError(error)) };
  }
}

/** Keeps the declared keys, registers every value, and refuses an incomplete answer. */
function readSecrets(options: SecretsFetchOptions, url: URL, body: string): Record<string, string> {
  const value = parseValue(body);
  if (value === undefined) {
    throw new PlatformError(
      OPERATION,
      undefined,
      `GET ${url.pathname} answered without a "value" object; expected the secrets ` +
        `${options.secretKeys.join(", ")}. The module will not start on placeholder values.`,
    );
  }

  const secrets: Record<string, string> = {};
  for (const key of options.secretKeys) {
    const secret = value[key];
    if (typeof secret === "string" && secret !== "") {
      options.redactor.add(secret);
      secrets[key] = secret;
    }
  }
  const missing = options.secretKeys.filter(
    (key) => secrets[key] === undefined && holdsPlaceholder(options.symphony, key),
  );
  if (missing.length > 0) {
    throw new PlatformError(
      OPERATION,
      undefined,
      `GET ${url.pathname} answered without a value for ${missing.join(", ")}; ` +
        "the module will not start on the placeholder values of its secrets.",
    );
  }
  options.logger.info("module secrets fetched", { keys: Object.keys(secrets) });

  return secrets;
}

function parseValue(body: string): Record<string, unknown> | undefined {
  try {
    const parsed = JSON.parse(body) as unknown;
    const value = isRecord(parsed) ? parsed["value"] : undefined;

    return isRecord(value) ? value : undefined;
  } catch {
    return undefined;
  }
}

/**
 * True when the module configuration holds something for `key` that the secret must replace.
 * A key the configuration leaves out (a role-based setup has no secret access key) may be
 * absent from the answer; an unreadable configuration counts as holding every key.
 */
function holdsPlaceholder(symphony: SymphonyConfig, key: string): boolean {
  try {
    const configuration = symphony.readJson("module_configuration");
    if (!isRecord(configuration)) {
      return true;
    }
    const placeholder = configuration[key];

    return placeholder !== undefined && placeholder !== null && placeholder !== "";
  } catch {
    return true;
  }
}

function throwIfAborted(url: URL, last: Failure, signal: AbortSignal | undefined): void {
  if (signal?.aborted) {
    throw new PlatformError(
      OPERATION,
      last.status,
      `GET ${url.pathname} was cancelled by shutdown before the secrets were fetched.`,
    );
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
