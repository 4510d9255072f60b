import { describeError } from "../errors/ModuleError.js";
import { LineParseError } from "../errors/LineParseError.js";
import type { ModuleCommand, RuntimeContext } from "../runtime/RuntimeContext.js";
import { ChunkedTextWriter } from "./ChunkedTextWriter.js";
import { IpLogNormalizer, type IpLogEvent } from "./IpLogNormalizer.js";
import { DEFAULT_MAX_LINE_CHARS, LineSplitter, type TextLine } from "./LineSplitter.js";
import { openLogSource, STDIN_SOURCE } from "./openLogSource.js";

export interface NormalizeCommandOptions {
  /** Where malformed lines and unreadable files are reported; process.stderr by default. */
  stderr?: NodeJS.WritableStream;
  /** What is read when no file is named (or `-` is); process.stdin by default. */
  stdin?: NodeJS.ReadableStream;
  /** Longer lines are reported and skipped; DEFAULT_MAX_LINE_CHARS by default. */
  maxLineChars?: number;
}

/** Counts for the closing summary. */
interface NormalizeTotals {
  lines: number;
  events: number;
  rejected: number;
}

/**
 * The `normalize` tool: reads Umbrella IP log lines from the files named in the arguments
 * (standard input when there are none, or for `-`), plain or gzip (recognised by content),
 * and writes one ECS JSON object per line to stdout. Malformed lines are reported on stderr
 * as `<file>:<line>: <problem>` and skipped. Files are streamed, never read whole.
 *
 * Resolves to 0, or 1 when a file could not be opened or read. It writes nothing through the
 * logger: the logger writes to stdout, which carries the events.
 */
export class NormalizeCommand implements ModuleCommand {
  private readonly stderr: NodeJS.WritableStream;
  private readonly stdin: NodeJS.ReadableStream;
  private readonly maxLineChars: number;
  private readonly normalizer = new IpLogNormalizer();

  constructor(
    private readonly stdout: NodeJS.WritableStream = process.stdout,
    options: NormalizeCommandOptions = {},
  ) {
    this.stderr = options.stderr ?? process.stderr;
    this.stdin = options.stdin ?? process.stdin;
    this.maxLineChars = options.maxLineChars ?? DEFAULT_MAX_LINE_CHARS;
  }

  async run(context: RuntimeContext): Promise<number> {
    const sources = context.args.length === 0 ? [STDIN_SOURCE] : context.args;
    const output = new ChunkedTextWriter(this.stdout);
    const totals: NormalizeTotals = { lines: 0, events: 0, rejected: 0 };
    let exitCode = 0;
    for (const source of sources) {
      if (context.shutdown.aborted) {
        break;
      }
      const readable = await this.normalizeSource(source, output, totals, context.shutdown);
      if (!readable) {
        exitCode = 1;
      }
    }

    await output.flush();
    this.stderr.write(
      `normalize: ${totals.events} events from ${totals.lines} lines, ` +
        `${totals.rejected} rejected\n`,
    );

    return exitCode;
  }

  /** False when the source could not be opened or read to its end. */
  private async normalizeSource(
    source: string,
    output: ChunkedTextWriter,
    totals: NormalizeTotals,
    signal: AbortSignal,
  ): Promise<boolean> {
    const label = source === STDIN_SOURCE ? "<stdin>" : source;
    let chunks: AsyncIterable<Buffer>;
    try {
      chunks = await openLogSource(source, signal, this.stdin);
    } catch (error: unknown) {
      this.stderr.write(`${label}: cannot open: ${describeError(error)}\n`);

      return false;
    }

    const splitter = new LineSplitter(this.maxLineChars);
    try {
      for await (const chunk of chunks) {
        await this.normalizeLines(label, splitter.push(chunk), output, totals);
      }
      await this.normalizeLines(label, splitter.end(), output, totals);
    } catch (error: unknown) {
      if (signal.aborted) {
        return true;
      }
      this.stderr.write(`${label}: cannot read: ${describeError(error)}\n`);

      return false;
    }

    return true;
  }

  private async normalizeLines(
    label: string,
    lines: readonly TextLine[],
    output: ChunkedTextWriter,
    totals: NormalizeTotals,
  ): Promise<void> {
    for (const line of lines) {
      totals.lines += 1;
      const event = this.normalizeLine(label, line);
      if (event === "rejected") {
        totals.rejected += 1;
      } else if (event !== undefined) {
        totals.events += 1;
        await output.write(`${JSON.stringify(event)}\n`);
      }
    }
  }

  /** The event, undefined for a header or blank line, or "rejected" once reported. */
  private normalizeLine(label: string, line: TextLine): IpLogEvent | undefined | "rejected" {
    if (line.text === undefined) {
      this.report(label, line, `line longer than ${this.maxLineChars} characters, skipped`);

      return "rejected";
    }

    try {
      return this.normalizer.normalize(line.text);
    } catch (error: unknown) {
      if (!(error instanceof LineParseError)) {
        throw error;
      }
      this.report(label, line, error.message);

      return "rejected";
    }
  }

  private report(label: string, line: TextLine, problem: string): void {
    this.stderr.write(`${label}:${line.number}: ${problem}\n`);
  }
}
