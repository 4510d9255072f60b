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

  constructor(onData: (chunk: Buffer) => void) {
    this.gunzip.on("data", (text: Buffer) => {
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
  async write(chunk: Buffer, sliceBytes = GZIP_INPUT_SLICE_BYTES): Promise<void> {
    if (this.failure !== undefined) {
      throw this.failure;
    }
    this.held.push(chunk);
    this.heldBytes += chunk.length;
    if (this.heldBytes < sliceBytes) {
      return;
    }
    const data = this.held.length === 1 ? chunk : Buffer.concat(this.held, this.heldBytes);
    const whole = data.length - (data.length % sliceBytes);
    this.held = whole < data.length ? [data.subarray(whole)] : [];
    this.heldBytes = data.length - whole;
    for (let start = 0; start < whole; start += sliceBytes) {
      await this.writeSlice(data.subarray(start, start + sliceBytes));
    }
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

  /** Hands one piece to zlib, then waits for the oldest piece while too many are ahead. */
  private async writeSlice(slice: Buffer): Promise<void> {
    if (this.failure !== undefined) {
      throw this.failure;
    }
    this.consumed.push(new Promise((resolve) => this.gunzip.write(slice, () => resolve())));
    if (this.consumed.length > GZIP_PIECES_AHEAD) {
      await Promise.race([this.consumed.shift(), this.failed]);
    }
  }
}
