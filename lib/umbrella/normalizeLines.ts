import { LineParseError } from "../errors/LineParseError.js";
import type { IpLogNormalizer } from "./IpLogNormalizer.js";

/**
 * Normalises every line and returns how many events came out: header rows, blank lines and
 * malformed lines produce none. Pure apart from the normaliser, so that a benchmark can time
 * it on lines it generated.
 */
export function normalizeLines(lines: readonly string[], normalizer: IpLogNormalizer): number {
  let events = 0;
  for (const line of lines) {
    try {
      if (normalizer.normalize(line) !== undefined) {
        events += 1;
      }
    } catch (error: unknown) {
      if (!(error instanceof LineParseError)) {
        throw error;
      }
    }
  }

  return events;
}
