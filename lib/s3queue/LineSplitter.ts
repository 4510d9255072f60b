const LF = 0x0a;
const CR = 0x0d;
const SPACE = 0x20;
const TAB = 0x09;
const UTF8_BOM = Buffer.from([0xef, 0xbb, 0xbf]);

type BufferViewConstructor = new (
  memory: ArrayBufferLike,
  offset: number,
  length: number,
) => Buffer;

/**
 * The class Node gives every Buffer (its species). Building each line's view with it directly
 * halves the cost of `subarray`, which normalises its arguments first: after the search for
 * line ends, making views is the largest cost of splitting.
 */
const BufferView = (Buffer as unknown as { [Symbol.species]: BufferViewConstructor })[
  Symbol.species
];

/** Receives each complete line, without its line terminator, and its offset in the text. */
export type LineHandler = (line: Buffer, offset: number) => void;

/** Told about a line longer than the limit, which is dropped. */
export type OverlongHandler = (offset: number, length: number) => void;

/**
 * Splits decoded text into lines as it arrives, holding at most one partial line. LF ends a
 * line, a CR before it is dropped, blank lines are skipped, a UTF-8 byte-order mark at the
 * very start is dropped, and a line longer than `maxLineBytes` is dropped and reported
 * instead of being buffered. Lines handed out are views into the input: the handler must use
 * them before returning.
 */
export class LineSplitter {
  private pending: Buffer[] = [];
  private pendingLength = 0;
  private discarding = false;
  private lineStart = 0;
  private offset = 0;
  private atStart = true;
  /** The first bytes of the text while they may still be the start of a byte-order mark. */
  private head: Buffer | undefined;
  /** The memory of the chunk being split, read once per chunk: `Buffer#buffer` calls C++. */
  private memory: ArrayBufferLike = UTF8_BOM.buffer;
  private memoryOffset = 0;

  constructor(
    private readonly maxLineBytes: number,
    private readonly onLine: LineHandler,
    private readonly onOverlong: OverlongHandler,
  ) {}

  /** Bytes of text seen so far. */
  get bytesSeen(): number {
    return this.offset;
  }

  push(chunk: Buffer): void {
    let data = chunk;
    if (this.atStart) {
      data = this.head === undefined ? chunk : Buffer.concat([this.head, chunk]);
      if (data.length < UTF8_BOM.length && data.equals(UTF8_BOM.subarray(0, data.length))) {
        this.head = data;

        return;
      }
      this.head = undefined;
      data = this.dropByteOrderMark(data);
      if (data.length === 0) {
        return;
      }
    }
    const base = this.offset;
    this.offset += data.length;
    this.memory = data.buffer;
    this.memoryOffset = data.byteOffset;
    let start = 0;
    let end = data.indexOf(LF, start);
    while (end !== -1) {
      this.completeLine(data, start, end, base);
      start = end + 1;
      this.lineStart = base + start;
      end = data.indexOf(LF, start);
    }
    if (start < data.length) {
      this.keepPartial(data.subarray(start));
    }
  }

  /** Hands out the last line when the text does not end with a line terminator. */
  end(): void {
    if (this.head !== undefined) {
      const head = this.head;
      this.head = undefined;
      this.atStart = false;
      this.push(head);
    }
    if (this.discarding) {
      this.onOverlong(this.lineStart, this.offset - this.lineStart);
    } else if (this.pendingLength > 0) {
      this.emit(this.takePending(), this.lineStart);
    }
    this.reset();
  }

  /** Forgets a partial line, e.g. when the text is cut by a decoding error. */
  discardPartial(): number {
    const length = this.pendingLength + (this.head?.length ?? 0);
    this.head = undefined;
    this.reset();

    return length;
  }

  private completeLine(data: Buffer, start: number, end: number, base: number): void {
    if (this.discarding) {
      this.onOverlong(this.lineStart, base + end - this.lineStart);
      this.discarding = false;

      return;
    }
    if (this.pendingLength === 0) {
      this.emit(new BufferView(this.memory, this.memoryOffset + start, end - start), base + start);

      return;
    }
    if (this.pendingLength + (end - start) > this.maxLineBytes + 1) {
      this.onOverlong(this.lineStart, this.pendingLength + end - start);
      this.pending = [];
      this.pendingLength = 0;

      return;
    }
    this.pending.push(data.subarray(start, end));
    this.pendingLength += end - start;
    this.emit(this.takePending(), this.lineStart);
  }

  private keepPartial(rest: Buffer): void {
    if (this.discarding) {
      return;
    }
    this.pending.push(rest);
    this.pendingLength += rest.length;
    if (this.pendingLength > this.maxLineBytes + 1) {
      this.pending = [];
      this.pendingLength = 0;
      this.discarding = true;
    }
  }

  private takePending(): Buffer {
    const line =
      this.pending.length === 1
        ? (this.pending[0] as Buffer)
        : Buffer.concat(this.pending, this.pendingLength);
    this.pending = [];
    this.pendingLength = 0;

    return line;
  }

  private emit(line: Buffer, offset: number): void {
    let length = line.length;
    while (length > 0 && line[length - 1] === CR) {
      length -= 1;
    }
    if (length === 0 || isBlank(line, length)) {
      return;
    }
    if (length > this.maxLineBytes) {
      // line.length, CR included, as the other overlong paths count it
      this.onOverlong(offset, line.length);

      return;
    }
    this.onLine(length === line.length ? line : line.subarray(0, length), offset);
  }

  private dropByteOrderMark(data: Buffer): Buffer {
    this.atStart = false;
    if (data.length >= UTF8_BOM.length && data.subarray(0, 3).equals(UTF8_BOM)) {
      this.offset += UTF8_BOM.length;
      this.lineStart = UTF8_BOM.length;

      return data.subarray(UTF8_BOM.length);
    }

    return data;
  }

  private reset(): void {
    this.pending = [];
    this.pendingLength = 0;
    this.discarding = false;
  }
}

/** True for a line of spaces and tabs only; a data line's first byte settles it. */
function isBlank(line: Buffer, length: number): boolean {
  for (let index = 0; index < length; index += 1) {
    const byte = line[index];
    if (byte !== SPACE && byte !== TAB) {
      return false;
    }
  }

  return true;
}
