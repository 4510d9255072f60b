import http from "node:http";
import https from "node:https";

import { HttpRequestError } from "./HttpRequestError.js";

/** Largest response body kept; the APIs we call answer with small JSON documents. */
const MAX_RESPONSE_BYTES = 1024 * 1024;

/** Sockets kept open per host, so that concurrent intake requests reuse connections. */
const MAX_SOCKETS_PER_HOST = 32;

export interface HttpRequest {
  method: "GET" | "POST" | "PATCH" | "PUT";
  url: URL;
  headers?: Record<string, string>;
  body?: Buffer | string;
  /** Time allowed for the whole exchange, in milliseconds. */
  timeoutMs: number;
  signal?: AbortSignal;
}

export interface HttpResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  /** The body as text, cut at 1 MiB. */
  body: string;
}

/**
 * A small HTTP client over node:http with keep-alive agents created once. It returns every
 * status as a response and throws HttpRequestError only when there is no response at all.
 * Error messages carry the method and the URL without its query, never a header value.
 */
export class HttpTransport {
  private readonly httpAgent = new http.Agent({
    keepAlive: true,
    maxSockets: MAX_SOCKETS_PER_HOST,
  });
  private readonly httpsAgent = new https.Agent({
    keepAlive: true,
    maxSockets: MAX_SOCKETS_PER_HOST,
  });

  request(request: HttpRequest): Promise<HttpResponse> {
    const target = `${request.method} ${request.url.origin}${request.url.pathname}`;
    if (request.signal?.aborted) {
      return Promise.reject(new HttpRequestError(`${target} was cancelled`, { aborted: true }));
    }

    return new Promise((resolve, reject) => {
      const isHttps = request.url.protocol === "https:";
      const body =
        typeof request.body === "string" ? Buffer.from(request.body, "utf8") : request.body;
      const headers: Record<string, string> = { ...request.headers };
      if (body !== undefined) {
        headers["content-length"] = String(body.length);
      }
      const options: http.RequestOptions = {
        method: request.method,
        headers,
        agent: isHttps ? this.httpsAgent : this.httpAgent,
      };
      const send = isHttps ? https.request : http.request;
      let settled = false;
      const fail = (error: HttpRequestError): void => {
        if (!settled) {
          settled = true;
          cleanup();
          reject(error);
        }
      };
      const req = send(request.url, options, (res) => {
        const parts: Buffer[] = [];
        let size = 0;
        res.on("data", (chunk: Buffer) => {
          if (size < MAX_RESPONSE_BYTES) {
            parts.push(chunk);
            size += chunk.length;
          }
        });
        res.on("end", () => {
          if (!settled) {
            settled = true;
            cleanup();
            resolve({
              status: res.statusCode ?? 0,
              headers: res.headers,
              body: Buffer.concat(parts).toString("utf8").slice(0, MAX_RESPONSE_BYTES),
            });
          }
        });
        res.on("error", (error) => {
          fail(new HttpRequestError(`${target}: response interrupted`, {}, { cause: error }));
        });
      });
      const timer = setTimeout(() => {
        fail(
          new HttpRequestError(`${target}: no answer within ${request.timeoutMs} ms`, {
            timedOut: true,
          }),
        );
        req.destroy();
      }, request.timeoutMs);
      const onAbort = (): void => {
        fail(new HttpRequestError(`${target} was cancelled`, { aborted: true }));
        req.destroy();
      };
      request.signal?.addEventListener("abort", onAbort, { once: true });
      const cleanup = (): void => {
        clearTimeout(timer);
        request.signal?.removeEventListener("abort", onAbort);
      };
      req.on("error", (error: NodeJS.ErrnoException) => {
        fail(
          new HttpRequestError(`${target}: ${error.code ?? error.message}`, {}, { cause: error }),
        );
      });
      req.end(body);
    });
  }

  /** Closes idle keep-alive sockets so that the process can exit. */
  close(): void {
    this.httpAgent.destroy();
    this.httpsAgent.destroy();
  }
}
