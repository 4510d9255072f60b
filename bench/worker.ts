/**
 * The bench's measuring process, started by bench.ts, one per measurement so that each starts
 * from a fresh heap. Prints one JSON line with its result.
 *
 *   worker.js compare <object.gz> <textBytes> <lines>  limit and object path, interleaved
 *   worker.js path <object.gz> <textBytes> <lines> <passes>  object path only (profiling)
 *   worker.js normalize <lines>  the ECS normaliser's rate
 */
import { readFileSync } from "node:fs";

import { IpLogNormalizer } from "../lib/umbrella/IpLogNormalizer.js";
import { normalizeLines } from "../lib/umbrella/normalizeLines.js";
import { LIMIT_CHUNK_SIZES, limitPass } from "./LimitRun.js";
import { summarise, type Measurement } from "./Measurements.js";
import { ObjectPathRun, type PassResult } from "./ObjectPathRun.js";
import { UmbrellaLineSource } from "./UmbrellaLineSource.js";

/** Interleaved rounds go on until both hold, so that noise from other processes averages. */
const MIN_ROUNDS = 3;
const MIN_MEASURE_SECONDS = 6;
const MAX_ROUNDS = 40;
/** Below this much text a first round only warms the JIT up and is not counted. */
const WARM_UP_BELOW_BYTES = 256 * 1024 * 1024;
const NORMALIZER_MIN_SECONDS = 2;
const NORMALIZER_SEED = 7;

export interface CompareResult {
  limit: Measurement;
  path: Measurement;
  limitChunkBytes: number;
}

export interface NormalizeResult {
  lines: number;
  events: number;
  seconds: number;
}

const [mode = "", ...args] = process.argv.slice(2);
const result = await run(mode, args);
console.log(JSON.stringify(result));

async function run(command: string, values: string[]): Promise<unknown> {
  switch (command) {
    case "compare":
      return compare(values[0] ?? "", Number(values[1]), Number(values[2]));
    case "path":
      return pathOnly(values[0] ?? "", Number(values[1]), Number(values[2]), Number(values[3]));
    case "normalize":
      return normalize(Number(values[0]));
    default:
      throw new Error(`worker: unknown mode "${command}"`);
  }
}

/** The limit and the object path on the same bytes, one pass of each in turn. */
async function compare(file: string, textBytes: number, lines: number): Promise<CompareResult> {
  const gz = readFileSync(file);
  const path = new ObjectPathRun(textBytes, gz);
  const chunkBytes = await fastestChunkSize(gz);
  const limits: PassResult[] = [];
  const paths: PassResult[] = [];
  if (textBytes < WARM_UP_BELOW_BYTES) {
    await limitPass(gz, chunkBytes);
    await path.pass();
  }
  const started = performance.now();
  while (
    limits.length < MAX_ROUNDS &&
    (limits.length < MIN_ROUNDS || performance.now() - started < MIN_MEASURE_SECONDS * 1000)
  ) {
    limits.push(await limitPass(gz, chunkBytes));
    paths.push(await path.pass());
  }

  return {
    limit: summarise(limits, lines),
    path: summarise(paths, lines),
    limitChunkBytes: chunkBytes,
  };
}

/** The zlib output size with which the limit is fastest on this object. */
async function fastestChunkSize(gz: Buffer): Promise<number> {
  let fastest = { chunkBytes: LIMIT_CHUNK_SIZES[0] ?? 0, seconds: Infinity };
  for (const chunkBytes of LIMIT_CHUNK_SIZES) {
    const { seconds } = await limitPass(gz, chunkBytes);
    if (seconds < fastest.seconds) {
      fastest = { chunkBytes, seconds };
    }
  }

  return fastest.chunkBytes;
}

async function pathOnly(
  file: string,
  textBytes: number,
  lines: number,
  passes: number,
): Promise<Measurement> {
  const path = new ObjectPathRun(textBytes, readFileSync(file));
  const results: PassResult[] = [];
  for (let index = 0; index < passes; index += 1) {
    results.push(await path.pass());
  }

  return summarise(results, lines);
}

/** Lines per second of normalizeLines over generated lines, repeated for a stable figure. */
function normalize(lineCount: number): NormalizeResult {
  const source = new UmbrellaLineSource(NORMALIZER_SEED);
  const lines = Array.from({ length: lineCount }, () => source.nextLine());
  const normalizer = new IpLogNormalizer();
  normalizeLines(lines, normalizer);
  let normalised = 0;
  let events = 0;
  const started = performance.now();
  while (performance.now() - started < NORMALIZER_MIN_SECONDS * 1000) {
    events += normalizeLines(lines, normalizer);
    normalised += lines.length;
  }

  return { lines: normalised, events, seconds: (performance.now() - started) / 1000 };
}
