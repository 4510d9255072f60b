import zlib from "node:zlib";

/** Largest piece of compressed input handed to zlib at once. */
export const GZIP_INPUT_SLICE_BYTES = 64 * 1024;

/** Size of the decompressed pieces zlib hands out. */
const GZIP_OUTPUT_CHUNK_BYTES = 64 * 1024;

/**
 * Feeds compressed bytes to a streaming gunzip and hands the decompressed bytes to `onData`
 * synchronously, before each `write` resolves: awaiting writes is the backpressure. Accepts
 * multi-member gzip. A decoding error rejects the pending write or `end`.
 */
export class GunzipFeeder {
  private readonly gunzip = zlib.createGunzip({ chunkSize: GZIP_OUTPUT_CHUNK_BYTES });
  private failure: Error | undefined;
  private readonly failed: Promise<never>;
  private readonly ended: Promise<void>;

  constructor(onData: (chunk: Buffer) => void) {
    this.gunzip.on("data", onData);
    this.failed = new Promise<never>((_, reject) => {
      this.gunzip.on("error", (error: Error) => {
        this.failure = error;
        reject(error);
      });
    });
    this.failed.catch(() => undefined);
    this.ended = new Promise<void>((resolve) => this.gunzip.on("end", resolve));
  }

  /** Compressed bytes zlib has consumed so far. */
  get bytesConsumed(): number {
    return this.gunzip.bytesWritten;
  }

  /**
   * Decompresses `chunk`, handing it to zlib in pieces of at most `sliceBytes`. When zlib meets
   * damaged data it drops what it decoded in the same call, so small pieces lose less.
   */
  async write(chunk: Buffer, sliceBytes = GZIP_INPUT_SLICE_BYTES): Promise<void> {
    for (let start = 0; start < chunk.length; start += sliceBytes) {
      const slice = chunk.subarray(start, start + sliceBytes);
      await Promise.race([this.writeSlice(slice), this.failed]);
    }
  }

  async end(): Promise<void> {
    this.gunzip.end();
    await Promise.race([this.ended, this.failed]);
  }

  destroy(): void {
    this.gunzip.destroy();
  }

  private writeSlice(slice: Buffer): Promise<void> {
    if (this.failure !== undefined) {
      return Promise.reject(this.failure);
    }

    return new Promise((resolve, reject) => {
      this.gunzip.write(slice, (error) => (error ? reject(error) : resolve()));
    });
  }
}
