import type { ObjectRef } from "./ObjectRef.js";

/**
 * Counts the events one object handed to the sinks and those the sinks confirmed. The object
 * is delivered once reading is over and every event was confirmed; the first failure of any
 * chunk holding one of its events fails it.
 */
export class DeliveryTracker {
  private added = 0;
  private confirmed = 0;
  private readingDone = false;
  private failure: unknown;
  private settle: { resolve: () => void; reject: (error: unknown) => void } | undefined;
  /** Resolves when delivered, rejects on the first failure. */
  readonly delivered: Promise<void>;

  constructor(readonly object: ObjectRef) {
    this.delivered = new Promise<void>((resolve, reject) => {
      this.settle = { resolve, reject };
    });
    this.delivered.catch(() => undefined);
  }

  /** Events handed to the sinks so far. */
  get eventsAdded(): number {
    return this.added;
  }

  /** Events the sinks confirmed so far. */
  get eventsConfirmed(): number {
    return this.confirmed;
  }

  get failed(): boolean {
    return this.failure !== undefined;
  }

  eventAdded(): void {
    this.added += 1;
  }

  confirm(count: number): void {
    this.confirmed += count;
    this.checkDone();
  }

  fail(error: unknown): void {
    if (this.failure === undefined && this.settle !== undefined) {
      this.failure = error ?? new Error("delivery failed");
      this.settle.reject(this.failure);
      this.settle = undefined;
    }
  }

  finishReading(): void {
    this.readingDone = true;
    this.checkDone();
  }

  private checkDone(): void {
    if (this.readingDone && this.confirmed >= this.added && this.settle !== undefined) {
      this.settle.resolve();
      this.settle = undefined;
    }
  }
}
