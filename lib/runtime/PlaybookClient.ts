import { randomUUID } from "node:crypto";

import { PlatformError } from "../errors/PlatformError.js";
import { describeError } from "../errors/ModuleError.js";
import type { HttpTransport } from "../http/HttpTransport.js";
import { sleep } from "./Backoff.js";
import type { Logger } from "./createLogger.js";
import { platformUrls } from "./PlatformUrls.js";
import type { SecretRedactor } from "./SecretRedactor.js";
import type { SymphonyConfig } from "./SymphonyConfig.js";

/** Attempts per callback request (RUNTIME.md 6). */
export const CALLBACK_MAX_ATTEMPTS = 10;

/** Waits between attempts: `2 ** attempt` s, from 2 s up to 512 s (about 17 min in all). */
export const CALLBACK_RETRY_DELAYS_MS: readonly number[] = Array.from(
  { length: CALLBACK_MAX_ATTEMPTS - 1 },
  (_, index) => 2 ** (index + 1) * 1_000,
);

/** Time allowed for one callback request. */
export const CALLBACK_REQUEST_TIMEOUT_MS = 30_000;

/** Characters of a refusal's answer quoted in the error message. */
const ANSWER_EXCERPT_CHARS = 200;

export interface PlaybookClientOptions {
  /** `url_callback`. */
  callbackUrl: URL;
  /** The platform bearer token. */
  token: string;
  /** Shared keep-alive transport; concurrent calls reuse its connections. */
  http: HttpTransport;
  /** Receives one warning per retried attempt. */
  logger?: Logger;
  /** Applied to quoted answers in error messages. */
  redactor?: SecretRedactor;
  /** Waits between attempts, in milliseconds; the last one repeats. */
  retryDelaysMs?: readonly number[];
  /** Time allowed for one request, in milliseconds; 30 s by default. */
  requestTimeoutMs?: number;
}

/** Per-call options of the callback requests. */
export interface CallbackRequestOptions {
  /** Stops the retries (shutdown); the call then rejects with a PlatformError. */
  signal?: AbortSignal;
}

/** Options of `sendEvent`. */
export interface SendEventOptions extends CallbackRequestOptions {
  /** A folder of the data path handed to the playbook run, relative and in POSIX form. */
  directory?: string;
}

/**
 * The playbook runtime's callback endpoint (`url_callback`, RUNTIME.md 6 and 8): playbook
 * events and the account validator's status updates. 4xx answers fail at once (but 408 and
 * 429, which say "later"); 5xx and network errors are retried with `2 ** attempt` s waits.
 */
export class PlaybookClient {
  constructor(private readonly options: PlaybookClientOptions) {}

  /** A client from `url_callback` and `token`; undefined when either is missing. */
  static fromSymphony(
    services: { symphony: SymphonyConfig; http: HttpTransport; redactor: SecretRedactor } & {
      logger?: Logger;
    },
    options: Pick<PlaybookClientOptions, "retryDelaysMs" | "requestTimeoutMs"> = {},
  ): PlaybookClient | undefined {
    const urls = platformUrls(services.symphony, services.redactor);
    if (urls.callback === undefined || urls.token === undefined) {
      return undefined;
    }

    return new PlaybookClient({
      ...options,
      callbackUrl: urls.callback,
      token: urls.token,
      http: services.http,
      redactor: services.redactor,
      ...(services.logger === undefined ? {} : { logger: services.logger }),
    });
  }

  /**
   * Starts a playbook run with `event`. The request id is the same across the retries, so
   * that the platform can recognise a repeated delivery.
   */
  async sendEvent(
    name: string,
    event: Record<string, unknown>,
    options: SendEventOptions = {},
  ): Promise<void> {
    const body: Record<string, unknown> = { name, event, request_id: randomUUID() };
    if (options.directory !== undefined) {
      body["directory"] = options.directory;
    }

    await this.call("POST", body, "send event", options);
  }

  /**
   * Sends `body` to `url_callback` with the contract's retry rules and resolves to the
   * parsed JSON answer, or undefined when the answer is not JSON.
   */
  async call(
    method: "POST" | "PATCH",
    body: unknown,
    operation: string,
    options: CallbackRequestOptions = {},
  ): Promise<unknown> {
    const target = `${method} ${this.options.callbackUrl.pathname}`;
    const delays = this.options.retryDelaysMs ?? CALLBACK_RETRY_DELAYS_MS;
    let lastStatus: number | undefined;
    let lastReason = "not attempted";
    for (let attempt = 1; attempt <= CALLBACK_MAX_ATTEMPTS; attempt += 1) {
      this.throwIfAborted(operation, target, lastStatus, options.signal);
      try {
        const response = await this.options.http.request({
          method,
          url: this.options.callbackUrl,
          headers: {
            authorization: `Bearer ${this.options.token}`,
            "content-type": "application/json",
            accept: "application/json",
          },
          body: JSON.stringify(body),
          timeoutMs: this.options.requestTimeoutMs ?? CALLBACK_REQUEST_TIMEOUT_MS,
          ...(options.signal === undefined ? {} : { signal: options.signal }),
        });
        if (response.status >= 200 && response.status < 300) {
          return parseJson(response.body);
        }
        if (isFinalStatus(response.status)) {
          throw new PlatformError(
            operation,
            response.status,
            `${target} was refused with HTTP ${response.status}: ${this.excerpt(response.body)}`,
          );
        }
        lastStatus = response.status;
        lastReason = `HTTP ${response.status}`;
      } catch (error: unknown) {
        if (error instanceof PlatformError) {
          throw error;
        }
        lastStatus = undefined;
        lastReason = describeError(error);
      }
      this.throwIfAborted(operation, target, lastStatus, options.signal);

      if (attempt < CALLBACK_MAX_ATTEMPTS) {
        const delayMs = delays[Math.min(attempt - 1, delays.length - 1)] ?? 0;
        this.options.logger?.log("warning", "platform callback failed, retrying", {
          operation,
          path: this.options.callbackUrl.pathname,
          status: lastStatus,
          reason: lastReason,
          attempt,
          delayMs,
        });
        await sleep(delayMs, options.signal);
      }
    }

    throw new PlatformError(
      operation,
      lastStatus,
      `${target} failed ${CALLBACK_MAX_ATTEMPTS} times; last: ${lastReason}`,
    );
  }

  private throwIfAborted(
    operation: string,
    target: string,
    status: number | undefined,
    signal: AbortSignal | undefined,
  ): void {
    if (signal?.aborted) {
      throw new PlatformError(operation, status, `${target} was cancelled by shutdown`);
    }
  }

  /** Redacted before it is cut, so that a secret cut in two cannot show its first half. */
  private excerpt(body: string): string {
    const redacted = this.options.redactor?.redactText(body) ?? body;

    return redacted.trim() === "" ? "(empty answer)" : redacted.slice(0, ANSWER_EXCERPT_CHARS);
  }
}

/** 4xx but 408 and 429: sending the same request again would be refused again. */
function isFinalStatus(status: number): boolean {
  return status >= 400 && status < 500 && status !== 408 && status !== 429;
}

function parseJson(body: string): unknown {
  try {
    return JSON.parse(body) as unknown;
  } catch {
    return undefined;
  }
}
