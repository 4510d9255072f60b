import assert from "node:assert/strict";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";

import { ConfigurationError } from "../../lib/errors/ConfigurationError.js";
import { HttpTransport, type HttpResponse } from "../../lib/http/HttpTransport.js";
import { HealthServer, monitoringPorts } from "../../lib/runtime/HealthServer.js";
import { Liveness } from "../../lib/runtime/Liveness.js";
import { SymphonyConfig } from "../../lib/runtime/SymphonyConfig.js";

const LOOPBACK = "127.0.0.1";
const NO_FILES = join(tmpdir(), "health-server-test-no-symphony-files");

void describe("HealthServer", () => {
  const http = new HttpTransport();

  after(() => http.close());

  function get(port: number, path: string): Promise<HttpResponse> {
    return http.request({
      method: "GET",
      url: new URL(`http://${LOOPBACK}:${port}${path}`),
      timeoutMs: 2_000,
    });
  }

  async function withServer(
    liveness: Liveness,
    check: (port: number) => Promise<void>,
    errorCount?: () => number,
  ): Promise<void> {
    const server = new HealthServer(liveness, errorCount === undefined ? {} : { errorCount });
    const port = await server.start(0, LOOPBACK);
    try {
      await check(port);
    } finally {
      await server.stop();
    }
  }

  void test("answers 200 with the liveness report as JSON while healthy", async () => {
    await withServer(new Liveness(), async (port) => {
      const response = await get(port, "/health");

      assert.equal(response.status, 200);
      assert.equal(response.headers["content-type"], "application/json");
      const report = JSON.parse(response.body) as Record<string, unknown>;
      assert.equal(report["healthy"], true);
      assert.equal(report["critical"], false);
      assert.equal(report["last_heartbeat_threshold"], 600);
    });
  });

  void test("answers 500 after a critical error", async () => {
    const liveness = new Liveness();
    await withServer(liveness, async (port) => {
      liveness.markCritical("the queue does not exist");
      const response = await get(port, "/health");

      assert.equal(response.status, 500);
      const report = JSON.parse(response.body) as Record<string, unknown>;
      assert.equal(report["healthy"], false);
      assert.equal(report["reason"], "critical error: the queue does not exist");
    });
  });

  void test("answers 500 once the trigger stalls, and 200 again after a heartbeat", async () => {
    let now = Date.parse("2024-05-01T12:00:00Z");
    const liveness = new Liveness(600, () => now);
    await withServer(liveness, async (port) => {
      now += 599_000;
      const beforeThreshold = await get(port, "/health");
      now += 1_000;
      const stalled = await get(port, "/health");
      liveness.heartbeat();
      const recovered = await get(port, "/health");

      assert.equal(beforeThreshold.status, 200);
      assert.equal(stalled.status, 500);
      assert.match(stalled.body, /no progress for 600 s/);
      assert.equal(recovered.status, 200);
    });
  });

  void test("adds error_count when a counter is given", async () => {
    await withServer(
      new Liveness(),
      async (port) => {
        const report = JSON.parse((await get(port, "/health")).body) as Record<string, unknown>;

        assert.equal(report["error_count"], 3);
      },
      () => 3,
    );
  });

  void test("answers 404 with the SDK's body on any other path", async () => {
    await withServer(new Liveness(), async (port) => {
      const response = await get(port, "/metrics");

      assert.equal(response.status, 404);
      assert.deepEqual(JSON.parse(response.body), {
        status_code: 404,
        reason: "Endpoint doesn't exist",
      });
    });
  });

  void test("rejects a port already taken with a configuration error naming liveness_port", async () => {
    await withServer(new Liveness(), async (port) => {
      const second = new HealthServer(new Liveness());

      await assert.rejects(
        second.start(port, LOOPBACK),
        (error: unknown) =>
          error instanceof ConfigurationError &&
          error.source === "liveness_port" &&
          /EADDRINUSE/.test(error.message),
      );
      await second.stop();
    });
  });
});

void describe("monitoringPorts", () => {
  void test("defaults to 8000 and 8020", () => {
    const symphony = new SymphonyConfig({ directory: NO_FILES, env: {} });

    assert.deepEqual(monitoringPorts(symphony), { liveness: 8000, metrics: 8020 });
  });

  void test("reads liveness_port and metrics_port", () => {
    const symphony = new SymphonyConfig({
      directory: NO_FILES,
      env: { LIVENESS_PORT: "9100", METRICS_PORT: "9200" },
    });

    assert.deepEqual(monitoringPorts(symphony), { liveness: 9100, metrics: 9200 });
  });
});
