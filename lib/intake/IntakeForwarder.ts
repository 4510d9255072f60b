import { IntakeError } from "../errors/IntakeError.js";
import type { Logger } from "../runtime/createLogger.js";
import type { Liveness } from "../runtime/Liveness.js";
import type { Metrics } from "../runtime/Metrics.js";
import type { DeliveryTracker } from "../s3queue/DeliveryTracker.js";
import type { EventSink } from "../s3queue/EventSink.js";
import { ChunkBuilder } from "./ChunkBuilder.js";
import type { IntakeChunk, OwnerRun } from "./IntakeChunk.js";
import type { IntakeClient } from "./IntakeClient.js";

export interface IntakeForwarderOptions {
  client: IntakeClient;
  intakeKey: string;
  maskedKey: string;
  maxBatchBytes: number;
  maxConcurrentRequests: number;
  logger: Logger;
  metrics: Metrics;
  liveness: Liveness;
  /** Cancels requests in flight (shutdown after the grace period). */
  signal: AbortSignal;
}

/**
 * The intake as an EventSink: lines are encoded into batches, batches are posted with at most
 * `maxConcurrentRequests` in flight, and each object is confirmed for the events of every
 * accepted batch. When the requests in flight and waiting reach the limit the sink is
 * congested, which pauses the readers: memory stays bounded whatever the object sizes.
 * A batch the intake refuses as such (400, 413...) is split in halves until the culprit event
 * is alone; that event is dropped, counted and logged, the others go through. When the intake
 * refuses every event, none is dropped: their objects fail and their messages are kept.
 */
export class IntakeForwarder implements EventSink {
  private readonly builder: ChunkBuilder;
  private readonly waiting: IntakeChunk[] = [];
  private inFlight = 0;
  private drainWaiters: (() => void)[] = [];
  private idleWaiters: (() => void)[] = [];
  /** The split group of each batch made by splitting a refused one. */
  private readonly groups = new Map<IntakeChunk, SplitGroup>();

  constructor(private readonly options: IntakeForwarderOptions) {
    this.builder = new ChunkBuilder(options.intakeKey, options.maxBatchBytes);
  }

  get congested(): boolean {
    return this.inFlight + this.waiting.length >= this.options.maxConcurrentRequests;
  }

  add(line: Buffer, owner: DeliveryTracker): void {
    owner.eventAdded();
    if (!this.builder.tryAdd(line, owner)) {
      this.dispatch(this.builder.seal());
      this.builder.tryAdd(line, owner);
    }
  }

  drained(): Promise<void> {
    if (!this.congested) {
      return Promise.resolve();
    }

    return new Promise((resolve) => this.drainWaiters.push(resolve));
  }

  objectEnded(owner: DeliveryTracker): void {
    if (this.builder.holds(owner)) {
      this.dispatch(this.builder.seal());
    }
  }

  async close(): Promise<void> {
    this.dispatch(this.builder.seal());
    if (this.inFlight === 0 && this.waiting.length === 0) {
      return;
    }
    await new Promise<void>((resolve) => this.idleWaiters.push(resolve));
  }

  private dispatch(chunk: IntakeChunk | undefined): void {
    if (chunk === undefined) {
      return;
    }
    if (this.inFlight < this.options.maxConcurrentRequests) {
      this.post(chunk);
    } else {
      this.waiting.push(chunk);
    }
  }

  private post(chunk: IntakeChunk): void {
    this.inFlight += 1;
    const group = this.groups.get(chunk);
    this.groups.delete(chunk);
    this.options.client
      .send(chunk.body, chunk.eventCount, this.options.signal)
      .then(
        () => {
          this.accepted(chunk.owners, chunk.eventCount);
          if (group !== undefined) {
            group.accepted = true;
          }
        },
        (error: unknown) => this.failed(chunk, error, group),
      )
      .finally(() => {
        if (group !== undefined) {
          this.settle(group);
        }
        chunk.release();
        this.inFlight -= 1;
        const next = this.waiting.shift();
        if (next !== undefined) {
          this.post(next);
        }
        this.wake();
      });
  }

  private accepted(owners: readonly OwnerRun[], eventCount: number): void {
    this.options.metrics.forwardedEvents.labels(this.options.maskedKey).inc(eventCount);
    this.options.liveness.eventsForwarded();
    for (const run of owners) {
      run.owner.confirm(run.count);
    }
  }

  private failed(chunk: IntakeChunk, error: unknown, group: SplitGroup | undefined): void {
    if (error instanceof IntakeError && error.kind === "refused-batch") {
      // A first refusal starts a group; its own answer counts as one pending batch.
      const splitting = group ?? { pending: 1, accepted: false, refused: [] };
      this.split(chunk, error, splitting);
      if (group === undefined) {
        this.settle(splitting);
      }

      return;
    }
    for (const run of chunk.owners) {
      run.owner.fail(error);
    }
  }

  /**
   * Re-sends the halves of a refused batch, in the same split group. A lone refused event is
   * put aside until the whole group is settled: it is the culprit only if the intake accepted
   * other events of the group; if the intake refused them all, it is the intake that refuses,
   * and no event may be dropped for it.
   */
  private split(chunk: IntakeChunk, error: IntakeError, group: SplitGroup): void {
    const events = (JSON.parse(chunk.body.toString("utf8")) as { jsons: string[] }).jsons;
    if (events.length === 1) {
      const owner = chunk.owners[0]?.owner;
      if (owner !== undefined) {
        group.refused.push({ owner, bytes: Buffer.byteLength(events[0] ?? ""), error });
      }

      return;
    }
    const middle = Math.ceil(events.length / 2);
    const owners = expandOwners(chunk.owners);
    for (const [start, end] of [
      [0, middle],
      [middle, events.length],
    ] as const) {
      const part = new ChunkBuilder(this.options.intakeKey, chunk.body.length);
      for (let index = start; index < end; index += 1) {
        part.tryAdd(Buffer.from(events[index] ?? "", "utf8"), owners[index] as DeliveryTracker);
      }
      const sealed = part.seal();
      if (sealed !== undefined) {
        group.pending += 1;
        this.groups.set(sealed, group);
        this.dispatch(sealed);
      }
    }
  }

  /** Once every batch of a split group is answered, drops its culprits or fails their objects. */
  private settle(group: SplitGroup): void {
    group.pending -= 1;
    if (group.pending > 0) {
      return;
    }
    group.refused.forEach(({ owner, bytes, error }, index) => {
      if (!group.accepted) {
        owner.fail(error);

        return;
      }
      this.options.metrics.discardedEvents.labels(this.options.maskedKey, "refused").inc();
      if (index < LOGGED_CULPRITS_PER_GROUP) {
        this.options.logger.error("the intake refused an event, it is dropped", {
          status: error.status,
          bucket: owner.object.bucket,
          key: owner.object.key,
          eventBytes: bytes,
          reason: error.message,
        });
      }
      owner.confirm(1);
    });
    if (group.accepted && group.refused.length > LOGGED_CULPRITS_PER_GROUP) {
      this.options.logger.error("the intake refused more events, all dropped", {
        dropped: group.refused.length - LOGGED_CULPRITS_PER_GROUP,
      });
    }
  }

  private wake(): void {
    if (!this.congested) {
      const waiters = this.drainWaiters;
      this.drainWaiters = [];
      for (const resolve of waiters) {
        resolve();
      }
    }
    if (this.inFlight === 0 && this.waiting.length === 0) {
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      for (const resolve of waiters) {
        resolve();
      }
    }
  }
}

/** The batches made from one refused batch, and the lone events the intake refused. */
interface SplitGroup {
  /** Batches of the group not answered yet. */
  pending: number;
  /** True once the intake accepted one batch of the group. */
  accepted: boolean;
  refused: { owner: DeliveryTracker; bytes: number; error: IntakeError }[];
}

/** Refused events logged one by one per split group; the rest are summed up in one line. */
const LOGGED_CULPRITS_PER_GROUP = 5;

function expandOwners(runs: readonly OwnerRun[]): DeliveryTracker[] {
  const owners: DeliveryTracker[] = [];
  for (const run of runs) {
    for (let index = 0; index < run.count; index += 1) {
      owners.push(run.owner);
    }
  }

  return owners;
}
