import type { DeliveryTracker } from "./DeliveryTracker.js";

/**
 * Where the lines of objects go: the intake, the playbook, or both. A sink confirms events to
 * their DeliveryTracker once the destination accepted them, or fails the tracker.
 */
export interface EventSink {
  /** Takes one line; it must be copied or encoded before returning (it is a view). */
  add(line: Buffer, owner: DeliveryTracker): void;
  /** True while the sink holds as much as it may; callers then await `drained()`. */
  readonly congested: boolean;
  /** Resolves when the sink can take more lines. */
  drained(): Promise<void>;
  /** The owner's reading is over: send what is buffered for it without waiting for more. */
  objectEnded(owner: DeliveryTracker): void;
  /** Sends everything buffered and waits for the answers. */
  close(): Promise<void>;
}
