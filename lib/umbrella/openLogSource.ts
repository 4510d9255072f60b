import { open } from "node:fs/promises";
import { addAbortSignal, pipeline, Readable } from "node:stream";
import { createGunzip } from "node:zlib";

/** The name under which standard input is read and reported. */
export const STDIN_SOURCE = "-";

const GZIP_MAGIC = [0x1f, 0x8b] as const;

/**
 * The bytes of a log source, decompressed when they start like gzip (0x1f 0x8b), whatever the
 * file is called. `-` is standard input. Rejects when a file cannot be opened; the returned
 * stream fails when reading or decompressing fails, and stops when `signal` aborts.
 */
export async function openLogSource(
  name: string,
  signal: AbortSignal,
  stdin: NodeJS.ReadableStream = process.stdin,
): Promise<AsyncIterable<Buffer>> {
  const raw =
    name === STDIN_SOURCE ? asReadable(stdin) : (await open(name, "r")).createReadStream();

  return gunzipIfCompressed(addAbortSignal(signal, raw));
}

/** process.stdin is a Readable already: kept as is, so that a shutdown destroys it. */
function asReadable(stream: NodeJS.ReadableStream): Readable {
  return stream instanceof Readable ? stream : Readable.from(stream);
}

async function* gunzipIfCompressed(input: Readable): AsyncGenerator<Buffer> {
  try {
    yield* decompressed(input);
  } finally {
    // Whoever stops early (an error, a shutdown) must not leave the file open.
    input.destroy();
  }
}

async function* decompressed(input: Readable): AsyncGenerator<Buffer> {
  const chunks = input[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  let head = Buffer.alloc(0);
  while (head.length < GZIP_MAGIC.length) {
    const next = await chunks.next();
    if (next.done === true) {
      if (head.length > 0) {
        yield head;
      }

      return;
    }
    head = Buffer.concat([head, toBuffer(next.value)]);
  }

  const all = Readable.from(prepend(head, chunks));
  if (head[0] !== GZIP_MAGIC[0] || head[1] !== GZIP_MAGIC[1]) {
    yield* all;

    return;
  }
  // pipeline destroys both streams on any failure, so the loop below sees the error.
  const gunzip = createGunzip();
  pipeline(all, gunzip, () => undefined);
  yield* gunzip;
}

async function* prepend(head: Buffer, rest: AsyncIterator<Buffer>): AsyncGenerator<Buffer> {
  yield head;
  for (let next = await rest.next(); next.done !== true; next = await rest.next()) {
    yield toBuffer(next.value);
  }
}

function toBuffer(chunk: Buffer | string): Buffer {
  return typeof chunk === "string" ? Buffer.from(chunk, "utf8") : chunk;
}
