import { ModuleError, type ModuleErrorOptions } from "./ModuleError.js";

/** Longest part of the offending line an error message quotes, in characters. */
export const LINE_EXCERPT_MAX_CHARS = 200;

/** What is wrong with a log line. */
export type LineProblem =
  /** The CSV itself is broken: an unclosed quote, text after a closing quote, two records. */
  | "csv"
  /** Fewer columns than the log type needs. */
  | "column-count"
  /** The timestamp is not `YYYY-MM-DD HH:MM:SS` or names an impossible date. */
  | "timestamp"
  /** A port is not an integer from 0 to 65535. */
  | "port";

/**
 * One Umbrella log line could not be turned into an event. The message says what is wrong and
 * quotes at most LINE_EXCERPT_MAX_CHARS characters of the line, so that a huge or hostile line
 * cannot flood the logs.
 */
export class LineParseError extends ModuleError {
  readonly problem: LineProblem;
  /** The start of the line, cut at LINE_EXCERPT_MAX_CHARS characters. */
  readonly excerpt: string;

  constructor(
    problem: LineProblem,
    detail: string,
    line: string,
    options: ModuleErrorOptions = {},
  ) {
    const excerpt = excerptOf(line);
    super("UMB_LINE_PARSE", `Parse Umbrella log line: ${detail} (line: ${excerpt})`, options);
    this.problem = problem;
    this.excerpt = excerpt;
  }
}

/** The line as JSON text (control characters visible), cut to the excerpt limit. */
function excerptOf(line: string): string {
  if (line.length <= LINE_EXCERPT_MAX_CHARS) {
    return JSON.stringify(line);
  }

  return `${JSON.stringify(line.slice(0, LINE_EXCERPT_MAX_CHARS))}...`;
}
