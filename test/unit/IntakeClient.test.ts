import assert from "node:assert/strict";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { PassThrough } from "node:stream";
import { afterEach, beforeEach, describe, test } from "node:test";

import { IntakeError } from "../../lib/errors/IntakeError.js";
import { HttpTransport } from "../../lib/http/HttpTransport.js";
import {
  IntakeClient,
  parseRetryAfter,
  type IntakeClientOptions,
} from "../../lib/intake/IntakeClient.js";
import { createLogger, type Logger } from "../../lib/runtime/createLogger.js";
import { Liveness } from "../../lib/runtime/Liveness.js";
import { Metrics } from "../../lib/runtime/Metrics.js";
import { SecretRedactor, maskIntakeKey } from "../../lib/runtime/SecretRedactor.js";
import { IntakeServer } from "../support/IntakeServer.js";
import { counterValue } from "../support/TestHelpers.js";

const INTAKE_KEY = "a1b2c3d4-5e6f-7a8b-9c0d-e1f2a3b4c5d6";
const MASKED_KEY = maskIntakeKey(INTAKE_KEY);
const USER_AGENT = "sekoiaio-connector/cisco-umbrella-aws-s3-0.1.0";
/** Small delays keep the retries fast; `max` stays above 1 s so Retry-After: 1 is honoured. */
const FAST_DELAYS = { initial: 5, max: 2_000, rejectedMax: 20 };

interface LogLine {
  level: string;
  message: string;
  [field: string]: unknown;
}

/** Collects the JSON lines the logger writes. */
class LogSink extends PassThrough {
  text = "";

  constructor() {
    super();
    this.on("data", (chunk: Buffer) => (this.text += chunk.toString("utf8")));
  }

  async lines(): Promise<LogLine[]> {
    await new Promise((resolve) => setImmediate(resolve));
    await new Promise((resolve) => setImmediate(resolve));

    return this.text
      .split("\n")
      .filter((line) => line !== "")
      .map((line) => JSON.parse(line) as LogLine);
  }
}

function body(events: string[]): Buffer {
  return Buffer.from(JSON.stringify({ intake_key: INTAKE_KEY, jsons: events }));
}

void describe("IntakeClient", () => {
  let server: IntakeServer;
  let http: HttpTransport;
  let logs: LogSink;
  let logger: Logger;
  let metrics: Metrics;
  let liveness: Liveness;

  beforeEach(async () => {
    server = await new IntakeServer().start();
    http = new HttpTransport();
    logs = new LogSink();
    logger = createLogger({ redactor: new SecretRedactor(), stream: logs, level: "debug" });
    metrics = new Metrics({ defaultMetrics: false });
    liveness = new Liveness();
  });

  afterEach(async () => {
    logger.close();
    http.close();
    await server.stop();
  });

  function client(overrides: Partial<IntakeClientOptions> = {}): IntakeClient {
    return new IntakeClient({
      intakeServer: server.url,
      maskedKey: MASKED_KEY,
      userAgent: USER_AGENT,
      http,
      logger,
      metrics,
      liveness,
      failuresBeforeError: 4,
      retryDelayMs: FAST_DELAYS,
      requestTimeoutMs: 5_000,
      ...overrides,
    });
  }

  void test("posts the body to <server>/batch and resolves with the event count on 200", async () => {
    const sent = await client().send(body(["e1", "e2"]), 2, new AbortController().signal);

    assert.equal(sent, 2);
    assert.deepEqual(server.events, ["e1", "e2"]);
    const headers = server.accepted[0]?.headers;
    assert.equal(headers?.["content-type"], "application/json");
    assert.equal(headers?.["user-agent"], USER_AGENT);
    assert.ok(!JSON.stringify(headers).includes(INTAKE_KEY));
    assert.equal((await metrics.forwardDuration.get()).values.length > 0, true);
  });

  void test("joins the batch path to a server with or without a trailing slash or a path", () => {
    const urls = ["http://127.0.0.1:1", "http://127.0.0.1:1/", "https://intake.test/in/"].map(
      (intakeServer) => client({ intakeServer }).batchUrl.href,
    );

    assert.deepEqual(urls, [
      "http://127.0.0.1:1/batch",
      "http://127.0.0.1:1/batch",
      "https://intake.test/in/batch",
    ]);
  });

  void test("retries after a 500 and resolves once the intake accepts", async () => {
    server.behave = ({ attempt }) => (attempt === 1 ? { status: 500, body: "oops" } : undefined);

    const sent = await client().send(body(["e1"]), 1, new AbortController().signal);

    assert.equal(sent, 1);
    assert.deepEqual(
      server.requests.map((request) => request.status),
      [500, 200],
    );
    assert.equal(await counterValue(metrics.retries, { reason: "intake_5xx" }), 1);
    const warnings = (await logs.lines()).filter((line) => line.level === "warning");
    assert.equal(warnings.length, 1);
    assert.equal(warnings[0]?.message, "intake request failed, retrying");
    assert.match(String(warnings[0]?.["reason"]), /HTTP 500 oops/);
  });

  void test("honours Retry-After: 1 on a 429", async () => {
    server.behave = ({ attempt }) =>
      attempt === 1 ? { status: 429, headers: { "retry-after": "1" } } : undefined;
    const started = performance.now();

    await client().send(body(["e1"]), 1, new AbortController().signal);

    const elapsed = performance.now() - started;
    assert.ok(elapsed >= 990, `waited only ${Math.round(elapsed)} ms`);
    assert.ok(elapsed < 1_800, `waited ${Math.round(elapsed)} ms`);
    assert.deepEqual(
      server.requests.map((request) => request.status),
      [429, 200],
    );
    assert.equal(await counterValue(metrics.retries, { reason: "intake_429" }), 1);
  });

  void test("retries a 429 without Retry-After after the short backoff", async () => {
    server.behave = ({ attempt }) => (attempt === 1 ? { status: 429 } : undefined);
    const started = performance.now();

    await client().send(body(["e1"]), 1, new AbortController().signal);

    assert.ok(performance.now() - started < 500);
    assert.equal(server.requests.length, 2);
  });

  void test("retries 401, 403 and 404 patiently with one critical log, then recovers", async () => {
    const refusals = [401, 403, 404, 401, 403];
    server.behave = ({ attempt }) => {
      const status = refusals[attempt - 1];

      return status === undefined ? undefined : { status };
    };
    const target = `${server.url}/batch`;

    const sent = await client({ failuresBeforeError: 2 }).send(
      body(["e1"]),
      1,
      new AbortController().signal,
    );

    assert.equal(sent, 1);
    assert.deepEqual(
      server.requests.map((request) => request.status),
      [...refusals, 200],
    );
    const lines = await logs.lines();
    const critical = lines.filter((line) => line.level === "critical");
    assert.equal(critical.length, 1);
    assert.equal(critical[0]?.["intake"], target);
    assert.equal(critical[0]?.["intakeKey"], MASKED_KEY);
    assert.equal(critical[0]?.["status"], 401);
    assert.match(critical[0]?.message ?? "", /intake key/);
    const recovered = lines.filter((line) => line.message === "the intake accepts events again");
    assert.equal(recovered.length, 1);
    assert.equal(recovered[0]?.level, "info");
    assert.equal(recovered[0]?.["intake"], target);
    assert.ok(!logs.text.includes(INTAKE_KEY), "the key itself is never logged");
    assert.equal(await counterValue(metrics.retries, { reason: "intake_rejected" }), 5);
  });

  void test("refreshes the liveness heartbeat while the key is refused", async () => {
    let now = 1_000;
    liveness = new Liveness(600, () => now);
    server.behave = ({ attempt }) => {
      now += 1_000;

      return attempt === 1 ? { status: 403 } : undefined;
    };

    await client().send(body(["e1"]), 1, new AbortController().signal);

    assert.equal(liveness.report().last_heartbeat, new Date(2_000).toISOString());
  });

  for (const status of [400, 413, 422]) {
    void test(`raises refused-batch on ${status} without retrying`, async () => {
      server.behave = () => ({ status, body: "bad event" });

      const failure = client().send(body(["e1", "e2"]), 2, new AbortController().signal);

      await assert.rejects(failure, (error: unknown) => {
        assert.ok(error instanceof IntakeError);
        assert.equal(error.kind, "refused-batch");
        assert.equal(error.status, status);
        assert.equal(error.code, "UMB_INTAKE_REFUSED_BATCH");
        assert.match(error.message, new RegExp(`refused a batch of 2 events with HTTP ${status}`));
        assert.ok(!error.message.includes(INTAKE_KEY));

        return true;
      });
      assert.equal(server.requests.length, 1);
    });
  }

  void test("keeps retrying through an outage, reports it once as an error, then delivers", async () => {
    server.behave = ({ attempt }) =>
      attempt <= 5 ? { status: 503, body: "maintenance" } : undefined;

    const sent = await client({ failuresBeforeError: 3 }).send(
      body(["e1"]),
      1,
      new AbortController().signal,
    );

    assert.equal(sent, 1);
    assert.equal(server.requests.length, 6);
    const lines = await logs.lines();
    const errors = lines.filter((line) => line.level === "error");
    assert.equal(errors.length, 1);
    assert.match(errors[0]?.message ?? "", /the intake keeps failing: events are kept/);
    assert.equal(errors[0]?.["attempt"], 3);
    assert.match(String(errors[0]?.["reason"]), /HTTP 503 maintenance/);
    assert.equal(lines.filter((line) => line.level === "warning").length, 2);
    assert.equal(await counterValue(metrics.retries, { reason: "intake_5xx" }), 5);
  });

  void test("retries while nothing listens, until the work is cancelled", async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, "127.0.0.1", resolve));
    const { port } = closed.address() as AddressInfo;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const controller = new AbortController();

    const failure = client({ intakeServer: `http://127.0.0.1:${port}` }).send(
      body(["e1"]),
      1,
      controller.signal,
    );
    while ((await counterValue(metrics.retries, { reason: "intake_network" })) < 3) {
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    controller.abort();

    await assert.rejects(failure, (error: unknown) => {
      assert.ok(error instanceof IntakeError);
      assert.equal(error.kind, "aborted");

      return true;
    });
    assert.match(JSON.stringify(await logs.lines()), /ECONNREFUSED/);
  });

  void test("treats a redirect as a wrong intake server: one critical log, patient retries", async () => {
    server.behave = ({ attempt }) =>
      attempt <= 2
        ? { status: 301, headers: { location: "https://intake.example/batch" } }
        : undefined;

    await client().send(body(["e1"]), 1, new AbortController().signal);

    const critical = (await logs.lines()).filter((line) => line.level === "critical");
    assert.equal(critical.length, 1);
    assert.match(critical[0]?.message ?? "", /redirects \(HTTP 301\): set intake_server/);
  });

  void test("quotes the intake's answer with the intake key hidden", async () => {
    const redactor = new SecretRedactor();
    redactor.addIntakeKey(INTAKE_KEY);
    server.behave = () => ({ status: 400, body: `${"x".repeat(180)} ${INTAKE_KEY}` });

    const failure = client({ redactText: (text) => redactor.redactText(text) }).send(
      body(["e1"]),
      1,
      new AbortController().signal,
    );

    await assert.rejects(failure, (error: unknown) => {
      assert.ok(error instanceof IntakeError);
      assert.ok(!error.message.includes(INTAKE_KEY.slice(0, 8)), error.message);
      assert.match(error.message, new RegExp(MASKED_KEY.replace(/\*/g, "\\*")));

      return true;
    });
  });

  void test("times out a hanging request and retries it", async () => {
    server.behave = ({ attempt }) => (attempt === 1 ? { hang: true } : undefined);
    const started = performance.now();

    const sent = await client({ requestTimeoutMs: 100 }).send(
      body(["e1"]),
      1,
      new AbortController().signal,
    );

    assert.equal(sent, 1);
    assert.ok(performance.now() - started >= 95);
    assert.equal(server.requests.length, 2);
    assert.equal(await counterValue(metrics.retries, { reason: "intake_timeout" }), 1);
  });

  void test("raises aborted when the signal aborts during a request", async () => {
    const controller = new AbortController();
    server.behave = () => {
      controller.abort();

      return { hang: true };
    };

    await assert.rejects(
      client().send(body(["e1"]), 1, controller.signal),
      (error: unknown) => error instanceof IntakeError && error.kind === "aborted",
    );
    assert.equal(server.requests.length, 1);
  });

  void test("raises aborted when the signal aborts while waiting to retry", async () => {
    const controller = new AbortController();
    server.behave = () => {
      setImmediate(() => controller.abort());

      return { status: 503 };
    };
    const started = performance.now();

    await assert.rejects(
      client({ retryDelayMs: { initial: 10_000, max: 10_000, rejectedMax: 10_000 } }).send(
        body(["e1"]),
        1,
        controller.signal,
      ),
      (error: unknown) => error instanceof IntakeError && error.kind === "aborted",
    );
    assert.ok(performance.now() - started < 2_000);
    assert.equal(server.requests.length, 1);
  });

  void test("raises aborted without a request when the signal is already aborted", async () => {
    await assert.rejects(
      client().send(body(["e1"]), 1, AbortSignal.abort()),
      (error: unknown) => error instanceof IntakeError && error.kind === "aborted",
    );
    assert.equal(server.requests.length, 0);
  });
});

void describe("parseRetryAfter", () => {
  void test("reads seconds", () => {
    assert.equal(parseRetryAfter("1", 60_000), 1_000);
    assert.equal(parseRetryAfter("0", 60_000), 0);
    assert.equal(parseRetryAfter(" 30 ", 60_000), 30_000);
  });

  void test("reads an HTTP date as the time left until it", () => {
    const inTenSeconds = new Date(Date.now() + 10_000).toUTCString();

    const delay = parseRetryAfter(inTenSeconds, 60_000);

    assert.ok(delay !== undefined && delay > 8_000 && delay <= 10_000, String(delay));
  });

  void test("turns a date in the past or a negative number into no wait", () => {
    assert.equal(parseRetryAfter("Wed, 21 Oct 2015 07:28:00 GMT", 60_000), 0);
    assert.equal(parseRetryAfter("-5", 60_000), 0);
  });

  void test("caps the wait", () => {
    assert.equal(parseRetryAfter("3600", 60_000), 60_000);
    assert.equal(parseRetryAfter(new Date(Date.now() + 3_600_000).toUTCString(), 5_000), 5_000);
  });

  void test("ignores an absent, empty or unreadable value", () => {
    assert.equal(parseRetryAfter(undefined, 60_000), undefined);
    assert.equal(parseRetryAfter("", 60_000), undefined);
    assert.equal(parseRetryAfter("  ", 60_000), undefined);
    assert.equal(parseRetryAfter("soon", 60_000), undefined);
    assert.equal(parseRetryAfter("12 parsecs", 60_000), undefined);
  });

  void test("reads the first of repeated headers", () => {
    assert.equal(parseRetryAfter(["2", "9"], 60_000), 2_000);
  });
});
