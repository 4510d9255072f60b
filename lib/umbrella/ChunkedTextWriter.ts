import { once } from "node:events";

/** How much text is gathered before one write, in characters. */
export const DEFAULT_OUTPUT_CHUNK_CHARS = 65_536;

/**
 * Writes many small texts to a stream as few large writes, and waits for `drain` when the
 * stream is full, so that a slow reader (a pipe to `less`) holds the producer back instead of
 * letting output pile up in memory.
 */
export class ChunkedTextWriter {
  private parts: string[] = [];
  private size = 0;

  constructor(
    private readonly output: NodeJS.WritableStream,
    private readonly chunkChars = DEFAULT_OUTPUT_CHUNK_CHARS,
  ) {}

  async write(text: string): Promise<void> {
    this.parts.push(text);
    this.size += text.length;
    if (this.size >= this.chunkChars) {
      await this.flush();
    }
  }

  /** Writes what is gathered; resolves once the stream can take more. */
  async flush(): Promise<void> {
    if (this.parts.length === 0) {
      return;
    }

    const chunk = this.parts.join("");
    this.parts = [];
    this.size = 0;
    if (!this.output.write(chunk)) {
      await once(this.output, "drain");
    }
  }
}
