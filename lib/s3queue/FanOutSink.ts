import type { DeliveryTracker } from "./DeliveryTracker.js";
import type { EventSink } from "./EventSink.js";

/**
 * Several sinks as one: every line goes to each of them. Each sink confirms its own copy to
 * the object's tracker, so an object is delivered only once every destination accepted it.
 */
export class FanOutSink implements EventSink {
  constructor(private readonly sinks: readonly EventSink[]) {}

  get congested(): boolean {
    return this.sinks.some((sink) => sink.congested);
  }

  add(line: Buffer, owner: DeliveryTracker): void {
    for (const sink of this.sinks) {
      sink.add(line, owner);
    }
  }

  async drained(): Promise<void> {
    await Promise.all(this.sinks.map((sink) => sink.drained()));
  }

  objectEnded(owner: DeliveryTracker): void {
    for (const sink of this.sinks) {
      sink.objectEnded(owner);
    }
  }

  async close(): Promise<void> {
    await Promise.all(this.sinks.map((sink) => sink.close()));
  }
}
