import { IntakeError } from "../errors/IntakeError.js";
import { describeError } from "../errors/ModuleError.js";
import { HttpRequestError } from "../http/HttpRequestError.js";
import type { HttpResponse, HttpTransport } from "../http/HttpTransport.js";
import { Backoff, sleep } from "../runtime/Backoff.js";
import type { Logger } from "../runtime/createLogger.js";
import type { Liveness } from "../runtime/Liveness.js";
import type { Metrics } from "../runtime/Metrics.js";

/** Attempts for one request while the intake answers 429, 5xx or nothing. */
export const INTAKE_MAX_ATTEMPTS = 8;
export const INTAKE_RETRY_INITIAL_DELAY_MS = 1_000;
export const INTAKE_RETRY_MAX_DELAY_MS = 60_000;
/** Longest wait between two tries while the intake refuses the key (401/403/404). */
export const INTAKE_REJECTED_MAX_DELAY_MS = 5 * 60_000;
export const INTAKE_REQUEST_TIMEOUT_MS = 60_000;

export interface IntakeClientOptions {
  /** Base URL; requests go to `<intakeServer>/batch`. */
  intakeServer: string;
  /** The key, masked, for logs and metric labels. */
  maskedKey: string;
  userAgent: string;
  http: HttpTransport;
  logger: Logger;
  metrics: Metrics;
  liveness: Liveness;
  maxAttempts?: number;
  retryDelayMs?: { initial: number; max: number; rejectedMax: number };
  requestTimeoutMs?: number;
}

/**
 * Posts encoded batches to the intake. Decides per answer: 2xx accepted; 429 (honouring
 * Retry-After), 5xx, timeouts and network errors retried with backoff and jitter up to
 * `maxAttempts`; 401/403/404 mean the key or server is wrong: one critical log naming the
 * intake, then patient retries, never a hot loop, and recovery as soon as it accepts again;
 * other 4xx refuse the batch itself.
 */
export class IntakeClient {
  readonly batchUrl: URL;
  private rejectedSince: number | undefined;
  private rejectionReported = false;

  constructor(private readonly options: IntakeClientOptions) {
    const base = options.intakeServer.endsWith("/")
      ? options.intakeServer
      : `${options.intakeServer}/`;
    this.batchUrl = new URL("batch", base);
  }

  /** Sends one body until accepted; resolves to the number of events accepted. */
  async send(body: Buffer, eventCount: number, signal: AbortSignal): Promise<number> {
    const started = performance.now();
    const delays = this.options.retryDelayMs ?? {
      initial: INTAKE_RETRY_INITIAL_DELAY_MS,
      max: INTAKE_RETRY_MAX_DELAY_MS,
      rejectedMax: INTAKE_REJECTED_MAX_DELAY_MS,
    };
    const transient = new Backoff({ initialDelayMs: delays.initial, maxDelayMs: delays.max });
    const rejected = new Backoff({
      initialDelayMs: delays.initial,
      maxDelayMs: delays.rejectedMax,
    });
    const maxAttempts = this.options.maxAttempts ?? INTAKE_MAX_ATTEMPTS;
    let failures = 0;
    for (;;) {
      if (signal.aborted) {
        throw new IntakeError("aborted", undefined, `POST ${this.target()} was cancelled.`);
      }
      const outcome = await this.attempt(body, signal);
      if (outcome.kind === "accepted") {
        this.recovered();
        this.options.metrics.forwardDuration
          .labels(this.options.maskedKey)
          .observe((performance.now() - started) / 1000);

        return eventCount;
      }
      if (outcome.kind === "refused") {
        throw new IntakeError(
          "refused-batch",
          outcome.status,
          `The intake ${this.target()} refused a batch of ${eventCount} events with HTTP ` +
            `${outcome.status}: ${outcome.detail}.`,
        );
      }
      if (outcome.kind === "rejected") {
        this.reportRejection(outcome.status);
        this.options.metrics.retries.labels("intake_rejected").inc();
        this.options.liveness.heartbeat();
        await sleep(rejected.next(), signal);
        continue;
      }
      failures += 1;
      if (failures >= maxAttempts) {
        throw new IntakeError(
          "unavailable",
          outcome.status,
          `POST ${this.target()} failed ${failures} times, last: ${outcome.detail}.`,
        );
      }
      this.options.metrics.retries.labels(outcome.reason).inc();
      this.options.logger.log("warning", "intake request failed, retrying", {
        intake: this.target(),
        reason: outcome.detail,
        attempt: failures,
        events: eventCount,
      });
      await sleep(outcome.retryAfterMs ?? transient.next(), signal);
    }
  }

  private async attempt(body: Buffer, signal: AbortSignal): Promise<AttemptOutcome> {
    let response: HttpResponse;
    try {
      response = await this.options.http.request({
        method: "POST",
        url: this.batchUrl,
        headers: {
          "content-type": "application/json",
          "user-agent": this.options.userAgent,
        },
        body,
        timeoutMs: this.options.requestTimeoutMs ?? INTAKE_REQUEST_TIMEOUT_MS,
        signal,
      });
    } catch (error: unknown) {
      if (error instanceof HttpRequestError && error.aborted) {
        throw new IntakeError("aborted", undefined, `POST ${this.target()} was cancelled.`, {
          cause: error,
        });
      }
      const timedOut = error instanceof HttpRequestError && error.timedOut;

      return {
        kind: "transient",
        reason: timedOut ? "intake_timeout" : "intake_network",
        detail: describeError(error),
        status: undefined,
        retryAfterMs: undefined,
      };
    }

    return classifyResponse(response, this.options.retryDelayMs?.max ?? INTAKE_RETRY_MAX_DELAY_MS);
  }

  private reportRejection(status: number): void {
    this.rejectedSince ??= Date.now();
    if (!this.rejectionReported) {
      this.rejectionReported = true;
      this.options.logger.log(
        "critical",
        "the intake refuses the intake key: check the intake key and the intake server in the " +
          "trigger configuration; events are kept and sent once the intake accepts them",
        { intake: this.target(), intakeKey: this.options.maskedKey, status },
      );
    }
  }

  private recovered(): void {
    if (this.rejectedSince !== undefined) {
      this.options.logger.info("the intake accepts events again", {
        intake: this.target(),
        rejectedForSeconds: Math.round((Date.now() - this.rejectedSince) / 1000),
      });
      this.rejectedSince = undefined;
    }
  }

  private target(): string {
    return `${this.batchUrl.origin}${this.batchUrl.pathname}`;
  }
}

type AttemptOutcome =
  | { kind: "accepted" }
  | { kind: "rejected"; status: number }
  | { kind: "refused"; status: number; detail: string }
  | {
      kind: "transient";
      reason: string;
      detail: string;
      status: number | undefined;
      retryAfterMs: number | undefined;
    };

function classifyResponse(response: HttpResponse, maxDelayMs: number): AttemptOutcome {
  const status = response.status;
  if (status >= 200 && status < 300) {
    return { kind: "accepted" };
  }
  if (status === 401 || status === 403 || status === 404) {
    return { kind: "rejected", status };
  }
  const detail = `HTTP ${status} ${response.body.slice(0, 200)}`.trim();
  if (status === 429) {
    return {
      kind: "transient",
      reason: "intake_429",
      detail,
      status,
      retryAfterMs: parseRetryAfter(response.headers["retry-after"], maxDelayMs),
    };
  }
  if (status >= 500 || status === 408 || status === 425) {
    return { kind: "transient", reason: "intake_5xx", detail, status, retryAfterMs: undefined };
  }

  return { kind: "refused", status, detail };
}

/** Retry-After in seconds or as an HTTP date, capped; undefined when absent or unreadable. */
export function parseRetryAfter(
  header: string | string[] | undefined,
  maxDelayMs: number,
): number | undefined {
  const value = Array.isArray(header) ? header[0] : header;
  if (value === undefined || value.trim() === "") {
    return undefined;
  }
  const seconds = Number(value);
  const delay = Number.isFinite(seconds) ? seconds * 1000 : Date.parse(value) - Date.now();
  if (!Number.isFinite(delay)) {
    return undefined;
  }

  return Math.min(Math.max(delay, 0), maxDelayMs);
}
