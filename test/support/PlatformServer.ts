import {
  createServer,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type ServerResponse,
} from "node:http";
import type { AddressInfo } from "node:net";

/** Paths of the fake platform's endpoints; the logs and secrets ones derive from the callback. */
export const CALLBACK_PATH = "/api/v1/symphony/callback";
export const LOGS_PATH = "/api/v1/symphony/logs";
export const SECRETS_PATH = "/api/v1/symphony/secrets";

/** Bearer token `symphonyEnv()` hands out. */
export const PLATFORM_TEST_TOKEN = "platform-test-token-0123456789";

/** How long the wait helpers wait by default before rejecting. */
const DEFAULT_WAIT_MS = 5_000;

/** One request the fake platform received. */
export interface RecordedRequest {
  method: string;
  /** The path without the query. */
  path: string;
  headers: IncomingHttpHeaders;
  /** The body parsed as JSON; undefined when empty or not JSON. */
  body: unknown;
  /** The body as received. */
  text: string;
}

/** How the fake platform answers one request. */
export interface PlatformAnswer {
  /** 200 by default. */
  status?: number;
  /** Sent as JSON; a string is sent as is. `{}` by default. */
  body?: unknown;
  /** Closes the connection without answering: a network error for the client. */
  destroy?: boolean;
  /** Answers after this many milliseconds (a slow platform). */
  delayMs?: number;
}

/** A fixed answer, or one computed from the request. */
export type PlatformResponder = PlatformAnswer | ((request: RecordedRequest) => PlatformAnswer);

/**
 * A fake Sekoia.io platform API: a real node:http server on 127.0.0.1 (port 0) that records
 * every request and answers as the test programs it, per path.
 *
 *     const platform = await new PlatformServer().start();
 *     platform.answer(SECRETS_PATH, { status: 503 }, { body: { value: { key: "s" } } });
 *     const env = platform.symphonyEnv(); // URL_CALLBACK and TOKEN for SymphonyConfig
 *     await platform.waitForRequests(LOGS_PATH, 1);
 *     await platform.stop();
 *
 * A path answers its programmed answers in order, one per request, and keeps repeating the
 * last one; an unprogrammed path answers 200 `{}`.
 */
export class PlatformServer {
  /** Every request, in arrival order. */
  readonly requests: RecordedRequest[] = [];
  private readonly programs = new Map<
    string,
    { responders: PlatformResponder[]; served: number }
  >();
  private readonly waiters = new Set<() => void>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly server = createServer((request, response) => {
    this.receive(request, response);
  });

  async start(): Promise<this> {
    await new Promise<void>((resolve) => this.server.listen(0, "127.0.0.1", resolve));

    return this;
  }

  /** `http://127.0.0.1:<port>`. */
  get url(): string {
    const { port } = this.server.address() as AddressInfo;

    return `http://127.0.0.1:${port}`;
  }

  urlFor(path: string): string {
    return `${this.url}${path}`;
  }

  /**
   * Environment for SymphonyConfig (`env` option) or a child process: `URL_CALLBACK` (logs
   * and secrets URLs derive from it) and `TOKEN`.
   */
  symphonyEnv(token = PLATFORM_TEST_TOKEN): Record<string, string> {
    return { URL_CALLBACK: this.urlFor(CALLBACK_PATH), TOKEN: token };
  }

  /** Programs the answers of `path`, replacing earlier ones; the sequence starts afresh. */
  answer(path: string, ...answers: PlatformResponder[]): this {
    this.programs.set(path, { responders: answers, served: 0 });

    return this;
  }

  requestsTo(path: string): RecordedRequest[] {
    return this.requests.filter((request) => request.path === path);
  }

  /** Resolves once `predicate` holds for the requests received so far. */
  waitFor(
    predicate: (requests: readonly RecordedRequest[]) => boolean,
    timeoutMs = DEFAULT_WAIT_MS,
  ): Promise<void> {
    if (predicate(this.requests)) {
      return Promise.resolve();
    }

    return new Promise((resolve, reject) => {
      const check = (): void => {
        if (predicate(this.requests)) {
          clearTimeout(timer);
          this.waiters.delete(check);
          resolve();
        }
      };
      const timer = setTimeout(() => {
        this.waiters.delete(check);
        reject(new Error(`platform: condition not met within ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiters.add(check);
    });
  }

  /** Resolves to the requests to `path` once there are at least `count`. */
  async waitForRequests(
    path: string,
    count: number,
    timeoutMs = DEFAULT_WAIT_MS,
  ): Promise<RecordedRequest[]> {
    await this.waitFor(() => this.requestsTo(path).length >= count, timeoutMs);

    return this.requestsTo(path);
  }

  async stop(): Promise<void> {
    for (const timer of this.timers) {
      clearTimeout(timer);
    }
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private receive(request: IncomingMessage, response: ServerResponse): void {
    const parts: Buffer[] = [];
    request.on("data", (chunk: Buffer) => parts.push(chunk));
    request.on("end", () => {
      const text = Buffer.concat(parts).toString("utf8");
      const recorded: RecordedRequest = {
        method: request.method ?? "",
        path: new URL(request.url ?? "/", this.url).pathname,
        headers: request.headers,
        body: parseJson(text),
        text,
      };
      const answer = this.answerFor(recorded);
      this.requests.push(recorded);
      this.reply(request, response, answer);
      for (const check of [...this.waiters]) {
        check();
      }
    });
  }

  private answerFor(request: RecordedRequest): PlatformAnswer {
    const program = this.programs.get(request.path);
    if (program === undefined || program.responders.length === 0) {
      return {};
    }
    const index = Math.min(program.served, program.responders.length - 1);
    program.served += 1;
    const responder = program.responders[index] ?? {};

    return typeof responder === "function" ? responder(request) : responder;
  }

  private reply(request: IncomingMessage, response: ServerResponse, answer: PlatformAnswer): void {
    const send = (): void => {
      if (answer.destroy === true) {
        request.socket.destroy();

        return;
      }
      const body = answer.body ?? {};
      response.writeHead(answer.status ?? 200, { "content-type": "application/json" });
      response.end(typeof body === "string" ? body : JSON.stringify(body));
    };
    if (answer.delayMs === undefined) {
      send();

      return;
    }
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      send();
    }, answer.delayMs);
    this.timers.add(timer);
  }
}

function parseJson(text: string): unknown {
  if (text === "") {
    return undefined;
  }
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}
