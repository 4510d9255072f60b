import { createServer, request, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

/** One request that reached the proxy, with the AWS action it calls. */
export interface ProxiedRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  headers: IncomingMessage["headers"];
  body: Buffer;
  service: "sqs" | "s3" | "sts";
  /** The API action: `ReceiveMessage`, `GetObject`, `GetBucketNotificationConfiguration`... */
  action: string;
}

/** What the proxy answers itself instead of forwarding. */
export interface ProxyAnswer {
  status: number;
  headers?: Record<string, string>;
  body?: string;
}

/** Forward the request, but cut the connection after this many bytes of the answer's body. */
export interface ProxyCut {
  cutAfterBytes: number;
}

/**
 * A node:http proxy on 127.0.0.1 in front of fauxqs. It forwards every request, records it
 * with its AWS action, and lets a test answer chosen requests itself: what the emulator does
 * not implement (bucket notification configuration) or cannot provoke (AccessDenied).
 */
export class AwsFaultProxy {
  readonly requests: ProxiedRequest[] = [];
  intercept: (request: ProxiedRequest) => ProxyAnswer | ProxyCut | undefined = () => undefined;
  private readonly target: URL;
  private readonly server = createServer((req, res) => this.handle(req, res));

  constructor(target: string) {
    this.target = new URL(target);
  }

  get url(): string {
    const { port } = this.server.address() as AddressInfo;

    return `http://127.0.0.1:${port}`;
  }

  /** The actions called so far, in order. */
  get actions(): string[] {
    return this.requests.map((item) => item.action);
  }

  async start(): Promise<this> {
    await new Promise<void>((resolve) => this.server.listen(0, "127.0.0.1", resolve));

    return this;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /** An SQS JSON-protocol error, with the query-compatible code header SQS sends. */
  static sqsError(type: string, queryCode: string, message: string, status = 400): ProxyAnswer {
    return {
      status,
      headers: {
        "content-type": "application/x-amz-json-1.0",
        "x-amzn-query-error": `${queryCode};Sender`,
      },
      body: JSON.stringify({ __type: type, message }),
    };
  }

  /** An S3 REST-XML error. */
  static s3Error(code: string, message: string, status: number): ProxyAnswer {
    return {
      status,
      headers: { "content-type": "application/xml" },
      body:
        `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code>` +
        `<Message>${message}</Message><RequestId>PROXY0000000001</RequestId>` +
        "<HostId>proxy</HostId></Error>",
    };
  }

  /** A 200 XML answer, e.g. a crafted NotificationConfiguration. */
  static xml(body: string): ProxyAnswer {
    return { status: 200, headers: { "content-type": "application/xml" }, body };
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const parts: Buffer[] = [];
    req.on("data", (chunk: Buffer) => parts.push(chunk));
    req.on("end", () => {
      const body = Buffer.concat(parts);
      const url = new URL(req.url ?? "/", this.url);
      const proxied: ProxiedRequest = {
        method: req.method ?? "GET",
        path: url.pathname,
        query: url.searchParams,
        headers: req.headers,
        body,
        ...identifyAction(req, url, body),
      };
      this.requests.push(proxied);
      const answer = this.intercept(proxied);
      if (answer !== undefined && "cutAfterBytes" in answer) {
        this.forward(req, body, res, answer.cutAfterBytes);

        return;
      }
      if (answer !== undefined) {
        res.writeHead(answer.status, answer.headers).end(answer.body ?? "");

        return;
      }
      this.forward(req, body, res);
    });
  }

  private forward(
    req: IncomingMessage,
    body: Buffer,
    res: ServerResponse,
    cutAfterBytes = Number.POSITIVE_INFINITY,
  ): void {
    const upstream = request(
      {
        host: this.target.hostname,
        port: this.target.port,
        method: req.method,
        path: req.url,
        headers: req.headers,
      },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        if (cutAfterBytes === Number.POSITIVE_INFINITY) {
          answer.pipe(res);

          return;
        }
        let sent = 0;
        answer.on("data", (chunk: Buffer) => {
          const room = cutAfterBytes - sent;
          if (sent >= cutAfterBytes) {
            return;
          }
          const part = chunk.subarray(0, room);
          sent += part.length;
          const cut = sent >= cutAfterBytes;
          res.write(part, () => {
            if (cut) {
              answer.destroy();
              res.destroy();
            }
          });
        });
        answer.on("end", () => res.end());
      },
    );
    upstream.on("error", () => res.destroy());
    upstream.end(body);
  }
}

function identifyAction(
  req: IncomingMessage,
  url: URL,
  body: Buffer,
): { service: ProxiedRequest["service"]; action: string } {
  const target = req.headers["x-amz-target"];
  if (typeof target === "string" && target.startsWith("AmazonSQS.")) {
    return { service: "sqs", action: target.slice("AmazonSQS.".length) };
  }
  if ((req.headers["content-type"] ?? "").includes("x-www-form-urlencoded")) {
    return { service: "sts", action: new URLSearchParams(body.toString()).get("Action") ?? "" };
  }

  return { service: "s3", action: s3Action(req.method ?? "GET", url) };
}

function s3Action(method: string, url: URL): string {
  const segments = url.pathname.split("/").filter((part) => part !== "");
  const onObject = segments.length > 1;
  const query = url.searchParams;
  if (method === "GET" && !onObject) {
    if (query.has("notification")) {
      return "GetBucketNotificationConfiguration";
    }
    if (query.has("policy")) {
      return "GetBucketPolicy";
    }

    return query.get("list-type") === "2" ? "ListObjectsV2" : "ListObjects";
  }
  const names: Record<string, [string, string]> = {
    GET: ["GetObject", "GetObject"],
    HEAD: ["HeadBucket", "HeadObject"],
    PUT: ["CreateBucket", "PutObject"],
    DELETE: ["DeleteBucket", "DeleteObject"],
    POST: ["DeleteObjects", "PostObject"],
  };
  const pair = names[method];

  return pair === undefined ? method : pair[onObject ? 1 : 0];
}
