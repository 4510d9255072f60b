import assert from "node:assert/strict";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, beforeEach, describe, test } from "node:test";

import { PlatformError } from "../../lib/errors/PlatformError.js";
import { HttpTransport } from "../../lib/http/HttpTransport.js";
import {
  CALLBACK_MAX_ATTEMPTS,
  CALLBACK_RETRY_DELAYS_MS,
  PlaybookClient,
} from "../../lib/runtime/PlaybookClient.js";
import { SecretRedactor } from "../../lib/runtime/SecretRedactor.js";
import { SymphonyConfig } from "../../lib/runtime/SymphonyConfig.js";
import { CALLBACK_PATH, PLATFORM_TEST_TOKEN, PlatformServer } from "../support/PlatformServer.js";

const NO_FILES = join(tmpdir(), "playbook-client-test-no-symphony-files");
const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

interface SentEvent {
  name: string;
  event: Record<string, unknown>;
  request_id: string;
  directory?: string;
}

void describe("PlaybookClient", () => {
  let platform: PlatformServer;
  const http = new HttpTransport();

  before(async () => {
    platform = await new PlatformServer().start();
  });

  beforeEach(() => {
    platform.requests.length = 0;
    platform.answer(CALLBACK_PATH, { status: 200 });
  });

  after(async () => {
    http.close();
    await platform.stop();
  });

  function client(env = platform.symphonyEnv()): PlaybookClient | undefined {
    const symphony = new SymphonyConfig({ directory: NO_FILES, env });

    return PlaybookClient.fromSymphony(
      { symphony, http, redactor: new SecretRedactor() },
      { retryDelaysMs: [1] },
    );
  }

  function sender(): PlaybookClient {
    const created = client();
    assert.ok(created, "no client from the platform environment");

    return created;
  }

  function sentEvents(): SentEvent[] {
    return platform.requestsTo(CALLBACK_PATH).map((request) => request.body as SentEvent);
  }

  void test("posts name, event, a v4 request id and the directory with the bearer token", async () => {
    await sender().sendEvent(
      "Umbrella IP logs",
      { records_path: "event.json" },
      { directory: "umbrella_events/0001" },
    );

    const [request] = platform.requestsTo(CALLBACK_PATH);
    assert.equal(request?.method, "POST");
    assert.equal(request?.headers.authorization, `Bearer ${PLATFORM_TEST_TOKEN}`);
    assert.equal(request?.headers["content-type"], "application/json");
    const body = request?.body as SentEvent;
    assert.match(body.request_id, UUID_V4);
    assert.deepEqual(body, {
      name: "Umbrella IP logs",
      event: { records_path: "event.json" },
      request_id: body.request_id,
      directory: "umbrella_events/0001",
    });
  });

  void test("leaves the directory out when none is given", async () => {
    await sender().sendEvent("inline", { records: [1, 2] });

    assert.deepEqual(Object.keys(sentEvents()[0] ?? {}).sort(), ["event", "name", "request_id"]);
  });

  void test("retries a 500 and delivers one event in two requests with one request id", async () => {
    platform.answer(CALLBACK_PATH, { status: 500 }, { status: 200 });

    await sender().sendEvent("retried", { n: 1 });

    const [first, second] = sentEvents();
    assert.equal(sentEvents().length, 2);
    assert.equal(first?.request_id, second?.request_id);
  });

  void test("retries a dropped connection", async () => {
    platform.answer(CALLBACK_PATH, { destroy: true }, { status: 200 });

    await sender().sendEvent("after a reset", {});

    assert.equal(sentEvents().length, 2);
  });

  void test("fails at once on a 404, keeping the status", async () => {
    platform.answer(CALLBACK_PATH, { status: 404, body: { message: "unknown trigger" } });

    await assert.rejects(sender().sendEvent("gone", {}), (error: unknown) => {
      assert.ok(error instanceof PlatformError);
      assert.equal(error.status, 404);
      assert.equal(error.operation, "send event");
      assert.match(error.message, /POST \/api\/v1\/symphony\/callback was refused with HTTP 404/);
      assert.match(error.message, /unknown trigger/);

      return true;
    });
    assert.equal(sentEvents().length, 1);
  });

  void test("throws after ten failed attempts with the last status", async () => {
    platform.answer(CALLBACK_PATH, { status: 503 });

    await assert.rejects(sender().sendEvent("never", {}), (error: unknown) => {
      assert.ok(error instanceof PlatformError);
      assert.equal(error.status, 503);
      assert.match(error.message, /failed 10 times; last: HTTP 503/);

      return true;
    });
    assert.equal(sentEvents().length, CALLBACK_MAX_ATTEMPTS);
  });

  void test("sends concurrent events over the shared transport, each with its own id", async () => {
    const shared = sender();

    await Promise.all(
      Array.from({ length: 5 }, (_, index) => shared.sendEvent("parallel", { index })),
    );

    const ids = new Set(sentEvents().map((event) => event.request_id));
    assert.equal(ids.size, 5);
    assert.deepEqual(
      sentEvents()
        .map((event) => event.event["index"])
        .sort(),
      [0, 1, 2, 3, 4],
    );
  });

  void test("stops retrying when the signal aborts", async () => {
    platform.answer(CALLBACK_PATH, { status: 502 });
    const symphony = new SymphonyConfig({ directory: NO_FILES, env: platform.symphonyEnv() });
    const slow = PlaybookClient.fromSymphony({ symphony, http, redactor: new SecretRedactor() });
    assert.ok(slow);
    const controller = new AbortController();

    const sending = slow.sendEvent("stopping", {}, { signal: controller.signal });
    await platform.waitForRequests(CALLBACK_PATH, 1);
    controller.abort();

    await assert.rejects(sending, /cancelled by shutdown/);
    assert.equal(sentEvents().length, 1);
  });

  void test("is not created without url_callback or token", () => {
    assert.equal(client({ TOKEN: PLATFORM_TEST_TOKEN }), undefined);
    assert.equal(client({ URL_CALLBACK: platform.urlFor(CALLBACK_PATH) }), undefined);
  });

  void test("waits 2 ** attempt seconds between attempts by default", () => {
    assert.deepEqual(
      CALLBACK_RETRY_DELAYS_MS,
      [2, 4, 8, 16, 32, 64, 128, 256, 512].map((seconds) => seconds * 1_000),
    );
  });
});
