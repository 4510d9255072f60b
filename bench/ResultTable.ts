import type { Measurement } from "./Measurements.js";

/** Megabytes as in MB/s and peak RSS: 10^6 bytes. */
export const MB = 1_000_000;

/** One line of the result table; empty cells are left blank. */
export interface TableRow {
  measurement: string;
  object: string;
  figures?: Measurement;
  /** What the ratio column divides by: the limit on the same object in the same run. */
  limit?: Measurement;
  baseline?: Measurement;
  peakRss?: number | undefined;
  /** Lines per second given directly (the normaliser, which has no bytes). */
  linesPerSecond?: number;
}

const HEADERS = [
  "measurement",
  "object (text)",
  "lines",
  "time s",
  "MB/s",
  "lines/s",
  "x limit",
  "x baseline",
  "peak RSS MB",
];
/** Columns aligned to the left; the others are numbers. */
const TEXT_COLUMNS = 2;

export function megabytesPerSecond(figures: Measurement): number {
  return figures.textBytes / MB / figures.seconds;
}

export function linesPerSecond(figures: Measurement): number {
  return figures.lines / figures.seconds;
}

/** Renders the rows as one plain-text table, columns padded. */
export function renderTable(rows: readonly TableRow[]): string {
  const cells = [HEADERS, ...rows.map(rowCells)];
  const widths = HEADERS.map((_, column) =>
    Math.max(...cells.map((line) => (line[column] ?? "").length)),
  );
  const render = (line: string[]): string =>
    line
      .map((cell, column) => {
        const width = widths[column] ?? 0;

        return column < TEXT_COLUMNS ? cell.padEnd(width) : cell.padStart(width);
      })
      .join("  ")
      .trimEnd();
  const rule = widths.map((width) => "-".repeat(width)).join("  ");

  return [render(HEADERS), rule, ...cells.slice(1).map(render)].join("\n");
}

function rowCells(row: TableRow): string[] {
  const figures = row.figures;
  const rate = figures === undefined ? row.linesPerSecond : linesPerSecond(figures);

  return [
    row.measurement,
    row.object,
    figures === undefined ? "" : figures.lines.toLocaleString("en-US"),
    figures === undefined ? "" : figures.seconds.toFixed(3),
    figures === undefined ? "" : megabytesPerSecond(figures).toFixed(1),
    rate === undefined ? "" : formatCount(rate),
    figures === undefined || row.limit === undefined ? "" : ratio(figures, row.limit),
    figures === undefined || row.baseline === undefined ? "" : ratio(figures, row.baseline),
    row.peakRss === undefined ? "" : (row.peakRss / MB).toFixed(1),
  ];
}

/** How many times faster `figures` is than `reference`. */
export function speedRatio(figures: Measurement, reference: Measurement): number {
  return reference.seconds / figures.seconds;
}

function ratio(figures: Measurement, reference: Measurement): string {
  return speedRatio(figures, reference).toFixed(2);
}

function formatCount(value: number): string {
  return value >= 1e6 ? `${(value / 1e6).toFixed(2)} M` : `${(value / 1e3).toFixed(1)} k`;
}
