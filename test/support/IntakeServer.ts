import { randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

/** One batch the intake accepted. */
export interface ReceivedBatch {
  intakeKey: string;
  events: string[];
  bytes: number;
  headers: IncomingMessage["headers"];
  /** When the intake accepted it, epoch milliseconds. */
  acceptedAt: number;
}

/** What the fake intake answers to a request; `undefined` means accept it. */
export type IntakeBehaviour = (request: {
  attempt: number;
  body: { intake_key: string; jsons: string[] };
  bytes: number;
}) =>
  | undefined
  | { status: number; body?: string; headers?: Record<string, string> }
  | { hang: true }
  | { destroy: true }
  /** Accepts, but only after this delay. */
  | { delayMs: number };

/**
 * A real node:http server on 127.0.0.1 that speaks the intake's batch API: POST /batch with
 * `{intake_key, jsons}` answered by `{event_ids}`. Tests program failures with `behave`.
 */
export class IntakeServer {
  readonly accepted: ReceivedBatch[] = [];
  /** Every request, accepted or not, in arrival order. */
  readonly requests: { status: number; events: number }[] = [];
  behave: IntakeBehaviour = () => undefined;
  private attempt = 0;
  private readonly waiters: { count: number; resolve: () => void }[] = [];
  private readonly server = createServer((req, res) => {
    this.handle(req, res);
  });
  private readonly hanging = new Set<ServerResponse>();

  get url(): string {
    const { port } = this.server.address() as AddressInfo;

    return `http://127.0.0.1:${port}`;
  }

  /** Events accepted so far, in acceptance order. */
  get events(): string[] {
    return this.accepted.flatMap((batch) => batch.events);
  }

  async start(): Promise<this> {
    await new Promise<void>((resolve) => this.server.listen(0, "127.0.0.1", resolve));

    return this;
  }

  /** Resolves once at least `count` events were accepted. */
  waitForEvents(count: number, timeoutMs = 20_000): Promise<void> {
    if (this.events.length >= count) {
      return Promise.resolve();
    }

    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        reject(new Error(`intake got ${this.events.length} of ${count} events in ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiters.push({
        count,
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
      });
    });
  }

  /** Resolves once at least `count` requests arrived, answered or not. */
  async waitForRequests(count: number, timeoutMs = 20_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.requests.length < count) {
      if (Date.now() > deadline) {
        throw new Error(
          `intake got ${this.requests.length} of ${count} requests in ${timeoutMs} ms`,
        );
      }
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  async stop(): Promise<void> {
    for (const res of this.hanging) {
      res.destroy();
    }
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const parts: Buffer[] = [];
    req.on("data", (chunk: Buffer) => parts.push(chunk));
    req.on("end", () => {
      const raw = Buffer.concat(parts);
      if (req.method !== "POST" || req.url !== "/batch") {
        this.requests.push({ status: 404, events: 0 });
        res.writeHead(404).end();

        return;
      }
      const body = JSON.parse(raw.toString("utf8")) as { intake_key: string; jsons: string[] };
      this.attempt += 1;
      const outcome = this.behave({ attempt: this.attempt, body, bytes: raw.length });
      if (outcome !== undefined && "hang" in outcome) {
        this.hanging.add(res);
        this.requests.push({ status: 0, events: body.jsons.length });

        return;
      }
      if (outcome !== undefined && "delayMs" in outcome) {
        const timer = setTimeout(() => this.accept(body, raw.length, req, res), outcome.delayMs);
        res.on("close", () => clearTimeout(timer));

        return;
      }
      if (outcome !== undefined && "destroy" in outcome) {
        this.requests.push({ status: 0, events: body.jsons.length });
        req.socket.destroy();

        return;
      }
      if (outcome !== undefined) {
        this.requests.push({ status: outcome.status, events: body.jsons.length });
        res.writeHead(outcome.status, outcome.headers).end(outcome.body ?? "");

        return;
      }
      this.accept(body, raw.length, req, res);
    });
  }

  private accept(
    body: { intake_key: string; jsons: string[] },
    bytes: number,
    req: IncomingMessage,
    res: ServerResponse,
  ): void {
    this.accepted.push({
      intakeKey: body.intake_key,
      events: body.jsons,
      bytes,
      headers: req.headers,
      acceptedAt: Date.now(),
    });
    this.requests.push({ status: 200, events: body.jsons.length });
    res.writeHead(200, { "content-type": "application/json" });
    res.end(JSON.stringify({ event_ids: body.jsons.map(() => randomUUID()) }));
    this.notify();
  }

  private notify(): void {
    const total = this.events.length;
    for (let index = this.waiters.length - 1; index >= 0; index -= 1) {
      const waiter = this.waiters[index];
      if (waiter !== undefined && total >= waiter.count) {
        this.waiters.splice(index, 1);
        waiter.resolve();
      }
    }
  }
}
