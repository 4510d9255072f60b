import type { Message } from "@aws-sdk/client-sqs";

import { IntakeError } from "../errors/IntakeError.js";
import { ObjectReadError } from "../errors/ObjectReadError.js";
import { PlatformError } from "../errors/PlatformError.js";
import { QueueError } from "../errors/QueueError.js";
import { describeError } from "../errors/ModuleError.js";
import { Backoff, sleep } from "../runtime/Backoff.js";
import type { Logger } from "../runtime/createLogger.js";
import type { Liveness } from "../runtime/Liveness.js";
import type { Metrics } from "../runtime/Metrics.js";
import { InFlightMessage } from "./InFlightMessage.js";
import { MessageDeleter } from "./MessageDeleter.js";
import { decodeNotification } from "./NotificationDecoder.js";
import type { ObjectOutcome } from "./ObjectOutcome.js";
import type { ObjectProcessor } from "./ObjectProcessor.js";
import type { ObjectRef } from "./ObjectRef.js";
import { SQS_BATCH_LIMIT, type RedrivePolicy, type SqsQueue } from "./SqsQueue.js";
import { VisibilityKeeper } from "./VisibilityKeeper.js";

/** SQS long polling wait, the maximum SQS allows. */
export const RECEIVE_WAIT_SECONDS = 20;
const RECEIVE_RETRY_INITIAL_DELAY_MS = 1_000;
const RECEIVE_RETRY_MAX_DELAY_MS = 60_000;
/** Longest delay before a failed message is tried again. */
const RETRY_VISIBILITY_MAX_SECONDS = 900;
/** How often the pipeline logs its totals while running. */
const PROGRESS_LOG_INTERVAL_MS = 60_000;

export interface PipelineSettings {
  /** Messages held at once; also the number of receives' worth of work in flight. */
  maxInFlightMessages: number;
  visibilityTimeoutSeconds: number;
  maxReceiveCount: number;
  /** Delay before the first retry of a failed message, doubled at each further failure. */
  retryDelaySeconds: number;
  shutdownGraceSeconds: number;
  /** SQS long polling wait; a stop waits for the receive under way. */
  receiveWaitSeconds?: number;
}

export interface PipelineServices {
  queue: SqsQueue;
  objects: ObjectProcessor;
  logger: Logger;
  metrics: Metrics;
  liveness: Liveness;
  maskedKey: string;
  /** Aborting it stops the work in flight; the pipeline does it after the grace period. */
  work: AbortController;
  /** Flushes the sinks at the end. */
  closeSinks: () => Promise<void>;
}

/** Running totals, for the progress log and the tests. */
export interface PipelineTotals {
  received: number;
  deleted: number;
  released: number;
}

/**
 * The S3-queued collection loop. It receives only as many messages as it can work on, keeps
 * their visibility extended, decodes each body, has every announced object delivered, then
 * deletes the message (in batches), and only then. On failure the message is released with a
 * growing delay; after `maxReceiveCount` receives whose objects cannot be read it gives up
 * (the queue's dead-letter queue takes the message, or it is deleted after a log saying why).
 * On stop it receives no more, lets the work in flight finish within the grace period, and
 * hands back what did not finish.
 */
export class S3QueuedPipeline {
  readonly totals: PipelineTotals = { received: 0, deleted: 0, released: 0 };
  private readonly keeper: VisibilityKeeper;
  private readonly deleter: MessageDeleter;
  private readonly held = new Map<InFlightMessage, Promise<void>>();
  private readonly givenUp = new Set<string>();
  private readonly releases = new Set<Promise<void>>();
  private roomWaiter: (() => void) | undefined;
  private redrive: RedrivePolicy | undefined;
  private configurationProblemReported = false;

  constructor(
    private readonly settings: PipelineSettings,
    private readonly services: PipelineServices,
  ) {
    this.keeper = new VisibilityKeeper(
      services.queue,
      settings.visibilityTimeoutSeconds,
      services.logger,
      services.metrics,
    );
    this.deleter = new MessageDeleter(services.queue, services.logger, services.metrics);
  }

  /** Runs until `stop` aborts, then shuts down gracefully. */
  async run(stop: AbortSignal): Promise<void> {
    const { logger, queue } = this.services;
    this.redrive = await this.readRedrivePolicy();
    logger.info("collecting", {
      queue: queue.name,
      deadLetterQueue: this.redrive?.deadLetterTargetArn,
      maxInFlightMessages: this.settings.maxInFlightMessages,
    });
    this.keeper.start();
    const progress = setInterval(() => this.logProgress(), PROGRESS_LOG_INTERVAL_MS);
    progress.unref();
    let stoppedAt = Date.now();
    stop.addEventListener("abort", () => (stoppedAt = Date.now()), { once: true });
    try {
      await this.poll(stop);
    } finally {
      clearInterval(progress);
      await this.shutdown(stoppedAt);
    }
  }

  /**
   * Receives until `stop` aborts. A receive under way is not cancelled: SQS may already have
   * handed it messages, which would stay invisible until their timeout; instead its messages
   * are handed back at once. Long polling bounds the wait.
   */
  private async poll(stop: AbortSignal): Promise<void> {
    const { queue, liveness, metrics } = this.services;
    const backoff = new Backoff({
      initialDelayMs: RECEIVE_RETRY_INITIAL_DELAY_MS,
      maxDelayMs: RECEIVE_RETRY_MAX_DELAY_MS,
    });
    while (!stop.aborted) {
      await this.waitForRoom(stop);
      if (stop.aborted) {
        break;
      }
      const room = this.settings.maxInFlightMessages - this.held.size;
      let messages: Message[];
      try {
        messages = await queue.receive(
          Math.min(room, SQS_BATCH_LIMIT),
          this.settings.visibilityTimeoutSeconds,
          this.settings.receiveWaitSeconds ?? RECEIVE_WAIT_SECONDS,
        );
      } catch (error: unknown) {
        if (stop.aborted) {
          break;
        }
        this.reportReceiveFailure(error);
        await sleep(backoff.next(), stop);
        continue;
      }
      backoff.reset();
      liveness.heartbeat();
      metrics.messagesReceived.inc(messages.length);
      for (const message of messages) {
        this.hold(message, stop.aborted);
      }
    }
  }

  private hold(message: Message, stopping: boolean): void {
    const now = Date.now();
    const held = new InFlightMessage(message, now, this.settings.visibilityTimeoutSeconds);
    this.totals.received += 1;
    if (stopping) {
      this.release(held, 0, "shutdown");

      return;
    }
    if (held.sentAt !== undefined) {
      this.services.metrics.messageAge
        .labels(this.services.maskedKey)
        .observe(Math.max(0, now - held.sentAt) / 1000);
    }
    this.keeper.track(held);
    this.services.metrics.inFlightMessages.inc();
    const work = this.handle(held)
      .catch((error: unknown) => {
        this.services.logger.error("unexpected failure while handling a message", {
          queue: this.services.queue.name,
          messageId: held.messageId,
          reason: describeError(error),
        });
        this.release(held, this.settings.retryDelaySeconds, "unexpected");
      })
      .finally(() => {
        this.held.delete(held);
        this.services.metrics.inFlightMessages.dec();
        this.roomWaiter?.();
      });
    this.held.set(held, work);
  }

  private async handle(message: InFlightMessage): Promise<void> {
    const { logger, metrics, queue } = this.services;
    if (this.givenUp.has(message.messageId)) {
      this.release(message, 0, "dead-letter");

      return;
    }
    const decoded = decodeNotification(message.body);
    if (decoded.kind === "not-a-notification") {
      metrics.notificationsIgnored.labels("not-a-notification").inc();
      logger.log("warning", "message is not an S3 notification, deleted", {
        queue: queue.name,
        messageId: message.messageId,
        reason: decoded.reason,
        body: decoded.excerpt,
      });
      this.delete(message);

      return;
    }
    if (decoded.kind === "test-event") {
      metrics.notificationsIgnored.labels("test-event").inc();
      logger.info("S3 test event received: the notification reaches the queue", {
        queue: queue.name,
        messageId: message.messageId,
      });
      this.delete(message);

      return;
    }
    for (const record of decoded.ignored) {
      metrics.notificationsIgnored.labels(record.reason).inc();
      logger.debug("notification record ignored", {
        messageId: message.messageId,
        reason: record.reason,
        detail: record.detail,
      });
    }
    metrics.collectedEvents.labels(this.services.maskedKey).inc(decoded.objects.length);
    const outcomes = await Promise.all(
      decoded.objects.map((ref) => this.services.objects.process(ref, message.messageId)),
    );
    this.conclude(message, decoded.objects, outcomes);
  }

  /**
   * Deletes the message when every object is done, else decides how it comes back. Only
   * failures that keep coming back whatever the wait (access denied, a refused event, an
   * unknown error) count towards giving up; outages of S3, the intake or the playbook never do.
   */
  private conclude(message: InFlightMessage, refs: ObjectRef[], outcomes: ObjectOutcome[]): void {
    const failures = outcomes.flatMap((outcome, index) =>
      outcome.status === "failed" ? [{ ref: refs[index], error: outcome.error }] : [],
    );
    if (failures.length === 0) {
      this.delete(message);

      return;
    }
    if (this.services.work.signal.aborted || failures.some((failure) => isAborted(failure.error))) {
      this.release(message, 0, "shutdown");

      return;
    }
    const delay = this.retryDelaySeconds(message.receiveCount);
    const lasting = failures.filter((failure) => countsTowardsGivingUp(failure.error));
    if (lasting.length === 0) {
      this.release(message, delay, outageOf(failures[0]?.error));

      return;
    }
    if (message.receiveCount < this.settings.maxReceiveCount) {
      this.release(message, delay, "retry");

      return;
    }
    this.giveUp(message, lasting);
  }

  private giveUp(
    message: InFlightMessage,
    failures: { ref: ObjectRef | undefined; error: unknown }[],
  ): void {
    const objects = failures.map(({ ref, error }) => ({
      object: ref === undefined ? "unknown" : `${ref.bucket}/${ref.key}`,
      reason: describeError(error),
    }));
    const fields = {
      queue: this.services.queue.name,
      messageId: message.messageId,
      receiveCount: message.receiveCount,
      objects,
    };
    if (this.redrive !== undefined) {
      this.givenUp.add(message.messageId);
      this.services.logger.error("giving up on a message: left to the dead-letter queue", {
        ...fields,
        deadLetterQueue: this.redrive.deadLetterTargetArn,
      });
      this.release(message, 0, "dead-letter");

      return;
    }
    this.services.logger.error("giving up on a message: no dead-letter queue, deleted", fields);
    this.delete(message);
  }

  private delete(message: InFlightMessage): void {
    this.keeper.untrack(message);
    this.totals.deleted += 1;
    this.deleter.delete(message);
  }

  private release(message: InFlightMessage, seconds: number, reason: string): void {
    this.keeper.untrack(message);
    message.held = false;
    this.totals.released += 1;
    this.services.metrics.messagesReleased.labels(reason).inc();
    this.services.logger.log(reason === "shutdown" ? "info" : "warning", "message released", {
      queue: this.services.queue.name,
      messageId: message.messageId,
      reason,
      retryInSeconds: seconds,
      receiveCount: message.receiveCount,
    });
    const call = this.services.queue
      .changeVisibilityBatch([{ receiptHandle: message.receiptHandle, seconds }])
      .then(
        (failures) => {
          for (const failure of failures) {
            this.warnReleaseFailed(message, `${failure.code}: ${failure.message}`);
          }
        },
        (error: unknown) => this.warnReleaseFailed(message, describeError(error)),
      )
      .finally(() => this.releases.delete(call));
    this.releases.add(call);
  }

  private warnReleaseFailed(message: InFlightMessage, reason: string): void {
    this.services.logger.log("warning", "could not release a message; it returns later", {
      queue: this.services.queue.name,
      messageId: message.messageId,
      reason,
    });
  }

  /** The retry delay doubled for each earlier receive, up to 15 minutes. */
  private retryDelaySeconds(receiveCount: number): number {
    return Math.min(
      RETRY_VISIBILITY_MAX_SECONDS,
      this.settings.retryDelaySeconds * 2 ** Math.max(0, receiveCount - 1),
    );
  }

  private waitForRoom(stop: AbortSignal): Promise<void> {
    if (this.held.size < this.settings.maxInFlightMessages || stop.aborted) {
      return Promise.resolve();
    }

    return new Promise((resolve) => {
      const done = (): void => {
        this.roomWaiter = undefined;
        stop.removeEventListener("abort", done);
        resolve();
      };
      this.roomWaiter = done;
      stop.addEventListener("abort", done, { once: true });
    });
  }

  private async shutdown(stoppedAt: number): Promise<void> {
    const { logger, work } = this.services;
    const graceMs = Math.max(0, stoppedAt + this.settings.shutdownGraceSeconds * 1000 - Date.now());
    logger.info("stopping: no more receives, finishing the work in flight", {
      messages: this.held.size,
      graceSeconds: this.settings.shutdownGraceSeconds,
    });
    const finished = Promise.all(this.held.values());
    const deadline = new AbortController();
    const timedOut = await Promise.race([
      finished.then(() => false),
      sleep(graceMs, deadline.signal).then(() => true),
    ]);
    deadline.abort();
    if (timedOut) {
      logger.info("grace period over: handing back the unfinished messages", {
        messages: this.held.size,
      });
      work.abort();
      await finished;
    }
    await this.services.closeSinks();
    await Promise.all([this.deleter.flush(), ...this.releases]);
    await this.keeper.stop();
    this.logProgress();
  }

  private async readRedrivePolicy(): Promise<RedrivePolicy | undefined> {
    try {
      return await this.services.queue.redrivePolicy();
    } catch (error: unknown) {
      this.services.logger.log("warning", "cannot read the queue's redrive policy", {
        queue: this.services.queue.name,
        reason: describeError(error),
      });

      return undefined;
    }
  }

  private reportReceiveFailure(error: unknown): void {
    const { logger, queue } = this.services;
    if (error instanceof QueueError && error.configurationProblem) {
      if (!this.configurationProblemReported) {
        this.configurationProblemReported = true;
        logger.log("critical", error.message, { queue: queue.name, code: error.code });
      } else {
        logger.error("receive failed", { queue: queue.name, reason: error.message });
      }

      return;
    }
    logger.log("warning", "receive failed, retrying", {
      queue: queue.name,
      reason: describeError(error),
    });
  }

  private logProgress(): void {
    this.services.logger.info("progress", {
      queue: this.services.queue.name,
      ...this.totals,
      held: this.held.size,
    });
  }
}

/** Failures that a later attempt will meet again: they lead to giving up on the message. */
function countsTowardsGivingUp(error: unknown): boolean {
  if (error instanceof ObjectReadError) {
    return error.kind === "access-denied" || error.kind === "unknown";
  }
  if (error instanceof IntakeError) {
    return error.kind === "refused-batch";
  }
  if (error instanceof PlatformError) {
    return error.status !== undefined && error.status >= 400 && error.status < 500;
  }

  return true;
}

/** The outage a failure comes from, as the reason of the message's release. */
function outageOf(error: unknown): string {
  if (error instanceof PlatformError) {
    return "playbook";
  }

  return "s3";
}

function isAborted(error: unknown): boolean {
  return (
    (error instanceof ObjectReadError && error.kind === "aborted") ||
    (error instanceof IntakeError && error.kind === "aborted")
  );
}
