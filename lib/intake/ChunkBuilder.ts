import type { DeliveryTracker } from "../s3queue/DeliveryTracker.js";
import type { IntakeChunk, OwnerRun } from "./IntakeChunk.js";

const COMMA = 0x2c;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const DIGIT_ZERO = 0x30;
const CLOSING = Buffer.from("]}");
const HEX_DIGITS = Buffer.from("0123456789abcdef");

/** Most bytes one byte of a line becomes in a JSON string: a control byte as `\u00XX`. */
const MAX_ESCAPED_BYTES_PER_BYTE = 6;
/** The quotes around a JSON string. */
const STRING_QUOTES_BYTES = 2;
/** What `writeAsciiJsonString` returns for a line holding a byte above 0x7f. */
const NOT_WRITTEN = -1;

const FIRST_PRINTABLE = 0x20;
const FIRST_NON_ASCII = 0x80;
const COPIED = 0;
const UNICODE_ESCAPE = 0x75;
const ESCAPES = escapeTable();

/** Free buffers kept for reuse, so that steady forwarding allocates no new bodies. */
const BUFFER_POOL_SIZE = 8;

/**
 * Encodes lines straight into a request body `{"intake_key": ..., "jsons": [...]}` of at most
 * `maxBytes`, without building per-event objects. Lines become JSON strings, byte for byte as
 * JSON.stringify writes them; invalid UTF-8 becomes U+FFFD. Bodies are pooled and reused.
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
    const separator = this.events > 0 ? 1 : 0;
    const start = this.length + separator;
    // ASCII lines (nearly all log lines) are escaped straight into the body after its end:
    // nothing is allocated, and the bytes count only once the line is known to fit.
    const worstEnd = start + line.length * MAX_ESCAPED_BYTES_PER_BYTE + STRING_QUOTES_BYTES;
    const end =
      worstEnd + CLOSING.length <= this.buffer.length
        ? writeAsciiJsonString(line, this.buffer, start)
        : NOT_WRITTEN;
    if (end === NOT_WRITTEN) {
      return this.tryAddEncoded(Buffer.from(JSON.stringify(line.toString("utf8")), "utf8"), owner);
    }
    if (end + CLOSING.length > this.maxBytes && this.events > 0) {
      return false;
    }
    if (separator === 1) {
      this.buffer[this.length] = COMMA;
    }
    this.length = end;
    this.countEvent(owner);

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

  /** The general path: the line encoded apart (text beyond ASCII, or the end of the body). */
  private tryAddEncoded(encoded: Buffer, owner: DeliveryTracker): boolean {
    const needed = (this.events > 0 ? 1 : 0) + encoded.length;
    if (this.length + needed + CLOSING.length > this.maxBytes && this.events > 0) {
      return false;
    }
    this.ensureCapacity(this.length + needed + CLOSING.length);
    if (this.events > 0) {
      this.buffer[this.length] = COMMA;
      this.length += 1;
    }
    this.length += encoded.copy(this.buffer, this.length);
    this.countEvent(owner);

    return true;
  }

  private countEvent(owner: DeliveryTracker): void {
    this.events += 1;
    const last = this.owners[this.owners.length - 1];
    if (last !== undefined && last.owner === owner) {
      last.count += 1;
    } else {
      this.owners.push({ owner, count: 1 });
    }
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

/**
 * Writes an ASCII line as a JSON string into `target` from `start`, escaping as
 * JSON.stringify does; returns the end offset, or NOT_WRITTEN as soon as a byte is above 0x7f
 * (UTF-8 then needs decoding). `target` must have room for the worst case.
 */
function writeAsciiJsonString(line: Buffer, target: Buffer, start: number): number {
  let at = start;
  target[at++] = QUOTE;
  for (let index = 0; index < line.length; index += 1) {
    const byte = line[index] as number;
    // Tests ordered by frequency in log lines: plain text, then the quotes of CSV cells.
    if (byte > QUOTE && byte !== BACKSLASH && byte < FIRST_NON_ASCII) {
      target[at++] = byte;
    } else if (byte === QUOTE) {
      target[at++] = BACKSLASH;
      target[at++] = QUOTE;
    } else if (byte >= FIRST_NON_ASCII) {
      return NOT_WRITTEN;
    } else {
      at = writeRareAscii(byte, target, at);
    }
  }
  target[at++] = QUOTE;

  return at;
}

/** A space, `!`, a backslash or a control byte, as JSON.stringify writes it. */
function writeRareAscii(byte: number, target: Buffer, start: number): number {
  let at = start;
  const escape = ESCAPES[byte] as number;
  if (escape === COPIED) {
    target[at++] = byte;

    return at;
  }
  target[at++] = BACKSLASH;
  target[at++] = escape;
  if (escape === UNICODE_ESCAPE) {
    target[at++] = DIGIT_ZERO;
    target[at++] = DIGIT_ZERO;
    target[at++] = HEX_DIGITS[byte >> 4] as number;
    target[at++] = HEX_DIGITS[byte & 0x0f] as number;
  }

  return at;
}

/**
 * The escape of every ASCII byte as JSON.stringify writes it (RFC 8259 section 7): COPIED,
 * the letter after the backslash, or `u` for `\u00XX`.
 */
function escapeTable(): Uint8Array {
  const table = new Uint8Array(FIRST_NON_ASCII);
  table.fill(UNICODE_ESCAPE, 0, FIRST_PRINTABLE);
  const short: [string, string][] = [
    ["\b", "b"],
    ["\t", "t"],
    ["\n", "n"],
    ["\f", "f"],
    ["\r", "r"],
    ['"', '"'],
    ["\\", "\\"],
  ];
  for (const [character, letter] of short) {
    table[character.charCodeAt(0)] = letter.charCodeAt(0);
  }

  return table;
}
