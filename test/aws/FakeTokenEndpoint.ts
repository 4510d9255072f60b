import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

/** One token request as the platform saw it. */
export interface TokenRequestRecord {
  path: string;
  query: URLSearchParams;
  authorization: string | undefined;
  token: string | undefined;
}

/**
 * The Sekoia.io platform's OIDC token endpoint on 127.0.0.1: `GET /api/v1/symphony/oidc/token`
 * answered by `{"token": "<jwt>"}`, a new token each time. `behave` makes it refuse.
 */
export class FakeTokenEndpoint {
  readonly requests: TokenRequestRecord[] = [];
  behave: (request: TokenRequestRecord) => { status: number; body: string } | undefined = () =>
    undefined;
  private readonly server = createServer((req, res) => this.handle(req, res));

  get url(): string {
    const { port } = this.server.address() as AddressInfo;

    return `http://127.0.0.1:${port}`;
  }

  /** The tokens handed out, in order. */
  get tokens(): string[] {
    return this.requests.flatMap((request) => (request.token === undefined ? [] : [request.token]));
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
    const url = new URL(req.url ?? "/", this.url);
    const record: TokenRequestRecord = {
      path: url.pathname,
      query: url.searchParams,
      authorization: req.headers.authorization,
      token: undefined,
    };
    this.requests.push(record);
    const refusal = this.behave(record);
    if (refusal !== undefined) {
      res.writeHead(refusal.status, { "content-type": "application/json" }).end(refusal.body);

      return;
    }
    if (url.pathname !== "/api/v1/symphony/oidc/token") {
      res.writeHead(404).end('{"message":"not found"}');

      return;
    }
    record.token = `eyJhbGciOiJSUzI1NiJ9.fake-oidc-token-${this.requests.length}.signature`;
    res.writeHead(200, { "content-type": "application/json" });
    res.end(JSON.stringify({ token: record.token }));
  }
}
