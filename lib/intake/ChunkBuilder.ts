import type { DeliveryTracker } from "../s3queue/DeliveryTracker.js";
import type { IntakeChunk, OwnerRun } from "./IntakeChunk.js";

const COMMA = 0x2c;
const CLOSING = Buffer.from("]}");

/** Free buffers kept for reuse, so that steady forwarding allocates no new bodies. */
const BUFFER_POOL_SIZE = 8;

/**
 * Encodes lines straight into a request body `{"intake_key": ..., "jsons": [...]}` of at most
 * `maxBytes`, without building per-event objects. Lines become JSON strings; invalid UTF-8
 * becomes U+FFFD. Bodies are pooled and reused.
 */
export class ChunkBuilder {
  private readonly opening: Buffer;
  private readonly pool: Buffer[] = [];
  private buffer: Buffer;
  private length = 0;
  private events = 0;
  private owners: OwnerRun[] = [];

  constructor(
    intakeKey: string,
    private readonly maxBytes: number,
  ) {
    this.opening = Buffer.from(`{"intake_key":${JSON.stringify(intakeKey)},"jsons":[`, "utf8");
    this.buffer = this.takeBuffer();
    this.startBody();
  }

  get eventCount(): number {
    return this.events;
  }

  /** True when the chunk being built holds an event of `owner`. */
  holds(owner: DeliveryTracker): boolean {
    return this.owners.some((run) => run.owner === owner);
  }

  /**
   * Appends one line; returns false, leaving the chunk unchanged, when the encoded line does
   * not fit (the caller seals the chunk and tries again on a new one). A single line always
   * fits into an empty chunk, given the event size limit.
   */
  tryAdd(line: Buffer, owner: DeliveryTracker): boolean {
    const encoded = JSON.stringify(line.toString("utf8"));
    const needed = (this.events > 0 ? 1 : 0) + Buffer.byteLength(encoded, "utf8");
    if (this.length + needed + CLOSING.length > this.maxBytes && this.events > 0) {
      return false;
    }
    this.ensureCapacity(this.length + needed + CLOSING.length);
    if (this.events > 0) {
      this.buffer[this.length] = COMMA;
      this.length += 1;
    }
    this.length += this.buffer.write(encoded, this.length, "utf8");
    this.events += 1;
    const last = this.owners[this.owners.length - 1];
    if (last !== undefined && last.owner === owner) {
      last.count += 1;
    } else {
      this.owners.push({ owner, count: 1 });
    }

    return true;
  }

  /** Closes the body and starts a new one; undefined when the chunk holds no event. */
  seal(): IntakeChunk | undefined {
    if (this.events === 0) {
      return undefined;
    }
    CLOSING.copy(this.buffer, this.length);
    const buffer = this.buffer;
    let released = false;
    const chunk: IntakeChunk = {
      body: buffer.subarray(0, this.length + CLOSING.length),
      eventCount: this.events,
      owners: this.owners,
      // Once only: a buffer pooled twice would be handed to two chunks at the same time.
      release: () => {
        if (!released) {
          released = true;
          this.giveBack(buffer);
        }
      },
    };
    this.buffer = this.takeBuffer();
    this.startBody();

    return chunk;
  }

  private startBody(): void {
    this.opening.copy(this.buffer, 0);
    this.length = this.opening.length;
    this.events = 0;
    this.owners = [];
  }

  private ensureCapacity(size: number): void {
    if (size <= this.buffer.length) {
      return;
    }
    const larger = Buffer.allocUnsafe(Math.max(size, this.buffer.length * 2));
    this.buffer.copy(larger, 0, 0, this.length);
    this.buffer = larger;
  }

  private takeBuffer(): Buffer {
    return this.pool.pop() ?? Buffer.allocUnsafe(this.maxBytes);
  }

  private giveBack(buffer: Buffer): void {
    if (buffer.length === this.maxBytes && this.pool.length < BUFFER_POOL_SIZE) {
      this.pool.push(buffer);
    }
  }
}
