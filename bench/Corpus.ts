import { once } from "node:events";
import {
  createWriteStream,
  existsSync,
  mkdirSync,
  readFileSync,
  renameSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { createGzip } from "node:zlib";

import { UmbrellaLineSource } from "./UmbrellaLineSource.js";

/** Cache folder of generated objects, gitignored; kept between runs. */
export const BENCH_DIRECTORY = ".bench";

const MIB = 1024 * 1024;
/** Text generated at once: large enough to be cheap, small enough to stay out of the way. */
const GENERATION_BLOCK_BYTES = MIB;
/** zlib's default level, which gzip(1) and the Umbrella exports use. */
const GZIP_LEVEL = 6;
/** Bumped when the generator changes, so that stale cached objects are not reused. */
const GENERATOR_VERSION = 1;

/** One generated object, gzip on disk. */
export interface CorpusObject {
  /** Short label, e.g. "1 GiB". */
  label: string;
  /** The size asked for; the text is that, rounded up to a whole line. */
  sizeMiB: number;
  path: string;
  lines: number;
  textBytes: number;
  storedBytes: number;
}

/** Sizes of uncompressed text, in MiB: the smallest is the "small object" of the RSS target. */
export const FULL_SIZES_MIB = [4, 64, 256, 1024];
export const QUICK_SIZES_MIB = [4, 16];

/**
 * The object of `sizeMiB` MiB of text, generated (streaming, never held in memory) unless
 * cached; `onGenerate` is told before a generation, which takes a while for large objects.
 */
export async function corpusObject(
  sizeMiB: number,
  onGenerate: (label: string) => void = () => undefined,
): Promise<CorpusObject> {
  mkdirSync(BENCH_DIRECTORY, { recursive: true });
  const name = `umbrella-ip-${sizeMiB}mib-v${GENERATOR_VERSION}`;
  const path = join(BENCH_DIRECTORY, `${name}.csv.gz`);
  const metaPath = join(BENCH_DIRECTORY, `${name}.json`);
  if (existsSync(path) && existsSync(metaPath)) {
    const cached = JSON.parse(readFileSync(metaPath, "utf8")) as Omit<CorpusObject, "sizeMiB">;

    return { ...cached, sizeMiB };
  }
  onGenerate(sizeLabel(sizeMiB));
  const object = await generate(sizeMiB, path);
  writeFileSync(metaPath, JSON.stringify(object));

  return object;
}

export function sizeLabel(sizeMiB: number): string {
  return sizeMiB >= 1024 ? `${sizeMiB / 1024} GiB` : `${sizeMiB} MiB`;
}

async function generate(sizeMiB: number, path: string): Promise<CorpusObject> {
  const partial = `${path}.partial`;
  const gzip = createGzip({ level: GZIP_LEVEL });
  const file = createWriteStream(partial);
  gzip.pipe(file);
  const source = new UmbrellaLineSource(sizeMiB);
  const target = sizeMiB * MIB;
  let textBytes = 0;
  let lines = 0;
  while (textBytes < target) {
    const block = source.nextBlock(Math.min(GENERATION_BLOCK_BYTES, target - textBytes));
    textBytes += block.text.length;
    lines += block.lines;
    if (!gzip.write(block.text)) {
      await once(gzip, "drain");
    }
  }
  gzip.end();
  await once(file, "close");
  renameSync(partial, path);

  return {
    label: sizeLabel(sizeMiB),
    sizeMiB,
    path,
    lines,
    textBytes,
    storedBytes: file.bytesWritten,
  };
}
