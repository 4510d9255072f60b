import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

import { ConfigurationError } from "../errors/ConfigurationError.js";
import type { Liveness } from "./Liveness.js";
import type { SymphonyConfig } from "./SymphonyConfig.js";

/** Port of `/health` when `liveness_port` is not set (RUNTIME.md 4.2). */
export const DEFAULT_LIVENESS_PORT = 8000;

/** Port of the Prometheus exporter when `metrics_port` is not set (RUNTIME.md 4.2). */
export const DEFAULT_METRICS_PORT = 8020;

/** The probes come from outside the container, so both servers listen on every interface. */
export const DEFAULT_MONITORING_HOST = "0.0.0.0";

/** Highest TCP port number. */
const MAX_PORT = 65_535;

/** The ports the platform asks the monitoring servers to listen on. */
export interface MonitoringPorts {
  liveness: number;
  metrics: number;
}

/** Reads `liveness_port` and `metrics_port`, with the SDK's defaults 8000 and 8020. */
export function monitoringPorts(symphony: SymphonyConfig): MonitoringPorts {
  return {
    liveness: symphony.readInteger("liveness_port", DEFAULT_LIVENESS_PORT, MAX_PORT),
    metrics: symphony.readInteger("metrics_port", DEFAULT_METRICS_PORT, MAX_PORT),
  };
}

export interface HealthServerOptions {
  /** Errors counted by the trigger, reported as `error_count` like the Python SDK does. */
  errorCount?: () => number;
}

/**
 * The liveness endpoint the platform probes (RUNTIME.md 4.3): `GET /health` answers the
 * Liveness report as JSON, 200 when healthy and 500 when not, so that a stalled or broken
 * trigger gets restarted. Every other path answers 404.
 */
export class HealthServer {
  private server: Server | undefined;

  constructor(
    private readonly liveness: Liveness,
    private readonly options: HealthServerOptions = {},
  ) {}

  /** Listens on `port` (0 picks a free one) and resolves to the bound port. */
  start(port: number, host = DEFAULT_MONITORING_HOST): Promise<number> {
    this.server ??= createServer((request, response) => this.answer(request, response));

    return listenOn(this.server, port, host, "liveness_port");
  }

  stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;

    return closeServer(server);
  }

  private answer(request: IncomingMessage, response: ServerResponse): void {
    const path = new URL(request.url ?? "/", "http://localhost").pathname;
    if (path !== "/health" || (request.method !== "GET" && request.method !== "HEAD")) {
      sendJson(response, 404, { status_code: 404, reason: "Endpoint doesn't exist" });

      return;
    }

    const report = this.liveness.report();
    const body =
      this.options.errorCount === undefined
        ? report
        : { ...report, error_count: this.options.errorCount() };
    sendJson(response, report.healthy ? 200 : 500, body);
  }
}

/**
 * Starts `server` and resolves to the bound port. A port that cannot be bound is a
 * configuration error naming the setting that chose it.
 */
export function listenOn(
  server: Server,
  port: number,
  host: string,
  setting: string,
): Promise<number> {
  if (server.listening) {
    return Promise.resolve((server.address() as AddressInfo).port);
  }

  return new Promise((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException): void => {
      server.off("listening", onListening);
      reject(
        new ConfigurationError(
          setting,
          [],
          `cannot listen on ${host}:${port} (${setting}): ${error.code ?? error.message}. ` +
            `Set ${setting} to a free port.`,
          { cause: error },
        ),
      );
    };
    const onListening = (): void => {
      server.off("error", onError);
      resolve((server.address() as AddressInfo).port);
    };
    server.once("error", onError);
    server.once("listening", onListening);
    server.listen(port, host);
  });
}

/** Closes `server` and its idle keep-alive connections; resolves at once when not started. */
export function closeServer(server: Server | undefined): Promise<void> {
  if (server === undefined || !server.listening) {
    return Promise.resolve();
  }

  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

function sendJson(response: ServerResponse, status: number, body: unknown): void {
  response.writeHead(status, { "content-type": "application/json" });
  response.end(JSON.stringify(body));
}
