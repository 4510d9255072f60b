import { describeError } from "../errors/ModuleError.js";
import type { Logger } from "../runtime/createLogger.js";
import type { Metrics } from "../runtime/Metrics.js";
import type { InFlightMessage } from "./InFlightMessage.js";
import { SQS_BATCH_LIMIT, type SqsQueue } from "./SqsQueue.js";

/** How long a finished message may wait for others to share its delete call. */
const DELETE_LINGER_MS = 20;

/**
 * Deletes finished messages in batches of up to ten (DeleteMessageBatch). A message that cannot
 * be deleted is logged: it will come back and its objects be read again, which duplicates
 * events but loses none.
 */
export class MessageDeleter {
  private pending: InFlightMessage[] = [];
  private timer: NodeJS.Timeout | undefined;
  private readonly inFlight = new Set<Promise<void>>();

  constructor(
    private readonly queue: SqsQueue,
    private readonly logger: Logger,
    private readonly metrics: Metrics,
  ) {}

  delete(message: InFlightMessage): void {
    message.held = false;
    this.pending.push(message);
    if (this.pending.length >= SQS_BATCH_LIMIT) {
      this.send();
    } else {
      this.timer ??= setTimeout(() => this.send(), DELETE_LINGER_MS);
    }
  }

  /** Sends what is pending and waits for every delete call. */
  async flush(): Promise<void> {
    this.send();
    await Promise.all(this.inFlight);
  }

  private send(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    while (this.pending.length > 0) {
      const batch = this.pending.splice(0, SQS_BATCH_LIMIT);
      const call = this.deleteBatch(batch).finally(() => this.inFlight.delete(call));
      this.inFlight.add(call);
    }
  }

  private async deleteBatch(batch: InFlightMessage[]): Promise<void> {
    try {
      const failures = await this.queue.deleteBatch(batch.map((message) => message.receiptHandle));
      this.metrics.messagesDeleted.inc(batch.length - failures.length);
      for (const failure of failures) {
        const message = batch.find((item) => item.receiptHandle === failure.receiptHandle);
        this.logger.log("warning", "could not delete a message; it will be processed again", {
          queue: this.queue.name,
          messageId: message?.messageId,
          code: failure.code,
          reason: failure.message,
        });
      }
    } catch (error: unknown) {
      this.logger.log("warning", "could not delete messages; they will be processed again", {
        queue: this.queue.name,
        messageIds: batch.map((message) => message.messageId),
        reason: describeError(error),
      });
    }
  }
}
