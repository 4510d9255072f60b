import zlib from "node:zlib";

/** Piece of compressed input handed to zlib at once: about 2 MiB of Umbrella text. */
export const GZIP_INPUT_SLICE_BYTES = 256 * 1024;

/**
 * Size of the decompressed pieces zlib hands out: each costs a round trip to the thread pool,
 * and 256 KiB pieces cost a quarter of the 64 KiB ones for the same text.
 */
const GZIP_OUTPUT_CHUNK_BYTES = 256 * 1024;

/**
 * Pieces of compressed input zlib may hold, besides the one it decodes, before `write` waits
 * for it. Without them zlib would idle at the end of each piece until this thread, busy
 * splitting and encoding, wrote the next one. They bound what is still decoded once the reader
 * pauses: three pieces, some 5 MiB of text.
 */
const GZIP_PIECES_AHEAD = 2;

/**
 * Text one piece may expand to. A piece of 256 KiB is about 2 MiB of Umbrella text, but a
 * "gzip bomb" expands a thousand times: pieces shrink with the observed ratio, so that the text
 * decoded before the next pause stays near this size whatever the data.
 */
const TEXT_PER_PIECE_BYTES = 2 * 1024 * 1024;

/** Smallest piece the ratio may shrink pieces to. */
const MIN_INPUT_SLICE_BYTES = 256;

/**
 * Expansion assumed before any text came out: the first piece is small (4 KiB), and no piece
 * is written ahead of it, so that a bomb cannot expand unseen; then pieces grow to the ratio.
 */
const INITIAL_RATIO = 512;

/** Waits, when the consumer of the text is full, until it has room again. */
export type RoomCheck = () => Promise<void> | undefined;

/**
 * Feeds compressed bytes to a streaming gunzip and hands the decompressed bytes, in order, to
 * `onData`; `write` resolves once zlib has room for more (awaiting writes is the
 * backpressure), `end` once every byte was handed on. Accepts multi-member gzip. A decoding
 * error rejects the pending or next write, or `end`.
 */
export class GunzipFeeder {
  private readonly gunzip = zlib.createGunzip({ chunkSize: GZIP_OUTPUT_CHUNK_BYTES });
  /** One per piece written and not waited for yet, settled once zlib has consumed it. */
  private readonly consumed: Promise<void>[] = [];
  /** Input gathered until it makes a piece. */
  private held: Buffer[] = [];
  private heldBytes = 0;
  private failure: Error | undefined;
  private readonly failed: Promise<never>;
  private readonly ended: Promise<void>;
  private textBytes = 0;

  constructor(
    onData: (chunk: Buffer) => void,
    private readonly room: RoomCheck = () => undefined,
  ) {
    this.gunzip.on("data", (text: Buffer) => {
      this.textBytes += text.length;
      // zlib starts on the next piece only once this listener returns: handing the text on
      // right after lets zlib decode on its thread while this one splits and encodes.
      queueMicrotask(() => onData(text));
    });
    this.failed = new Promise<never>((_, reject) => {
      this.gunzip.on("error", (error: Error) => {
        this.failure = error;
        reject(error);
      });
    });
    this.failed.catch(() => undefined);
    this.ended = new Promise<void>((resolve) => this.gunzip.on("end", resolve));
  }

  /** Compressed bytes zlib has consumed so far (written bytes it still holds excluded). */
  get bytesConsumed(): number {
    return this.gunzip.bytesWritten;
  }

  /**
   * Decompresses `chunk`. zlib receives the input in pieces of exactly `sliceBytes`: small
   * writes are gathered (the rest waits for the next write or `end`), because each piece ends
   * with a short run of text during which this thread, done with it, would wait for zlib. When
   * zlib meets damaged data it drops what it decoded in the same call, so pieces of a few
   * bytes lose less.
   */
  async write(chunk: Buffer, sliceBytes?: number): Promise<void> {
    if (this.failure !== undefined) {
      throw this.failure;
    }
    this.held.push(chunk);
    this.heldBytes += chunk.length;
    // The size is decided again for every piece: the ratio is learnt as the text comes out.
    let size = sliceBytes ?? this.adaptiveSliceBytes();
    if (this.heldBytes < size) {
      return;
    }
    const data = this.held.length === 1 ? chunk : Buffer.concat(this.held, this.heldBytes);
    let start = 0;
    while (data.length - start >= size) {
      await this.writeSlice(data.subarray(start, start + size));
      start += size;
      size = sliceBytes ?? this.adaptiveSliceBytes();
    }
    this.held = start < data.length ? [data.subarray(start)] : [];
    this.heldBytes = data.length - start;
  }

  async end(): Promise<void> {
    if (this.heldBytes > 0) {
      await this.writeSlice(Buffer.concat(this.held, this.heldBytes));
      this.held = [];
      this.heldBytes = 0;
    }
    this.gunzip.end();
    await Promise.race([this.ended, this.failed]);
  }

  /** Stops decoding: the bytes zlib still holds are dropped and nothing more is handed on. */
  destroy(): void {
    this.gunzip.destroy();
  }

  /** The default piece size: smaller as the data expands more. */
  private adaptiveSliceBytes(): number {
    const consumed = this.gunzip.bytesWritten;
    const ratio = consumed === 0 ? INITIAL_RATIO : this.textBytes / consumed;
    const fitting = Math.floor(TEXT_PER_PIECE_BYTES / Math.max(1, ratio));

    return Math.max(MIN_INPUT_SLICE_BYTES, Math.min(GZIP_INPUT_SLICE_BYTES, fitting));
  }

  /**
   * Hands one piece to zlib, waits for the oldest piece while too many are ahead, then for the
   * consumer's room: text never piles up faster than it is forwarded.
   */
  private async writeSlice(slice: Buffer): Promise<void> {
    if (this.failure !== undefined) {
      throw this.failure;
    }
    this.consumed.push(new Promise((resolve) => this.gunzip.write(slice, () => resolve())));
    const ahead = this.textBytes === 0 ? 0 : GZIP_PIECES_AHEAD;
    while (this.consumed.length > ahead) {
      await Promise.race([this.consumed.shift(), this.failed]);
    }
    const room = this.room();
    if (room !== undefined) {
      await Promise.race([room, this.failed]);
    }
  }
}
