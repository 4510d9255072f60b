import { describeError } from "../errors/ModuleError.js";
import type { Logger } from "../runtime/createLogger.js";
import type { Liveness } from "../runtime/Liveness.js";
import type { Metrics } from "../runtime/Metrics.js";
import type { PlaybookClient } from "../runtime/PlaybookClient.js";
import type { DeliveryTracker } from "./DeliveryTracker.js";
import type { EventSink } from "./EventSink.js";

/** Turns a raw line into the playbook event; undefined to skip it (header); throws if malformed. */
export type PlaybookEventBuilder = (line: string) => Record<string, unknown> | undefined;

export interface PlaybookForwarderOptions {
  client: PlaybookClient;
  /** The event name given to `send_event`. */
  eventName: string;
  build: PlaybookEventBuilder;
  maxConcurrentEvents: number;
  logger: Logger;
  metrics: Metrics;
  liveness: Liveness;
  signal: AbortSignal;
}

/**
 * The playbook runtime as an EventSink: each line is normalised and sent to `url_callback`
 * as one playbook event, with at most `maxConcurrentEvents` calls in flight (more make the sink
 * congested, which pauses the readers). A line that cannot be normalised is logged once per
 * object, counted, and does not hold its object back.
 */
export class PlaybookForwarder implements EventSink {
  private inFlight = 0;
  private drainWaiters: (() => void)[] = [];
  private idleWaiters: (() => void)[] = [];
  private readonly reportedObjects = new WeakSet<DeliveryTracker>();

  constructor(private readonly options: PlaybookForwarderOptions) {}

  get congested(): boolean {
    return this.inFlight >= this.options.maxConcurrentEvents;
  }

  add(line: Buffer, owner: DeliveryTracker): void {
    const text = line.toString("utf8");
    let event: Record<string, unknown> | undefined;
    try {
      event = this.options.build(text);
    } catch (error: unknown) {
      this.unparsable(owner, error);

      return;
    }
    if (event === undefined) {
      return;
    }
    owner.eventAdded();
    this.inFlight += 1;
    this.options.client
      .sendEvent(this.options.eventName, event, { signal: this.options.signal })
      .then(
        () => {
          this.options.metrics.playbookEvents.labels("sent").inc();
          this.options.liveness.eventsForwarded();
          owner.confirm(1);
        },
        (error: unknown) => {
          this.options.metrics.playbookEvents.labels("failed").inc();
          owner.fail(error);
        },
      )
      .finally(() => {
        this.inFlight -= 1;
        this.wake();
      });
  }

  drained(): Promise<void> {
    if (!this.congested) {
      return Promise.resolve();
    }

    return new Promise((resolve) => this.drainWaiters.push(resolve));
  }

  objectEnded(_owner: DeliveryTracker): void {
    // Events leave one by one as they come: nothing is buffered per object.
  }

  close(): Promise<void> {
    if (this.inFlight === 0) {
      return Promise.resolve();
    }

    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private unparsable(owner: DeliveryTracker, error: unknown): void {
    this.options.metrics.playbookEvents.labels("unparsable").inc();
    if (!this.reportedObjects.has(owner)) {
      this.reportedObjects.add(owner);
      this.options.logger.log("warning", "line cannot be normalised for the playbook", {
        bucket: owner.object.bucket,
        key: owner.object.key,
        reason: describeError(error),
      });
    }
  }

  private wake(): void {
    if (!this.congested) {
      const waiters = this.drainWaiters;
      this.drainWaiters = [];
      waiters.forEach((resolve) => resolve());
    }
    if (this.inFlight === 0) {
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      waiters.forEach((resolve) => resolve());
    }
  }
}
