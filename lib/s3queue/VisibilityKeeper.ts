import { describeError } from "../errors/ModuleError.js";
import type { Logger } from "../runtime/createLogger.js";
import type { Metrics } from "../runtime/Metrics.js";
import type { InFlightMessage } from "./InFlightMessage.js";
import { SQS_BATCH_LIMIT, type SqsQueue } from "./SqsQueue.js";

/** Shortest interval between two checks of the leases, in milliseconds. */
const MIN_CHECK_INTERVAL_MS = 1_000;

/**
 * Keeps every held message invisible to other consumers while it is processed: a few times
 * per visibility period it extends, in batches, each lease that has less than half of the
 * period left. A message is never left to reappear while work on it goes on, however large the
 * object or slow the intake.
 */
export class VisibilityKeeper {
  private readonly held = new Set<InFlightMessage>();
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;

  constructor(
    private readonly queue: SqsQueue,
    private readonly visibilityTimeoutSeconds: number,
    private readonly logger: Logger,
    private readonly metrics: Metrics,
    private readonly now: () => number = Date.now,
  ) {}

  track(message: InFlightMessage): void {
    this.held.add(message);
  }

  untrack(message: InFlightMessage): void {
    this.held.delete(message);
  }

  start(): void {
    const interval = Math.max(MIN_CHECK_INTERVAL_MS, (this.visibilityTimeoutSeconds * 1000) / 6);
    this.timer = setInterval(() => {
      this.running ??= this.extendDue().finally(() => {
        this.running = undefined;
      });
    }, interval);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
  }

  /** Extends the leases with less than half of the visibility period left. */
  async extendDue(): Promise<void> {
    const threshold = this.now() + (this.visibilityTimeoutSeconds * 1000) / 2;
    const due = [...this.held].filter(
      (message) => message.held && message.leaseExpiresAt < threshold,
    );
    for (let start = 0; start < due.length; start += SQS_BATCH_LIMIT) {
      await this.extend(due.slice(start, start + SQS_BATCH_LIMIT));
    }
  }

  private async extend(messages: InFlightMessage[]): Promise<void> {
    const requestedAt = this.now();
    try {
      const failures = await this.queue.changeVisibilityBatch(
        messages.map((message) => ({
          receiptHandle: message.receiptHandle,
          seconds: this.visibilityTimeoutSeconds,
        })),
      );
      const failed = new Set(failures.map((failure) => failure.receiptHandle));
      for (const message of messages) {
        if (!failed.has(message.receiptHandle)) {
          message.leaseExpiresAt = requestedAt + this.visibilityTimeoutSeconds * 1000;
          this.metrics.visibilityExtensions.inc();
        }
      }
      for (const failure of failures) {
        const message = messages.find((item) => item.receiptHandle === failure.receiptHandle);
        this.logger.log("warning", "could not extend the visibility of a message", {
          queue: this.queue.name,
          messageId: message?.messageId,
          code: failure.code,
          reason: failure.message,
        });
      }
    } catch (error: unknown) {
      this.logger.log("warning", "could not extend the visibility of messages, will retry", {
        queue: this.queue.name,
        messages: messages.length,
        reason: describeError(error),
      });
    }
  }
}
