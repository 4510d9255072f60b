import type { DeliveryTracker } from "../s3queue/DeliveryTracker.js";

/** Consecutive events of one chunk that belong to the same object. */
export interface OwnerRun {
  owner: DeliveryTracker;
  count: number;
}

/**
 * One request body for the intake's batch endpoint, already encoded, with the objects its
 * events came from (in order, so that a refused chunk can be split).
 */
export interface IntakeChunk {
  readonly body: Buffer;
  readonly eventCount: number;
  readonly owners: readonly OwnerRun[];
  /** Returns the body's memory for reuse once the chunk is settled. */
  release(): void;
}
