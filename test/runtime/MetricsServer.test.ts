import assert from "node:assert/strict";
import { after, describe, test } from "node:test";

import { HttpTransport } from "../../lib/http/HttpTransport.js";
import { Metrics } from "../../lib/runtime/Metrics.js";
import { MetricsServer } from "../../lib/runtime/MetricsServer.js";
import { maskIntakeKey } from "../../lib/runtime/SecretRedactor.js";

const INTAKE_KEY = "b5c1f6a2-intake-key-of-the-test-0042";

void describe("MetricsServer", () => {
  const http = new HttpTransport();

  after(() => http.close());

  void test("serves the registry on any path with a masked intake key", async () => {
    const metrics = new Metrics();
    metrics.forwardedEvents.labels(maskIntakeKey(INTAKE_KEY)).inc(42);
    const server = new MetricsServer(metrics);
    const port = await server.start(0, "127.0.0.1");

    try {
      for (const path of ["/metrics", "/"]) {
        const response = await http.request({
          method: "GET",
          url: new URL(`http://127.0.0.1:${port}${path}`),
          timeoutMs: 2_000,
        });

        assert.equal(response.status, 200);
        assert.equal(response.headers["content-type"], metrics.registry.contentType);
        assert.match(
          response.body,
          /^symphony_module_common_forwarded_events_total\{intake_key="b5c1\*\*\*\*"\} 42$/m,
        );
        assert.match(response.body, /^process_cpu_user_seconds_total /m);
        assert.ok(!response.body.includes(INTAKE_KEY), "the intake key is exposed");
      }
    } finally {
      await server.stop();
    }
  });

  void test("stop resolves when the server never started", async () => {
    await new MetricsServer(new Metrics({ defaultMetrics: false })).stop();
  });
});
