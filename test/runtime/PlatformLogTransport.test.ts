import assert from "node:assert/strict";
import { PassThrough } from "node:stream";
import { afterEach, describe, test } from "node:test";

import {
  HttpTransport,
  type HttpRequest,
  type HttpResponse,
} from "../../lib/http/HttpTransport.js";
import { createLogger, type Logger } from "../../lib/runtime/createLogger.js";
import {
  PlatformLogTransport,
  formatPlatformDate,
  renderLogMessage,
  type PlatformLogEntry,
  type PlatformLogTransportOptions,
} from "../../lib/runtime/PlatformLogTransport.js";
import { SecretRedactor } from "../../lib/runtime/SecretRedactor.js";
import {
  LOGS_PATH,
  PLATFORM_TEST_TOKEN,
  PlatformServer,
  type RecordedRequest,
} from "../support/PlatformServer.js";

const PLATFORM_DATE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}$/;

/** Collects what is written to it, for stdout and stderr. */
class TextSink extends PassThrough {
  text = "";

  constructor() {
    super();
    this.on("data", (chunk: Buffer) => (this.text += chunk.toString("utf8")));
  }
}

/** The real transport, counting the requests it starts. */
class CountingHttp extends HttpTransport {
  calls = 0;

  override request(request: HttpRequest): Promise<HttpResponse> {
    this.calls += 1;

    return super.request(request);
  }
}

interface Harness {
  platform: PlatformServer;
  transport: PlatformLogTransport;
  logger: Logger;
  redactor: SecretRedactor;
  stdout: TextSink;
  stderr: TextSink;
}

function logsOf(request: RecordedRequest | undefined): PlatformLogEntry[] {
  return (request?.body as { logs: PlatformLogEntry[] } | undefined)?.logs ?? [];
}

function messagesOf(requests: readonly RecordedRequest[]): string[] {
  return requests.flatMap((request) => logsOf(request).map((entry) => entry.message));
}

void describe("PlatformLogTransport", () => {
  const cleanups: (() => Promise<void>)[] = [];

  afterEach(async () => {
    for (const cleanup of cleanups.splice(0)) {
      await cleanup();
    }
  });

  /** A transport aimed at a fresh fake platform, behind a logger built by createLogger. */
  async function harness(
    options: Partial<PlatformLogTransportOptions> = {},
    logThroughRedactor = true,
  ): Promise<Harness> {
    const platform = await new PlatformServer().start();
    const http = new HttpTransport();
    const redactor = new SecretRedactor();
    const stdout = new TextSink();
    const stderr = new TextSink();
    const transport = new PlatformLogTransport({
      url: new URL(platform.urlFor(LOGS_PATH)),
      token: PLATFORM_TEST_TOKEN,
      http,
      flushIntervalMs: 60_000,
      retryDelaysMs: [1],
      stderr,
      ...options,
    });
    const logger = createLogger({
      redactor: logThroughRedactor ? redactor : new SecretRedactor(),
      transports: [transport],
      stream: stdout,
      level: "debug",
    });
    cleanups.push(async () => {
      transport.close();
      logger.close();
      http.close();
      await platform.stop();
    });

    return { platform, transport, logger, redactor, stdout, stderr };
  }

  void test("sends a batch as soon as 50 entries wait, and the rest on flush, in order", async () => {
    const { platform, transport, logger } = await harness();

    for (let index = 0; index < 120; index += 1) {
      logger.info(`entry ${index}`);
    }
    const firstTwo = await platform.waitForRequests(LOGS_PATH, 2);
    const sentBeforeFlush = platform.requestsTo(LOGS_PATH).length;
    const delivered = await transport.flush(2_000);

    assert.deepEqual(
      firstTwo.map((request) => logsOf(request).length),
      [50, 50],
    );
    assert.equal(sentBeforeFlush, 2);
    assert.equal(delivered, true);
    const requests = platform.requestsTo(LOGS_PATH);
    assert.deepEqual(
      requests.map((request) => logsOf(request).length),
      [50, 50, 20],
    );
    assert.deepEqual(
      messagesOf(requests),
      Array.from({ length: 120 }, (_, index) => `entry ${index}`),
    );
    const first = logsOf(requests[0])[0];
    assert.equal(first?.level, "info");
    assert.match(first?.date ?? "", PLATFORM_DATE);
    assert.equal(requests[0]?.method, "POST");
    assert.equal(requests[0]?.headers.authorization, `Bearer ${PLATFORM_TEST_TOKEN}`);
    assert.equal(requests[0]?.headers["content-type"], "application/json");
  });

  void test("sends waiting entries once the interval has passed", async () => {
    const intervalMs = 150;
    const { platform, logger } = await harness({ flushIntervalMs: intervalMs });
    const startedAt = Date.now();

    logger.info("one");
    logger.log("warning", "two");
    logger.info("three");
    const [request] = await platform.waitForRequests(LOGS_PATH, 1, 3_000);

    assert.ok(Date.now() - startedAt >= intervalMs - 10, "sent before the interval ended");
    assert.deepEqual(
      logsOf(request).map((entry) => [entry.level, entry.message]),
      [
        ["info", "one"],
        ["warning", "two"],
        ["info", "three"],
      ],
    );
  });

  void test("sends an error on the next tick, after log() has returned", async () => {
    const http = new CountingHttp();
    const { platform, transport } = await harness({ http });
    let nextCalled = false;

    transport.log({ level: "info", message: "context before the failure" }, () => undefined);
    transport.log(
      { level: "error", message: "object failed", bucket: "umbrella-logs", key: "iplogs/a.csv.gz" },
      () => (nextCalled = true),
    );
    const requestsDuringLog = http.calls;
    const [request] = await platform.waitForRequests(LOGS_PATH, 1, 1_000);

    assert.equal(nextCalled, true);
    assert.equal(requestsDuringLog, 0);
    assert.deepEqual(
      logsOf(request).map((entry) => [entry.level, entry.message]),
      [
        ["info", "context before the failure"],
        ["error", "object failed bucket=umbrella-logs key=iplogs/a.csv.gz"],
      ],
    );
    http.close();
  });

  void test("suppresses a repeated message for 60 s, but never a critical one", async () => {
    let now = Date.parse("2024-05-01T12:00:00Z");
    const { platform, transport, logger, stdout } = await harness({ now: () => now });

    logger.info("queue empty", { queue: "umbrella" });
    now += 30_000;
    logger.info("queue empty", { queue: "umbrella" });
    logger.info("queue empty", { queue: "other" });
    now += 31_000;
    logger.info("queue empty", { queue: "umbrella" });
    logger.log("critical", "credentials refused");
    logger.log("critical", "credentials refused");
    logger.log("critical", "credentials refused");
    await transport.flush(2_000);

    const entries = platform.requestsTo(LOGS_PATH).flatMap(logsOf);
    assert.deepEqual(
      entries.map((entry) => [entry.date, entry.message]),
      [
        ["2024-05-01T12:00:00.000000", "queue empty queue=umbrella"],
        ["2024-05-01T12:00:30.000000", "queue empty queue=other"],
        ["2024-05-01T12:01:01.000000", "queue empty queue=umbrella"],
        ["2024-05-01T12:01:01.000000", "credentials refused"],
        ["2024-05-01T12:01:01.000000", "credentials refused"],
        ["2024-05-01T12:01:01.000000", "credentials refused"],
      ],
    );
    assert.equal(stdout.text.split('"queue":"umbrella"').length - 1, 3, "stdout lost a line");
  });

  void test("keeps the order when the platform fails twice, then accepts", async () => {
    const { platform, transport, logger } = await harness({ retryDelaysMs: [20] });
    platform.answer(LOGS_PATH, { status: 500 }, { status: 503 }, { status: 200 });

    logger.info("one");
    logger.error("two");
    await platform.waitForRequests(LOGS_PATH, 1);
    logger.info("three");
    await transport.flush(3_000);

    const requests = platform.requestsTo(LOGS_PATH);
    assert.deepEqual(
      requests.map((request) => logsOf(request).map((entry) => entry.message)),
      [["one", "two"], ["one", "two"], ["one", "two"], ["three"]],
    );
  });

  void test("bounds the buffer, keeps errors, and reports the drop count", async () => {
    const { platform, transport, logger } = await harness({
      maxBufferedEntries: 5,
      retryDelaysMs: [200],
    });
    platform.answer(LOGS_PATH, { status: 500 }, { status: 200 });

    logger.error("first");
    await platform.waitForRequests(LOGS_PATH, 1);
    for (let index = 0; index < 10; index += 1) {
      if (index === 3) {
        logger.error("late error");
      }
      logger.info(`info ${index}`);
    }
    const droppedWhileDown = transport.droppedEntries;
    await transport.flush(3_000);

    assert.equal(droppedWhileDown, 6);
    const requests = platform.requestsTo(LOGS_PATH);
    assert.deepEqual(
      requests.map((request) => logsOf(request).map((entry) => entry.message)),
      [
        ["first"],
        ["first"],
        [
          "6 log entries were not sent to the platform (buffer full or batch refused); they are on stdout",
          "late error",
          "info 6",
          "info 7",
          "info 8",
          "info 9",
        ],
      ],
    );
    assert.equal(logsOf(requests[2])[0]?.level, "warning");
  });

  void test("drops a refused batch, says so on stderr once, and reports it", async () => {
    const { platform, transport, logger, stderr } = await harness();
    platform.answer(LOGS_PATH, { status: 400 }, { status: 200 });

    logger.error("refused entry");
    const requests = await platform.waitForRequests(LOGS_PATH, 2);
    await transport.flush(2_000);

    assert.deepEqual(messagesOf(requests), [
      "refused entry",
      "1 log entries were not sent to the platform (buffer full or batch refused); they are on stdout",
    ]);
    assert.equal(stderr.text.trim().split("\n").length, 1);
    assert.match(stderr.text, /POST \/api\/v1\/symphony\/logs.*HTTP 400/);
  });

  void test("paces its attempts when the platform refuses every batch", async () => {
    const delayMs = 60;
    const { platform, logger } = await harness({ retryDelaysMs: [delayMs] });
    platform.answer(LOGS_PATH, { status: 401 });
    const startedAt = Date.now();

    logger.error("token refused");
    await platform.waitForRequests(LOGS_PATH, 3);

    assert.ok(Date.now() - startedAt >= 2 * delayMs - 10, "refusals were retried in a tight loop");
    assert.deepEqual(messagesOf(platform.requestsTo(LOGS_PATH)).slice(0, 3), [
      "token refused",
      "1 log entries were not sent to the platform (buffer full or batch refused); they are on stdout",
      "1 log entries were not sent to the platform (buffer full or batch refused); they are on stdout",
    ]);
  });

  void test("writes a persistent failure to stderr once, without the token", async () => {
    const { platform, logger, stderr } = await harness();
    platform.answer(LOGS_PATH, { status: 502 });

    logger.error("platform down");
    await platform.waitForRequests(LOGS_PATH, 10);

    assert.equal(stderr.text.trim().split("\n").length, 1);
    assert.match(stderr.text, /keeps failing \(HTTP 502\); still retrying/);
    assert.ok(!stderr.text.includes(PLATFORM_TEST_TOKEN));
  });

  void test("flush resolves false at its deadline while the platform is down", async () => {
    const { platform, transport, logger } = await harness({ retryDelaysMs: [5] });
    platform.answer(LOGS_PATH, { status: 503 });
    logger.info("cannot be delivered");
    const startedAt = Date.now();

    const delivered = await transport.flush(150);

    assert.equal(delivered, false);
    assert.ok(Date.now() - startedAt >= 140);
    assert.ok(platform.requestsTo(LOGS_PATH).length >= 2);
    assert.equal(transport.bufferedEntries, 1);
  });

  void test("redacts a registered secret end to end through createLogger", async () => {
    const secret = "fake-secret-for-redaction-42";
    const { platform, logger, redactor, stdout } = await harness();
    redactor.add(secret);

    logger.error(`login refused for ${secret}`, { password: secret, nested: { token: secret } });
    const [request] = await platform.waitForRequests(LOGS_PATH, 1);

    assert.ok(!request?.text.includes(secret), "the secret reached the platform");
    assert.ok(!request?.text.includes(PLATFORM_TEST_TOKEN), "the token is in the body");
    assert.equal(
      logsOf(request)[0]?.message,
      'login refused for [redacted] password=[redacted] nested={"token":"[redacted]"}',
    );
    assert.ok(!stdout.text.includes(secret), "the secret reached stdout");
  });

  void test("redacts with its own redactor when the logger does not", async () => {
    const secret = "fake-secret-transport-side-7";
    const redactor = new SecretRedactor();
    redactor.add(secret);
    const { platform, logger } = await harness({ redactor }, false);

    logger.error("leaking", { value: secret });
    const [request] = await platform.waitForRequests(LOGS_PATH, 1);

    assert.equal(logsOf(request)[0]?.message, "leaking value=[redacted]");
  });

  void test("sends info and above only, unless configured otherwise", async () => {
    const quiet = await harness();
    const verbose = await harness({ level: "debug" });

    for (const { logger } of [quiet, verbose]) {
      logger.debug("per message detail", { messageId: "m-1" });
      logger.info("poll done");
    }
    await Promise.all([quiet.transport.flush(2_000), verbose.transport.flush(2_000)]);

    assert.deepEqual(messagesOf(quiet.platform.requests), ["poll done"]);
    assert.deepEqual(messagesOf(verbose.platform.requests), [
      "per message detail messageId=m-1",
      "poll done",
    ]);
  });

  void test("ignores entries once closed and flush resolves false at once", async () => {
    const { platform, transport, logger } = await harness();
    logger.info("buffered then abandoned");

    transport.close();
    transport.log({ level: "error", message: "after close" }, () => undefined);

    assert.equal(await transport.flush(5_000), false);
    assert.equal(platform.requests.length, 0);
  });
});

void describe("renderLogMessage", () => {
  void test("appends the fields as key=value, quoting what needs it", () => {
    const text = renderLogMessage({
      level: "info",
      message: "object done",
      timestamp: "2024-05-01T12:00:00.000Z",
      bucket: "umbrella-logs",
      key: "iplogs/2024 05 01.csv.gz",
      lines: 3,
      retried: false,
      skipped: undefined,
      error: { name: "ObjectReadError", code: "UMB_OBJECT_MISSING" },
    });

    assert.equal(
      text,
      'object done bucket=umbrella-logs key="iplogs/2024 05 01.csv.gz" lines=3 retried=false ' +
        'error={"name":"ObjectReadError","code":"UMB_OBJECT_MISSING"}',
    );
  });
});

void describe("formatPlatformDate", () => {
  void test("writes naive UTC with microseconds", () => {
    assert.equal(
      formatPlatformDate(Date.parse("2024-02-29T23:59:58.123Z")),
      "2024-02-29T23:59:58.123000",
    );
  });
});
