import type { Readable } from "node:stream";

import { GetObjectCommand, type S3Client } from "@aws-sdk/client-s3";

import { classifyAwsError } from "../aws/classifyAwsError.js";
import { ObjectReadError, type ObjectFailureKind } from "../errors/ObjectReadError.js";
import { describeError } from "../errors/ModuleError.js";
import { Backoff, sleep } from "../runtime/Backoff.js";
import { GunzipFeeder, type RoomCheck } from "./GunzipFeeder.js";
import { LineSplitter } from "./LineSplitter.js";
import { describeObject, type ObjectRef } from "./ObjectRef.js";

const GZIP_MAGIC_FIRST = 0x1f;
const GZIP_MAGIC_SECOND = 0x8b;

/**
 * Times in a row a download may fail without any progress before the object counts as
 * unreadable for now. A download that keeps advancing (a flaky network, a paused download the
 * server closed) resumes as often as it needs.
 */
export const OBJECT_RESUME_ATTEMPTS = 4;

/**
 * Compressed bytes handed to zlib at once while re-decoding near damaged data: zlib drops what
 * it decoded in the call that meets the damage. A first pass in small pieces finds the damaged
 * piece, a second one feeds that piece byte by byte, so that nothing decodable is lost.
 */
const SALVAGE_SLICE_BYTES = [256, 1] as const;

const RESUME_INITIAL_DELAY_MS = 500;
const RESUME_MAX_DELAY_MS = 8_000;

/** What the reader hands lines to, and when it must pause. */
export interface LineConsumer {
  line(line: Buffer, offset: number): void;
  overlong(offset: number, length: number): void;
  /** Undefined when the consumer can take more now, else a promise to await. */
  room(): Promise<void> | undefined;
}

/** Figures of one object read. */
export interface ObjectReadResult {
  /** Bytes downloaded, as stored. */
  storedBytes: number;
  /** Bytes of text after decompression. */
  textBytes: number;
  gzip: boolean;
  resumes: number;
  /** Set when the gzip stream was damaged: what came before it was handed out. */
  corruption: ObjectReadError | undefined;
}

export interface ObjectReaderOptions {
  maxLineBytes: number;
  resumeAttempts?: number;
  /** Called before each resume, for logs and metrics. */
  onResume?: (ref: ObjectRef, offset: number, error: unknown) => void;
  resumeDelayMs?: { initial: number; max: number };
}

/**
 * Streams one S3 object into lines without holding it in memory: gzip is recognised by its
 * first bytes (plain text is read as is), a download cut mid-way resumes with a ranged GET
 * pinned to the same ETag, and a damaged gzip stream ends the object after the lines decoded
 * before the damage, reported with the offset.
 */
export class ObjectReader {
  constructor(
    private readonly s3: S3Client,
    private readonly options: ObjectReaderOptions,
  ) {}

  async read(
    ref: ObjectRef,
    consumer: LineConsumer,
    signal: AbortSignal,
  ): Promise<ObjectReadResult> {
    const splitter = new LineSplitter(
      this.options.maxLineBytes,
      (line, offset) => consumer.line(line, offset),
      (offset, length) => consumer.overlong(offset, length),
    );
    const state = new ReadState(splitter, () => consumer.room());
    const backoff = new Backoff({
      initialDelayMs: this.options.resumeDelayMs?.initial ?? RESUME_INITIAL_DELAY_MS,
      maxDelayMs: this.options.resumeDelayMs?.max ?? RESUME_MAX_DELAY_MS,
    });
    try {
      return await this.readResuming(ref, consumer, signal, state, backoff);
    } finally {
      // Once read() settles nothing more may reach the consumer, even what zlib still holds.
      state.close();
    }
  }

  private async readResuming(
    ref: ObjectRef,
    consumer: LineConsumer,
    signal: AbortSignal,
    state: ReadState,
    backoff: Backoff,
  ): Promise<ObjectReadResult> {
    const attempts = this.options.resumeAttempts ?? OBJECT_RESUME_ATTEMPTS;
    let etag: string | undefined;
    let failuresWithoutProgress = 0;
    let lastFailureAt = -1;
    for (;;) {
      const body = await this.open(ref, state.storedBytes, etag, signal);
      etag ??= body.etag;
      try {
        await this.pump(body.stream, state, consumer, signal);
        await state.finish();

        return state.result(undefined);
      } catch (error: unknown) {
        body.stream.destroy();
        if (state.decodeFailure !== undefined) {
          if (decodeErrorCode(state.decodeFailure) !== TRUNCATED_GZIP_CODE) {
            await this.salvage(ref, etag, state, signal);
          }

          return state.result(this.corruption(ref, state));
        }
        if (signal.aborted) {
          throw this.failure(ref, "aborted", "reading was cancelled", error, state.storedBytes);
        }
        failuresWithoutProgress =
          state.storedBytes > lastFailureAt ? 1 : failuresWithoutProgress + 1;
        lastFailureAt = state.storedBytes;
        if (failuresWithoutProgress > attempts) {
          throw this.failure(
            ref,
            "transient",
            `the download failed ${failuresWithoutProgress} times at byte ${state.storedBytes}`,
            error,
            state.storedBytes,
          );
        }
        if (failuresWithoutProgress === 1) {
          backoff.reset();
        }
        state.resumes += 1;
        this.options.onResume?.(ref, state.storedBytes, error);
        await sleep(backoff.next(), signal);
      }
    }
  }

  private async open(
    ref: ObjectRef,
    offset: number,
    etag: string | undefined,
    signal: AbortSignal,
  ): Promise<{ stream: Readable; etag: string | undefined }> {
    try {
      const response = await this.s3.send(
        new GetObjectCommand({
          Bucket: ref.bucket,
          Key: ref.key,
          ...(offset > 0 ? { Range: `bytes=${offset}-` } : {}),
          ...(offset > 0 && etag !== undefined ? { IfMatch: etag } : {}),
        }),
        { abortSignal: signal },
      );
      if (response.Body === undefined) {
        throw new Error("GetObject returned no body");
      }

      return { stream: response.Body as Readable, etag: response.ETag };
    } catch (error: unknown) {
      throw this.classify(ref, error, offset, signal);
    }
  }

  /**
   * Decodes the object again after damaged gzip data, to hand on the text zlib decoded just
   * before the damage but dropped with the error: up to the last good point in large pieces
   * (that text was handed on already and is skipped), then in tiny ones; each pass narrows the
   * damaged piece down.
   */
  private async salvage(
    ref: ObjectRef,
    etag: string | undefined,
    state: ReadState,
    signal: AbortSignal,
  ): Promise<void> {
    let safeStoredBytes = state.decodedStoredBytes;
    for (const sliceBytes of SALVAGE_SLICE_BYTES) {
      safeStoredBytes = await this.salvagePass(
        ref,
        etag,
        state,
        signal,
        safeStoredBytes,
        sliceBytes,
      );
    }
  }

  /** One pass of the salvage; resolves to the stored bytes zlib decoded without error. */
  private async salvagePass(
    ref: ObjectRef,
    etag: string | undefined,
    state: ReadState,
    signal: AbortSignal,
    safeStoredBytes: number,
    sliceBytes: number,
  ): Promise<number> {
    const handedOn = state.splitter.bytesSeen;
    let decoded = 0;
    const feeder = new GunzipFeeder((text) => {
      const start = decoded;
      decoded += text.length;
      if (decoded > handedOn) {
        state.splitter.push(start >= handedOn ? text : text.subarray(handedOn - start));
      }
    });
    let stream: Readable | undefined;
    try {
      stream = (await this.open(ref, 0, etag, signal)).stream;
      let stored = 0;
      for await (const piece of stream) {
        const chunk = piece as Buffer;
        const fast = Math.max(0, Math.min(chunk.length, safeStoredBytes - stored));
        await feeder.write(chunk.subarray(0, fast));
        await feeder.write(chunk.subarray(fast), sliceBytes);
        stored += chunk.length;
      }
      await feeder.end();
    } catch {
      // Meeting the damage again is the expected end of a pass.
    } finally {
      stream?.destroy();
      feeder.destroy();
    }

    return Math.max(safeStoredBytes, feeder.bytesConsumed);
  }

  private async pump(
    stream: Readable,
    state: ReadState,
    consumer: LineConsumer,
    signal: AbortSignal,
  ): Promise<void> {
    const onAbort = (): void => {
      stream.destroy(new Error("aborted"));
    };
    signal.addEventListener("abort", onAbort, { once: true });
    try {
      for await (const chunk of stream) {
        await state.feed(chunk as Buffer);
        const room = consumer.room();
        if (room !== undefined) {
          await room;
        }
      }
    } finally {
      signal.removeEventListener("abort", onAbort);
    }
  }

  private classify(
    ref: ObjectRef,
    error: unknown,
    offset: number,
    signal: AbortSignal,
  ): ObjectReadError {
    if (signal.aborted) {
      return this.failure(ref, "aborted", "reading was cancelled", error, offset);
    }
    const verdict = classifyAwsError(error);
    const kinds: Record<string, ObjectFailureKind> = {
      "not-found": "missing",
      "access-denied": "access-denied",
      throttled: "transient",
      server: "transient",
      network: "transient",
    };
    const kind = kinds[verdict.kind] ?? "unknown";
    const reasons: Record<ObjectFailureKind, string> = {
      missing: `the object does not exist (${verdict.name}); it was deleted before it was read`,
      "access-denied":
        `access denied (${verdict.name}): the credentials need s3:GetObject on ` +
        `arn:aws:s3:::${ref.bucket}/${ref.key}` +
        " (and kms:Decrypt on the bucket's key when it uses SSE-KMS)",
      transient: `S3 kept failing (${verdict.name}${verdict.status ? ` ${verdict.status}` : ""})`,
      corrupt: "",
      aborted: "reading was cancelled",
      unknown: `GetObject failed (${verdict.name}: ${describeError(error)})`,
    };

    return this.failure(ref, kind, reasons[kind], error, offset);
  }

  private failure(
    ref: ObjectRef,
    kind: ObjectFailureKind,
    reason: string,
    cause: unknown,
    offset: number,
  ): ObjectReadError {
    return new ObjectReadError(
      kind,
      { bucket: ref.bucket, key: ref.key, offset },
      `Cannot read s3://${describeObject(ref)}: ${reason}.`,
      { cause },
    );
  }

  private corruption(ref: ObjectRef, state: ReadState): ObjectReadError {
    const cause = state.decodeFailure;
    const dropped = state.splitter.discardPartial();
    const code = decodeErrorCode(cause) ?? "gzip error";

    return new ObjectReadError(
      "corrupt",
      { bucket: ref.bucket, key: ref.key, offset: state.storedBytes },
      `The gzip data of s3://${describeObject(ref)} is damaged or truncated (${code}) near ` +
        `stored byte ${state.storedBytes}: the lines before text byte ${state.splitter.bytesSeen - dropped} ` +
        "were forwarded, the rest of the object cannot be read.",
      { cause },
    );
  }
}

/** zlib's code for a gzip stream that ends too early (truncated, not damaged). */
const TRUNCATED_GZIP_CODE = "Z_BUF_ERROR";

function decodeErrorCode(error: unknown): string | undefined {
  return (error as NodeJS.ErrnoException | undefined)?.code;
}

/** Decoding state of one object, kept across resumed downloads. */
class ReadState {
  storedBytes = 0;
  resumes = 0;
  decodeFailure: unknown;
  /** Stored bytes zlib had decoded without error when it failed. */
  decodedStoredBytes = 0;
  private mode: "unknown" | "gzip" | "plain" = "unknown";
  private head: Buffer | undefined;
  private gunzip: GunzipFeeder | undefined;

  constructor(
    readonly splitter: LineSplitter,
    private readonly room: RoomCheck,
  ) {}

  async feed(chunk: Buffer): Promise<void> {
    this.storedBytes += chunk.length;
    let data = chunk;
    if (this.mode === "unknown") {
      data = this.head === undefined ? chunk : Buffer.concat([this.head, chunk]);
      if (data.length < 2) {
        this.head = data;

        return;
      }
      this.head = undefined;
      this.choose(data);
    }
    await this.decode(data);
  }

  async finish(): Promise<void> {
    if (this.mode === "unknown" && this.head !== undefined) {
      this.choose(this.head);
      await this.decode(this.head);
    }
    if (this.gunzip !== undefined) {
      try {
        await this.gunzip.end();
      } catch (error: unknown) {
        this.decodeFailure = error;
        this.decodedStoredBytes = this.gunzip.bytesConsumed;
        throw error;
      }
    }
    this.splitter.end();
  }

  /** Stops decoding; nothing more is handed to the splitter. */
  close(): void {
    this.gunzip?.destroy();
  }

  result(corruption: ObjectReadError | undefined): ObjectReadResult {
    return {
      storedBytes: this.storedBytes,
      textBytes: this.splitter.bytesSeen,
      gzip: this.mode === "gzip",
      resumes: this.resumes,
      corruption,
    };
  }

  private choose(data: Buffer): void {
    const gzip = data[0] === GZIP_MAGIC_FIRST && data[1] === GZIP_MAGIC_SECOND;
    this.mode = gzip ? "gzip" : "plain";
    if (gzip) {
      this.gunzip = new GunzipFeeder((text) => this.splitter.push(text), this.room);
    }
  }

  private async decode(data: Buffer): Promise<void> {
    if (this.gunzip === undefined) {
      this.splitter.push(data);

      return;
    }
    try {
      await this.gunzip.write(data);
    } catch (error: unknown) {
      this.decodeFailure = error;
      this.decodedStoredBytes = this.gunzip.bytesConsumed;
      throw error;
    }
  }
}
