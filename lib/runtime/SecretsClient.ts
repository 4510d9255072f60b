import { PlatformError } from "../errors/PlatformError.js";
import type { HttpTransport } from "../http/HttpTransport.js";
import type { Logger } from "./createLogger.js";
import type { SecretRedactor } from "./SecretRedactor.js";
import type { SymphonyConfig } from "./SymphonyConfig.js";

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

/**
 * Placeholder with the final signature; the platform secrets client replaces it.
 * Returns undefined when no secrets endpoint is configured (local runs).
 */
export function fetchModuleSecrets(
  options: SecretsFetchOptions,
): Promise<Record<string, string> | undefined> {
  const endpoint =
    options.symphony.readString("url_secrets") ?? options.symphony.readString("url_callback");
  if (endpoint === undefined || options.secretKeys.length === 0) {
    return Promise.resolve(undefined);
  }

  return Promise.reject(
    new PlatformError("fetch secrets", undefined, "fetching secrets is not available yet"),
  );
}
