import type { Measurement } from "./Measurements.js";
import { MB, speedRatio } from "./ResultTable.js";

/** Issue 6's targets for this 2-core machine. */
const OBJECT_PATH_MIN_RATIO = 0.6;
const END_TO_END_MIN_RATIO = 0.35;
const END_TO_END_MIN_BASELINE_RATIO = 2;
const PEAK_RSS_MAX_BYTES = 200 * MB;
/** Largest growth of the peak RSS from the small object to the largest one. */
const PEAK_RSS_MAX_GROWTH = 0.2;

/** The figures the targets are judged on. */
export interface TargetFigures {
  /** The largest object of the run, e.g. "1 GiB", and the small one. */
  largeLabel: string;
  smallLabel: string;
  limit: Measurement;
  objectPath: Measurement;
  endToEnd: Measurement;
  baseline: Measurement;
  largePeakRss: number | undefined;
  smallPeakRss: number | undefined;
}

interface Verdict {
  pass: boolean;
  text: string;
}

/** One PASS/MISS line per target. */
export function judgeTargets(figures: TargetFigures): string[] {
  const { largeLabel: large, smallLabel: small } = figures;
  const objectPath = speedRatio(figures.objectPath, figures.limit);
  const endToEnd = speedRatio(figures.endToEnd, figures.limit);
  const overBaseline = speedRatio(figures.endToEnd, figures.baseline);
  const verdicts: Verdict[] = [
    atLeast(
      `object path >= ${OBJECT_PATH_MIN_RATIO} x limit (${large})`,
      objectPath,
      OBJECT_PATH_MIN_RATIO,
    ),
    atLeast(
      `end to end >= ${END_TO_END_MIN_RATIO} x limit (${large})`,
      endToEnd,
      END_TO_END_MIN_RATIO,
    ),
    atLeast(
      `end to end >= ${END_TO_END_MIN_BASELINE_RATIO} x baseline (${large})`,
      overBaseline,
      END_TO_END_MIN_BASELINE_RATIO,
    ),
    ...memoryVerdicts(figures.largePeakRss, figures.smallPeakRss, large, small),
  ];

  return verdicts.map((verdict) => `${verdict.pass ? "PASS" : "MISS"}  ${verdict.text}`);
}

function atLeast(name: string, value: number, minimum: number): Verdict {
  return { pass: value >= minimum, text: `${name}: ${value.toFixed(3)}` };
}

function memoryVerdicts(
  large: number | undefined,
  small: number | undefined,
  largeLabel: string,
  smallLabel: string,
): Verdict[] {
  if (large === undefined || small === undefined) {
    return [{ pass: false, text: "peak RSS: /proc/<pid>/status could not be read" }];
  }
  const growth = large / small - 1;

  return [
    {
      pass: large < PEAK_RSS_MAX_BYTES,
      text: `peak RSS (${largeLabel}) < ${PEAK_RSS_MAX_BYTES / MB} MB: ${(large / MB).toFixed(1)} MB`,
    },
    {
      pass: growth <= PEAK_RSS_MAX_GROWTH,
      text:
        `peak RSS (${largeLabel}) within ${PEAK_RSS_MAX_GROWTH * 100} % of (${smallLabel}): ` +
        `${growth >= 0 ? "+" : ""}${(growth * 100).toFixed(1)} % ` +
        `(${(large / MB).toFixed(1)} vs ${(small / MB).toFixed(1)} MB)`,
    },
  ];
}
