import { ObjectReadError } from "../errors/ObjectReadError.js";
import { describeError } from "../errors/ModuleError.js";
import type { Logger } from "../runtime/createLogger.js";
import type { Metrics } from "../runtime/Metrics.js";
import { DeliveryTracker } from "./DeliveryTracker.js";
import type { EventSink } from "./EventSink.js";
import type { ObjectOutcome } from "./ObjectOutcome.js";
import type { ObjectPolicy } from "./ObjectPolicy.js";
import type { ObjectReader } from "./ObjectReader.js";
import { describeObject, objectVersionId, type ObjectRef } from "./ObjectRef.js";
import { RecentObjects } from "./RecentObjects.js";
import { Semaphore } from "./Semaphore.js";

export interface ObjectProcessorOptions {
  reader: ObjectReader;
  sink: EventSink;
  policy: ObjectPolicy;
  logger: Logger;
  metrics: Metrics;
  maskedKey: string;
  maxConcurrentObjects: number;
  duplicateWindowSeconds: number;
  /** Aborted when in-flight work must stop (end of the shutdown grace period). */
  work: AbortSignal;
}

/**
 * Takes one announced object to its outcome: skips objects the trigger does not want and
 * versions already delivered, shares the work when two messages announce the same version at
 * once, reads at most `maxConcurrentObjects` objects at a time into the sink, and waits until
 * the sink confirmed every line. Each problem gets one log line naming the bucket and key.
 */
export class ObjectProcessor {
  private readonly slots: Semaphore;
  private readonly recent: RecentObjects;
  private readonly inProgress = new Map<string, Promise<ObjectOutcome>>();

  constructor(private readonly options: ObjectProcessorOptions) {
    this.slots = new Semaphore(options.maxConcurrentObjects);
    this.recent = new RecentObjects(options.duplicateWindowSeconds * 1000);
  }

  async process(ref: ObjectRef, messageId: string): Promise<ObjectOutcome> {
    const { logger, metrics } = this.options;
    const skip = this.options.policy.skipReason(ref);
    if (skip !== undefined) {
      metrics.notificationsIgnored.labels("not-a-log-object").inc();
      logger.log(skip.suspicious ? "warning" : "info", "object skipped", {
        bucket: ref.bucket,
        key: ref.key,
        reason: skip.reason,
      });

      return { status: "skipped" };
    }
    const version = objectVersionId(ref);
    if (this.recent.has(version)) {
      metrics.duplicatesSkipped.inc();
      logger.info("duplicate notification skipped", {
        bucket: ref.bucket,
        key: ref.key,
        messageId,
      });

      return { status: "duplicate" };
    }
    const running = this.inProgress.get(version);
    if (running !== undefined) {
      metrics.duplicatesSkipped.inc();

      return running;
    }
    const work = this.readAndDeliver(ref, messageId);
    this.inProgress.set(version, work);
    try {
      const outcome = await work;
      if (outcome.status === "delivered" || outcome.status === "unreadable") {
        this.recent.remember(version);
      }

      return outcome;
    } finally {
      this.inProgress.delete(version);
    }
  }

  private async readAndDeliver(ref: ObjectRef, messageId: string): Promise<ObjectOutcome> {
    const { sink, metrics, policy, work } = this.options;
    try {
      await this.slots.acquire(work);
    } catch (error: unknown) {
      return { status: "failed", error: this.aborted(ref, error) };
    }
    const started = performance.now();
    const tracker = new DeliveryTracker(ref);
    let lines = 0;
    let headers = 0;
    let oversized = 0;
    metrics.inFlightObjects.inc();
    let readError: unknown;
    let result;
    try {
      result = await this.options.reader.read(
        ref,
        {
          line: (line) => {
            if (policy.isHeaderLine(line)) {
              headers += 1;

              return;
            }
            lines += 1;
            sink.add(line, tracker);
          },
          overlong: (offset, length) => {
            oversized += 1;
            if (oversized === 1) {
              this.options.logger.log("warning", "line over the intake's event size dropped", {
                bucket: ref.bucket,
                key: ref.key,
                offset,
                length,
              });
            }
          },
          room: () => (sink.congested ? sink.drained() : undefined),
        },
        work,
      );
    } catch (error: unknown) {
      readError = error;
      tracker.fail(error);
    } finally {
      tracker.finishReading();
      sink.objectEnded(tracker);
      this.slots.release();
      metrics.inFlightObjects.dec();
      this.count(lines, headers, oversized);
    }
    if (readError !== undefined || result === undefined) {
      return this.readFailed(ref, readError, messageId);
    }
    metrics.objectBytesRead.inc(result.storedBytes);
    try {
      await tracker.delivered;
    } catch (error: unknown) {
      metrics.objectsRead.labels("failed").inc();

      return { status: "failed", error };
    }
    if (ref.eventTime !== undefined) {
      metrics.eventsLag.labels(this.options.maskedKey).set((Date.now() - ref.eventTime) / 1000);
    }
    if (result.corruption !== undefined) {
      metrics.objectsRead.labels("corrupt").inc();
      this.options.logger.error("damaged object: forwarded what could be read", {
        bucket: ref.bucket,
        key: ref.key,
        messageId,
        lines,
        storedOffset: result.corruption.offset,
        reason: result.corruption.message,
      });

      return { status: "unreadable", error: result.corruption };
    }
    if (!result.gzip && /\.gz$/i.test(ref.key) && result.storedBytes > 0) {
      this.options.logger.log(
        "warning",
        "object named .gz is not gzip: its lines were read as text",
        {
          bucket: ref.bucket,
          key: ref.key,
        },
      );
    }
    metrics.objectsRead.labels("delivered").inc();
    this.options.logger.info("object delivered", {
      bucket: ref.bucket,
      key: ref.key,
      lines,
      storedBytes: result.storedBytes,
      textBytes: result.textBytes,
      gzip: result.gzip,
      durationMs: Math.round(performance.now() - started),
    });

    return { status: "delivered" };
  }

  private readFailed(ref: ObjectRef, error: unknown, messageId: string): ObjectOutcome {
    const { logger, metrics } = this.options;
    const fields = { bucket: ref.bucket, key: ref.key, messageId, reason: describeError(error) };
    if (error instanceof ObjectReadError && error.kind === "missing") {
      metrics.objectsRead.labels("missing").inc();
      logger.log("warning", "object no longer exists, its notification is done", fields);

      return { status: "unreadable", error };
    }
    metrics.objectsRead.labels("failed").inc();
    if (error instanceof ObjectReadError && error.kind === "aborted") {
      return { status: "failed", error };
    }
    if (error instanceof ObjectReadError && error.kind === "access-denied") {
      logger.error("object cannot be read: access denied, the message is kept", fields);
    } else {
      logger.log("warning", "object read failed, the message is kept for a retry", fields);
    }

    return { status: "failed", error };
  }

  private count(lines: number, headers: number, oversized: number): void {
    const { metrics } = this.options;
    metrics.linesRead.inc(lines + headers + oversized);
    if (headers > 0) {
      metrics.linesSkipped.labels("header").inc(headers);
    }
    if (oversized > 0) {
      metrics.linesSkipped.labels("oversized").inc(oversized);
      metrics.discardedEvents.labels(this.options.maskedKey, "oversized").inc(oversized);
    }
  }

  private aborted(ref: ObjectRef, cause: unknown): ObjectReadError {
    return new ObjectReadError(
      "aborted",
      { bucket: ref.bucket, key: ref.key },
      `Reading s3://${describeObject(ref)} was cancelled before it started.`,
      { cause },
    );
  }
}
