import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";

import { describeError } from "../errors/ModuleError.js";
import { DEFAULT_MONITORING_HOST, closeServer, listenOn } from "./HealthServer.js";
import type { Metrics } from "./Metrics.js";

/**
 * The Prometheus exporter (RUNTIME.md 4.4): every GET, whatever the path, answers the
 * module's registry in the text exposition format, like the Python SDK's `MetricsHandler`.
 */
export class MetricsServer {
  private server: Server | undefined;

  constructor(private readonly metrics: Metrics) {}

  /** Listens on `port` (0 picks a free one) and resolves to the bound port. */
  start(port: number, host = DEFAULT_MONITORING_HOST): Promise<number> {
    this.server ??= createServer((request, response) => {
      void this.answer(request, response);
    });

    return listenOn(this.server, port, host, "metrics_port");
  }

  stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;

    return closeServer(server);
  }

  private async answer(request: IncomingMessage, response: ServerResponse): Promise<void> {
    if (request.method !== "GET" && request.method !== "HEAD") {
      response.writeHead(405, { allow: "GET" }).end();

      return;
    }

    try {
      const text = await this.metrics.registry.metrics();
      response.writeHead(200, { "content-type": this.metrics.registry.contentType });
      response.end(text);
    } catch (error: unknown) {
      response.writeHead(500, { "content-type": "text/plain; charset=utf-8" });
      response.end(`metrics collection failed: ${describeError(error)}\n`);
    }
  }
}
