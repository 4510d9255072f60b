import Transport from "winston-transport";

import { describeError } from "../errors/ModuleError.js";
import type { HttpTransport } from "../http/HttpTransport.js";
import { sleep } from "./Backoff.js";
import { LOG_LEVELS, type LogLevel } from "./createLogger.js";
import {
  duplicateKey,
  formatPlatformDate,
  platformLevel,
  renderLogMessage,
  truncate,
} from "./PlatformLogFormat.js";

export { formatPlatformDate, renderLogMessage } from "./PlatformLogFormat.js";
import type { SecretRedactor } from "./SecretRedactor.js";

/** Most entries in one POST (RUNTIME.md 5, `LOGS_MAX_BATCH_SIZE`). */
export const LOGS_BATCH_SIZE = 50;

/** How long an entry may wait before it is sent with the next batch. */
export const LOGS_FLUSH_INTERVAL_MS = 5_000;

/** The same level and message within this window is sent once (critical excepted). */
export const LOGS_DUPLICATE_WINDOW_MS = 60_000;

/** Entries kept while the platform is unreachable; beyond that the oldest are dropped. */
export const LOGS_BUFFER_ENTRIES = 10_000;

/** Waits between attempts at a failed batch; the last one repeats: 1, 2, 4, 8, 10... s. */
export const LOGS_RETRY_DELAYS_MS: readonly number[] = [1_000, 2_000, 4_000, 8_000, 10_000];

/** Time allowed for one POST to the logs endpoint. */
export const LOGS_REQUEST_TIMEOUT_MS = 30_000;

/** How long `flush()` waits by default. */
export const LOGS_FLUSH_DEADLINE_MS = 10_000;

/** Distinct messages remembered for the duplicate window. */
const DUPLICATE_KEYS_MAX = 4_096;

/** Consecutive failed attempts after which the outage is reported on stderr. */
const PERSISTENT_FAILURE_ATTEMPTS = 5;

/** One entry of the platform logs API (RUNTIME.md 5). */
export interface PlatformLogEntry {
  /** Naive UTC, `YYYY-MM-DDTHH:MM:SS.ffffff`. */
  date: string;
  level: LogLevel;
  message: string;
}

export interface PlatformLogTransportOptions {
  /** `url_logs`. */
  url: URL;
  /** The platform bearer token. */
  token: string;
  http: HttpTransport;
  /** Applied to every message once more, in case the logger did not redact. */
  redactor?: SecretRedactor;
  /** Least severe level sent; `info` by default. */
  level?: LogLevel;
  /** Entries per POST; 50 by default. */
  batchSize?: number;
  /** Longest wait before a non-urgent entry is sent, in milliseconds; 5 s by default. */
  flushIntervalMs?: number;
  /** Window of duplicate suppression, in milliseconds; 60 s by default. */
  duplicateWindowMs?: number;
  /** Entries kept while sending fails; 10 000 by default. */
  maxBufferedEntries?: number;
  /** Waits between attempts at a failed batch, in milliseconds; the last one repeats. */
  retryDelaysMs?: readonly number[];
  /** Time allowed for one POST, in milliseconds; 30 s by default. */
  requestTimeoutMs?: number;
  /** Clock for entry dates and the duplicate window; `Date.now` by default. */
  now?: () => number;
  /** Where a persistent failure is reported once; `process.stderr` by default. */
  stderr?: NodeJS.WritableStream;
}

/** A batch being sent, with the count of earlier drops its first entry reports. */
interface Batch {
  entries: PlatformLogEntry[];
  droppedReported: number;
}

type SendOutcome = "sent" | "rejected" | "failed";

/**
 * A winston transport that forwards log entries to the platform logs API (`POST url_logs`,
 * RUNTIME.md 5). Unlike the Python SDK, `log()` never waits for the network: entries are
 * buffered and sent by one background sender, in order, in batches of 50 every 5 s, at once
 * for errors. Failed batches are retried with backoff and stay first; the buffer is bounded.
 * The transport never logs through winston; persistent trouble goes to stderr once.
 */
export class PlatformLogTransport extends Transport {
  private readonly pending: PlatformLogEntry[] = [];
  private inFlight: Batch | undefined;
  private dropped = 0;
  private urgent = false;
  private sending = false;
  private stopped = false;
  private kickScheduled = false;
  private consecutiveFailures = 0;
  private timer: NodeJS.Timeout | undefined;
  private readonly reported = new Set<string>();
  private readonly recent = new Map<string, number>();
  private readonly idleWaiters = new Set<(force: boolean) => void>();
  private readonly stopController = new AbortController();
  private readonly minLevel: LogLevel;
  private readonly now: () => number;

  constructor(private readonly options: PlatformLogTransportOptions) {
    super({ level: options.level ?? "info" });
    this.minLevel = options.level ?? "info";
    this.now = options.now ?? Date.now;
  }

  /** Entries waiting to be sent, the batch in flight included. */
  get bufferedEntries(): number {
    return this.pending.length + (this.inFlight?.entries.length ?? 0);
  }

  /** Entries dropped since the last batch that reported drops. */
  get droppedEntries(): number {
    return this.dropped;
  }

  override log(info: unknown, next: () => void): void {
    if (!this.stopped && isRecord(info)) {
      this.accept(info);
    }
    next();
  }

  /**
   * Sends everything buffered. Resolves true once all was delivered, false when the deadline
   * (in milliseconds) passed first or the transport was closed.
   */
  flush(deadlineMs = LOGS_FLUSH_DEADLINE_MS): Promise<boolean> {
    if (this.idle() || this.stopped) {
      return Promise.resolve(this.idle());
    }
    this.urgent = true;
    void this.pump();

    return new Promise((resolve) => {
      const settle = (force: boolean): void => {
        if (force || this.idle()) {
          clearTimeout(deadline);
          this.idleWaiters.delete(settle);
          resolve(this.idle());
        }
      };
      const deadline = setTimeout(() => settle(true), deadlineMs);
      this.idleWaiters.add(settle);
    });
  }

  /** Stops the timers and any request in flight; what is still buffered is abandoned. */
  override close(): void {
    if (this.stopped) {
      return;
    }
    this.stopped = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    this.stopController.abort();
    this.notifyWaiters(true);
  }

  private accept(info: Record<string, unknown>): void {
    const level = platformLevel(info);
    if (LOG_LEVELS[level] > LOG_LEVELS[this.minLevel]) {
      return;
    }
    const rendered = renderLogMessage(info);
    const message = truncate(this.options.redactor?.redactText(rendered) ?? rendered);
    if (this.isDuplicate(level, message)) {
      return;
    }

    this.enqueue({ date: formatPlatformDate(this.now()), level, message });
    if (level === "error" || level === "critical") {
      this.urgent = true;
      this.scheduleSend();
    } else if (this.pending.length >= this.batchSize) {
      this.scheduleSend();
    } else {
      this.armTimer();
    }
  }

  private isDuplicate(level: LogLevel, message: string): boolean {
    if (level === "critical") {
      return false;
    }
    const key = duplicateKey(level, message);
    const now = this.now();
    const seen = this.recent.get(key);
    if (seen !== undefined && now - seen < this.duplicateWindowMs) {
      return true;
    }

    // Re-inserting keeps the map in time order, so the first key is always the oldest.
    this.recent.delete(key);
    this.recent.set(key, now);
    if (this.recent.size > DUPLICATE_KEYS_MAX) {
      const oldest = this.recent.keys().next();
      if (oldest.done !== true) {
        this.recent.delete(oldest.value);
      }
    }

    return false;
  }

  private enqueue(entry: PlatformLogEntry): void {
    const limit = this.options.maxBufferedEntries ?? LOGS_BUFFER_ENTRIES;
    if (this.pending.length >= limit) {
      const index = this.pending.findIndex((kept) => !isUrgentLevel(kept.level));
      this.pending.splice(index === -1 ? 0 : index, 1);
      this.dropped += 1;
    }
    this.pending.push(entry);
  }

  /** Sends on the next turn of the event loop, so that `log()` returns first. */
  private scheduleSend(): void {
    if (this.kickScheduled) {
      return;
    }
    this.kickScheduled = true;
    setImmediate(() => {
      this.kickScheduled = false;
      void this.pump();
    });
  }

  private armTimer(): void {
    if (this.timer !== undefined || this.stopped) {
      return;
    }
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.urgent = true;
      void this.pump();
    }, this.options.flushIntervalMs ?? LOGS_FLUSH_INTERVAL_MS);
    // Buffered logs must not keep a finished process alive; shutdown calls flush().
    this.timer.unref();
  }

  /** The one sender: a failed batch is retried before anything newer goes out. */
  private async pump(): Promise<void> {
    if (this.sending || this.stopped) {
      return;
    }
    this.sending = true;
    try {
      for (let batch = this.nextBatch(); batch !== undefined; batch = this.nextBatch()) {
        this.inFlight = batch;
        const outcome = await this.post(batch);
        if (outcome !== "failed") {
          this.inFlight = undefined;
        }
        if (outcome === "rejected") {
          const reportEntries = batch.droppedReported > 0 ? 1 : 0;
          this.dropped += batch.droppedReported + batch.entries.length - reportEntries;
        }
        this.notifyWaiters(false);
        // A refusal waits like a failure: a bad token must not turn into a tight loop.
        if (outcome !== "sent" && !this.stopped) {
          await sleep(this.retryDelayMs(), this.stopController.signal);
        }
      }
    } finally {
      this.sending = false;
      if (!this.stopped && this.hasWork()) {
        this.armTimer();
      }
      this.notifyWaiters(false);
    }
  }

  private nextBatch(): Batch | undefined {
    if (this.stopped) {
      return undefined;
    }
    if (this.inFlight !== undefined) {
      return this.inFlight;
    }
    if (!this.hasWork()) {
      this.urgent = false;

      return undefined;
    }
    if (!this.urgent && this.pending.length < this.batchSize) {
      return undefined;
    }

    const entries: PlatformLogEntry[] = [];
    const droppedReported = this.dropped;
    if (droppedReported > 0) {
      entries.push(this.dropReport(droppedReported));
      this.dropped = 0;
    }
    entries.push(...this.pending.splice(0, this.batchSize - entries.length));

    return { entries, droppedReported };
  }

  private async post(batch: Batch): Promise<SendOutcome> {
    try {
      const response = await this.options.http.request({
        method: "POST",
        url: this.options.url,
        headers: {
          authorization: `Bearer ${this.options.token}`,
          "content-type": "application/json",
        },
        body: JSON.stringify({ logs: batch.entries }),
        timeoutMs: this.options.requestTimeoutMs ?? LOGS_REQUEST_TIMEOUT_MS,
        signal: this.stopController.signal,
      });
      if (response.status >= 200 && response.status < 300) {
        this.consecutiveFailures = 0;
        this.reported.delete("outage");

        return "sent";
      }
      if (isFinalStatus(response.status)) {
        this.reportOnce(
          `rejected:${response.status}`,
          `the platform refused a batch of logs with HTTP ${response.status}; ` +
            "such batches are dropped, logs stay on stdout",
        );

        this.consecutiveFailures += 1;

        return "rejected";
      }
      this.recordFailure(`HTTP ${response.status}`);
    } catch (error: unknown) {
      this.recordFailure(describeError(error));
    }

    return "failed";
  }

  private recordFailure(reason: string): void {
    this.consecutiveFailures += 1;
    if (this.consecutiveFailures >= PERSISTENT_FAILURE_ATTEMPTS && !this.stopped) {
      this.reportOnce(
        "outage",
        `sending logs keeps failing (${reason}); still retrying, logs stay on stdout`,
      );
    }
  }

  /** Writes straight to stderr: logging this through winston would feed the failure itself. */
  private reportOnce(problem: string, text: string): void {
    if (this.reported.has(problem)) {
      return;
    }
    this.reported.add(problem);
    const target = `POST ${this.options.url.pathname}`;
    const line = `platform logs: ${target}: ${text}\n`;
    (this.options.stderr ?? process.stderr).write(this.options.redactor?.redactText(line) ?? line);
  }

  private retryDelayMs(): number {
    const delays = this.options.retryDelaysMs ?? LOGS_RETRY_DELAYS_MS;
    const index = Math.min(this.consecutiveFailures - 1, delays.length - 1);

    return delays[Math.max(index, 0)] ?? 0;
  }

  private dropReport(count: number): PlatformLogEntry {
    return {
      date: formatPlatformDate(this.now()),
      level: "warning",
      message:
        `${count} log entries were not sent to the platform ` +
        "(buffer full or batch refused); they are on stdout",
    };
  }

  private hasWork(): boolean {
    return this.pending.length > 0 || this.dropped > 0;
  }

  private idle(): boolean {
    return this.inFlight === undefined && !this.hasWork();
  }

  private notifyWaiters(force: boolean): void {
    for (const settle of [...this.idleWaiters]) {
      settle(force);
    }
  }

  private get batchSize(): number {
    return this.options.batchSize ?? LOGS_BATCH_SIZE;
  }

  private get duplicateWindowMs(): number {
    return this.options.duplicateWindowMs ?? LOGS_DUPLICATE_WINDOW_MS;
  }
}

/** 4xx other than timeout and throttling: the same batch would be refused again. */
function isFinalStatus(status: number): boolean {
  return status >= 400 && status < 500 && status !== 408 && status !== 429;
}

function isUrgentLevel(level: LogLevel): boolean {
  return level === "error" || level === "critical";
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null;
}
