import { StringDecoder } from "node:string_decoder";

/** Longest line kept by default, in characters; IP log lines are about 150. */
export const DEFAULT_MAX_LINE_CHARS = 1_048_576;

/** One line of a text stream, numbered from 1, without its `\n` (a `\r` before it stays). */
export interface TextLine {
  number: number;
  /** undefined when the line was longer than the limit: it was dropped, not held in memory. */
  text: string | undefined;
}

/**
 * Cuts a byte stream into lines on `\n` while holding at most one line in memory. UTF-8
 * characters split across chunks are reassembled. Lines over the limit are reported (their
 * number, no text) and skipped, so a file without newlines cannot exhaust memory.
 */
export class LineSplitter {
  private readonly decoder = new StringDecoder("utf8");
  private pending = "";
  private overlong = false;
  private lineNumber = 0;

  constructor(private readonly maxLineChars = DEFAULT_MAX_LINE_CHARS) {}

  /** The lines the chunk completes. */
  push(chunk: Buffer): TextLine[] {
    return this.split(this.decoder.write(chunk));
  }

  /** The last line, when the stream does not end with `\n`. */
  end(): TextLine[] {
    const lines = this.split(this.decoder.end());
    if (this.pending !== "" || this.overlong) {
      lines.push(this.complete(""));
    }

    return lines;
  }

  private split(text: string): TextLine[] {
    const lines: TextLine[] = [];
    let start = 0;
    for (let newline = text.indexOf("\n"); newline !== -1; newline = text.indexOf("\n", start)) {
      lines.push(this.complete(text.slice(start, newline)));
      start = newline + 1;
    }

    this.hold(text.slice(start));

    return lines;
  }

  private hold(text: string): void {
    if (this.overlong) {
      return;
    }
    if (this.pending.length + text.length > this.maxLineChars) {
      this.overlong = true;
      this.pending = "";

      return;
    }
    this.pending += text;
  }

  private complete(tail: string): TextLine {
    this.lineNumber += 1;
    const tooLong = this.overlong || this.pending.length + tail.length > this.maxLineChars;
    const line = { number: this.lineNumber, text: tooLong ? undefined : this.pending + tail };
    this.pending = "";
    this.overlong = false;

    return line;
  }
}
