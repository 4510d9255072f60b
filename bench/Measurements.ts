import type { PassResult } from "./ObjectPathRun.js";

/** Repeated passes of one measured path over one object. */
export interface Measurement {
  /** Median pass duration, in seconds. */
  seconds: number;
  bestSeconds: number;
  passes: number;
  lines: number;
  textBytes: number;
}

/** Summarises passes that must all have seen `expectedLines` lines. */
export function summarise(passes: readonly PassResult[], expectedLines: number): Measurement {
  const first = passes[0];
  if (first === undefined) {
    throw new Error("no pass was measured");
  }
  const wrong = passes.find((pass) => pass.lines !== expectedLines);
  if (wrong !== undefined) {
    throw new Error(`a pass saw ${wrong.lines} lines instead of ${expectedLines}`);
  }
  const sorted = passes.map((pass) => pass.seconds).sort((a, b) => a - b);

  return {
    seconds: sorted[Math.floor(sorted.length / 2)] ?? first.seconds,
    bestSeconds: sorted[0] ?? first.seconds,
    passes: passes.length,
    lines: expectedLines,
    textBytes: first.textBytes,
  };
}

/** A single timed run (end to end, baseline), as a Measurement. */
export function singleRun(seconds: number, lines: number, textBytes: number): Measurement {
  return { seconds, bestSeconds: seconds, passes: 1, lines, textBytes };
}
