import { IntakeError } from "../errors/IntakeError.js";
import { describeError } from "../errors/ModuleError.js";
import { HttpRequestError } from "../http/HttpRequestError.js";
import type { HttpResponse, HttpTransport } from "../http/HttpTransport.js";
import { Backoff, sleep } from "../runtime/Backoff.js";
import type { Logger } from "../runtime/createLogger.js";
import type { Liveness } from "../runtime/Liveness.js";
import type { Metrics } from "../runtime/Metrics.js";

/** Failed attempts in a row after which an intake outage is reported as an error. */
export const INTAKE_FAILURES_BEFORE_ERROR = 8;
export const INTAKE_RETRY_INITIAL_DELAY_MS = 1_000;
export const INTAKE_RETRY_MAX_DELAY_MS = 60_000;
/** Longest wait between two tries while the intake refuses the key or the server is wrong. */
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
  /** Hides secrets (the intake key) in what the intake answers before it is quoted. */
  redactText?: (text: string) => string;
  /** Failed attempts in a row after which the outage is logged as an error. */
  failuresBeforeError?: number;
  retryDelayMs?: { initial: number; max: number; rejectedMax: number };
  requestTimeoutMs?: number;
}

/**
 * Posts encoded batches to the intake, and decides per answer:
 * - 2xx: accepted;
 * - 429 (honouring Retry-After), 5xx, timeouts and network errors: retried with exponential
 *   backoff and jitter, the wait capped at a minute, for as long as it takes: the events stay
 *   in memory and their queue messages stay held (a release would count as a receive and feed
 *   the dead-letter queue); a long outage is reported once as an error;
 * - 401/403/404 (the key or the server is wrong) and redirects or 405 (not the intake): one
 *   critical log naming the intake, then patient retries, never a hot loop, and recovery as
 *   soon as it accepts again;
 * - other 4xx: the batch itself is refused (IntakeError "refused-batch").
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
    const failuresBeforeError = this.options.failuresBeforeError ?? INTAKE_FAILURES_BEFORE_ERROR;
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
      this.options.metrics.retries.labels(outcome.reason).inc();
      const fields = {
        intake: this.target(),
        reason: outcome.detail,
        attempt: failures,
        events: eventCount,
      };
      if (failures === failuresBeforeError) {
        this.options.logger.error(
          "the intake keeps failing: events are kept and sent once it accepts them",
          fields,
        );
      } else if (failures < failuresBeforeError) {
        this.options.logger.log("warning", "intake request failed, retrying", fields);
      }
      this.options.liveness.heartbeat();
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

    const redact = this.options.redactText ?? ((text: string) => text);

    return classifyResponse(
      { ...response, body: redact(response.body) },
      this.options.retryDelayMs?.max ?? INTAKE_RETRY_MAX_DELAY_MS,
    );
  }

  private reportRejection(status: number): void {
    this.rejectedSince ??= Date.now();
    if (!this.rejectionReported) {
      this.rejectionReported = true;
      this.options.logger.log("critical", rejectionMessage(status), {
        intake: this.target(),
        intakeKey: this.options.maskedKey,
        status,
      });
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

/** What a rejecting answer means for the person fixing the configuration. */
function rejectionMessage(status: number): string {
  const kept = "; events are kept and sent once the intake accepts them";
  if (status === 401 || status === 403) {
    return `the intake refuses the intake key: check the intake key and the intake server in the trigger configuration${kept}`;
  }
  if (status >= 300 && status < 400) {
    return `the intake server redirects (HTTP ${status}): set intake_server to the address it redirects to, usually its https:// form${kept}`;
  }

  return `the intake server has no such intake or batch API (HTTP ${status}): check intake_server and the intake key${kept}`;
}

/**
 * Answers that say the key or the server is wrong, whatever the batch: refused key, no such
 * intake, a redirect (an http:// server in front of an https:// intake), not the batch API.
 */
const REJECTING_STATUSES = new Set([301, 302, 303, 307, 308, 401, 403, 404, 405]);

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
  if (REJECTING_STATUSES.has(status)) {
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
