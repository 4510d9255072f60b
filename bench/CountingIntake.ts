import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

/** Between two events of `"jsons":[...]`, and once after the intake key. */
const SEPARATOR = Buffer.from('","');
const BODY_END = "]}";
const EMPTY_EVENTS_END = "[]}";
const ACCEPTED_BODY = JSON.stringify({ event_ids: [] });

/** Told of every accepted batch. */
export type BatchListener = (events: number, bytes: number) => void;

/**
 * A light stand-in for the Sekoia.io intake on 127.0.0.1: POST /batch with
 * `{"intake_key": ..., "jsons": [...]}` answered 200 at once. It counts the events as the
 * body streams in, without parsing or even concatenating it: a remote intake costs the
 * collector's machine nothing, and decoding gigabytes of JSON here would take CPU from the
 * process being measured. Inside a JSON string every quote is escaped, so `","` only occurs
 * after the key and between two events. The envelope and the key are checked; a malformed
 * body is answered 400, which the bench reports.
 */
export class CountingIntake {
  events = 0;
  batches = 0;
  bytes = 0;
  refused = 0;
  private readonly prefix: Buffer;
  private readonly server = createServer((req, res) => this.handle(req, res));

  constructor(
    intakeKey: string,
    private readonly onBatch: BatchListener,
  ) {
    this.prefix = Buffer.from(`{"intake_key":${JSON.stringify(intakeKey)},"jsons":[`);
  }

  get url(): string {
    const { port } = this.server.address() as AddressInfo;

    return `http://127.0.0.1:${port}`;
  }

  async start(): Promise<this> {
    await new Promise<void>((resolve) => this.server.listen(0, "127.0.0.1", resolve));

    return this;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const counter = new SeparatorCounter(this.prefix.length);
    req.on("data", (part: Buffer) => counter.push(part));
    req.on("end", () => {
      const events =
        req.method === "POST" && req.url === "/batch" ? counter.events(this.prefix) : undefined;
      if (events === undefined) {
        this.refused += 1;
        res.writeHead(400).end();

        return;
      }
      this.events += events;
      this.batches += 1;
      this.bytes += counter.bytes;
      res.writeHead(200, { "content-type": "application/json" }).end(ACCEPTED_BODY);
      this.onBatch(events, counter.bytes);
    });
  }
}

/** Counts `","` in a body that arrives in parts, and keeps its first and last bytes. */
class SeparatorCounter {
  bytes = 0;
  private separators = 0;
  private head: Buffer = Buffer.alloc(0);
  /** The last bytes seen, for a separator or an ending split across two parts. */
  private tail: Buffer = Buffer.alloc(0);

  constructor(private readonly headBytes: number) {}

  push(part: Buffer): void {
    this.bytes += part.length;
    if (this.head.length < this.headBytes) {
      this.head = Buffer.concat([this.head, part.subarray(0, this.headBytes - this.head.length)]);
    }
    // Two bytes on each side of the seam: a separator found there crosses it.
    const reach = SEPARATOR.length - 1;
    const seam = Buffer.concat([this.tail.subarray(-reach), part.subarray(0, reach)]);
    this.separators += countIn(seam) + countIn(part);
    this.tail =
      part.length >= EMPTY_EVENTS_END.length
        ? part.subarray(-EMPTY_EVENTS_END.length)
        : Buffer.concat([this.tail, part]).subarray(-EMPTY_EVENTS_END.length);
  }

  /** Events in a well-formed body, undefined otherwise. */
  events(prefix: Buffer): number | undefined {
    const ending = this.tail.toString("latin1");
    if (!this.head.equals(prefix) || !ending.endsWith(BODY_END)) {
      return undefined;
    }

    // The separator after the key stands for the first event, if there is one.
    return ending === EMPTY_EVENTS_END ? 0 : this.separators;
  }
}

function countIn(data: Buffer): number {
  let count = 0;
  for (let at = data.indexOf(SEPARATOR); at !== -1; at = data.indexOf(SEPARATOR, at + 1)) {
    count += 1;
  }

  return count;
}
