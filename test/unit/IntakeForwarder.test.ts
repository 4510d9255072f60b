import assert from "node:assert/strict";
import { createServer, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { PassThrough } from "node:stream";
import { afterEach, beforeEach, describe, test } from "node:test";

import { IntakeError } from "../../lib/errors/IntakeError.js";
import { HttpTransport } from "../../lib/http/HttpTransport.js";
import { IntakeClient } from "../../lib/intake/IntakeClient.js";
import { IntakeForwarder } from "../../lib/intake/IntakeForwarder.js";
import { createLogger, type Logger } from "../../lib/runtime/createLogger.js";
import { Liveness } from "../../lib/runtime/Liveness.js";
import { Metrics } from "../../lib/runtime/Metrics.js";
import { SecretRedactor, maskIntakeKey } from "../../lib/runtime/SecretRedactor.js";
import { counterValue, promiseState, tracker } from "../support/TestHelpers.js";

const INTAKE_KEY = "f00dfeed-0000-4000-8000-123456789abc";
const MASKED_KEY = maskIntakeKey(INTAKE_KEY);
const BAD = "BAD-EVENT";

interface HeldRequest {
  events: string[];
  answered: boolean;
  answer(status: number): void;
}

/**
 * An intake on 127.0.0.1 whose answers the test controls: `policy` answers at once with a
 * status, or returns "hold" and the test answers later. Counts the requests in flight.
 */
class GatedIntake {
  readonly requests: HeldRequest[] = [];
  readonly accepted: string[] = [];
  policy: (events: string[]) => number | "hold" = () => 200;
  inFlight = 0;
  maxInFlight = 0;
  private waiters: { count: number; resolve: () => void }[] = [];
  private readonly open = new Set<ServerResponse>();
  private readonly server: Server = createServer((req, res) => {
    const parts: Buffer[] = [];
    req.on("data", (chunk: Buffer) => parts.push(chunk));
    req.on("end", () => {
      const { jsons } = JSON.parse(Buffer.concat(parts).toString("utf8")) as { jsons: string[] };
      this.inFlight += 1;
      this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
      this.open.add(res);
      const held: HeldRequest = {
        events: jsons,
        answered: false,
        answer: (status) => {
          if (held.answered) {
            return;
          }
          held.answered = true;
          this.inFlight -= 1;
          this.open.delete(res);
          if (status === 200) {
            this.accepted.push(...jsons);
          }
          res.writeHead(status, { "content-type": "application/json" }).end("{}");
        },
      };
      this.requests.push(held);
      const decision = this.policy(jsons);
      if (decision !== "hold") {
        held.answer(decision);
      }
      this.notify();
    });
  });

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async start(): Promise<this> {
    await new Promise<void>((resolve) => this.server.listen(0, "127.0.0.1", resolve));

    return this;
  }

  /** Resolves once `count` requests arrived. */
  waitForRequests(count: number): Promise<void> {
    if (this.requests.length >= count) {
      return Promise.resolve();
    }

    return new Promise((resolve) => this.waiters.push({ count, resolve }));
  }

  async stop(): Promise<void> {
    for (const res of this.open) {
      res.destroy();
    }
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private notify(): void {
    const ready = this.waiters.filter((waiter) => this.requests.length >= waiter.count);
    this.waiters = this.waiters.filter((waiter) => this.requests.length < waiter.count);
    for (const waiter of ready) {
      waiter.resolve();
    }
  }
}

void describe("IntakeForwarder", () => {
  let intake: GatedIntake;
  let http: HttpTransport;
  let logs: PassThrough;
  let logText: string;
  let logger: Logger;
  let metrics: Metrics;
  let liveness: Liveness;
  let shutdown: AbortController;

  beforeEach(async () => {
    intake = await new GatedIntake().start();
    http = new HttpTransport();
    logs = new PassThrough();
    logText = "";
    logs.on("data", (chunk: Buffer) => (logText += chunk.toString("utf8")));
    logger = createLogger({ redactor: new SecretRedactor(), stream: logs, level: "debug" });
    metrics = new Metrics({ defaultMetrics: false });
    liveness = new Liveness();
    shutdown = new AbortController();
  });

  afterEach(async () => {
    shutdown.abort();
    logger.close();
    http.close();
    await intake.stop();
  });

  function forwarder(
    options: { maxBatchBytes?: number; maxConcurrentRequests?: number } = {},
  ): IntakeForwarder {
    const client = new IntakeClient({
      intakeServer: intake.url,
      maskedKey: MASKED_KEY,
      userAgent: "unit-test",
      http,
      logger,
      metrics,
      liveness,
      retryDelayMs: { initial: 5, max: 20, rejectedMax: 20 },
      requestTimeoutMs: 5_000,
    });

    return new IntakeForwarder({
      client,
      intakeKey: INTAKE_KEY,
      maskedKey: MASKED_KEY,
      maxBatchBytes: options.maxBatchBytes ?? 64 * 1024,
      maxConcurrentRequests: options.maxConcurrentRequests ?? 4,
      logger,
      metrics,
      liveness,
      signal: shutdown.signal,
    });
  }

  void test("confirms the events of every owner only once the intake accepted them", async () => {
    intake.policy = () => "hold";
    const sink = forwarder();
    const a = tracker("iplogs/a.csv.gz");
    const b = tracker("iplogs/b.csv.gz");
    sink.add(Buffer.from("a1"), a);
    sink.add(Buffer.from("b1"), b);
    sink.add(Buffer.from("a2"), a);
    a.finishReading();
    b.finishReading();

    sink.objectEnded(a);
    await intake.waitForRequests(1);

    assert.deepEqual(intake.requests[0]?.events, ["a1", "b1", "a2"]);
    assert.equal(a.eventsConfirmed, 0);
    assert.equal(await promiseState(a.delivered), "pending");
    assert.equal(await promiseState(b.delivered), "pending");
    assert.equal(liveness.report().last_events_time, undefined);

    intake.requests[0]?.answer(200);
    await Promise.all([a.delivered, b.delivered]);

    assert.equal(a.eventsAdded, 2);
    assert.equal(a.eventsConfirmed, 2);
    assert.equal(b.eventsConfirmed, 1);
    assert.notEqual(liveness.report().last_events_time, undefined);
    const forwarded = await metrics.forwardedEvents.get();
    assert.equal(forwarded.values[0]?.value, 3);
    assert.equal(forwarded.values[0]?.labels.intake_key, MASKED_KEY);
    await sink.close();
  });

  void test("sends nothing for an object whose events are not in the chunk being built", async () => {
    const sink = forwarder();
    const a = tracker("a");
    const idle = tracker("idle");
    sink.add(Buffer.from("a1"), a);

    sink.objectEnded(idle);
    await new Promise((resolve) => setImmediate(resolve));

    assert.equal(intake.requests.length, 0);
    await sink.close();
    assert.deepEqual(intake.accepted, ["a1"]);
  });

  void test("starts a new batch when a line does not fit, keeping every line", async () => {
    const sink = forwarder({ maxBatchBytes: 200 });
    const owner = tracker("a");
    const lines = Array.from({ length: 20 }, (_, index) => `line-${index}-${"x".repeat(30)}`);
    for (const line of lines) {
      sink.add(Buffer.from(line), owner);
    }
    owner.finishReading();
    await sink.close();
    await owner.delivered;

    assert.ok(intake.requests.length > 1);
    assert.deepEqual([...intake.accepted].sort(), [...lines].sort());
    assert.equal(owner.eventsConfirmed, 20);
  });

  void test("splits a refused batch until the culprit is alone, drops it and delivers the rest", async () => {
    intake.policy = (events) => (events.includes(BAD) ? 400 : 200);
    const sink = forwarder();
    const a = tracker("iplogs/a.csv.gz");
    const b = tracker("iplogs/b.csv.gz");
    const sent: string[] = [];
    for (let index = 0; index < 9; index += 1) {
      const owner = index % 3 === 1 ? b : a;
      const line = index === 4 ? BAD : `event-${index}`;
      sent.push(line);
      sink.add(Buffer.from(line), owner);
    }
    a.finishReading();
    b.finishReading();

    await sink.close();
    await Promise.all([a.delivered, b.delivered]);

    const expected = sent.filter((line) => line !== BAD);
    assert.deepEqual([...intake.accepted].sort(), [...expected].sort());
    assert.equal(new Set(intake.accepted).size, intake.accepted.length, "no event sent twice");
    assert.equal(a.eventsConfirmed, 6);
    assert.equal(b.eventsConfirmed, 3);
    assert.equal(
      intake.requests.filter((request) => request.events.length === 1 && request.events[0] === BAD)
        .length,
      1,
    );
    assert.equal(
      await counterValue(metrics.discardedEvents, { intake_key: MASKED_KEY, reason: "refused" }),
      1,
    );
    const dropped = logText
      .split("\n")
      .filter((line) => line.includes("the intake refused an event, it is dropped"))
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    assert.equal(dropped.length, 1);
    assert.equal(dropped[0]?.["key"], "iplogs/b.csv.gz");
    assert.equal(dropped[0]?.["status"], 400);
    assert.equal(dropped[0]?.["eventBytes"], BAD.length);
  });

  void test("drops each of two culprits of one batch and keeps the rest", async () => {
    intake.policy = (events) => (events.some((event) => event.startsWith(BAD)) ? 413 : 200);
    const sink = forwarder();
    const owner = tracker("a");
    const lines = ["ok-1", `${BAD}-1`, "ok-2", "ok-3", "ok-4", `${BAD}-2`, "ok-5"];
    for (const line of lines) {
      sink.add(Buffer.from(line), owner);
    }
    owner.finishReading();

    await sink.close();
    await owner.delivered;

    assert.deepEqual([...intake.accepted].sort(), ["ok-1", "ok-2", "ok-3", "ok-4", "ok-5"]);
    assert.equal(owner.eventsConfirmed, 7);
    assert.equal(
      await counterValue(metrics.discardedEvents, { intake_key: MASKED_KEY, reason: "refused" }),
      2,
    );
  });

  void test("keeps escaped and non-ASCII events intact through a split", async () => {
    intake.policy = (events) => (events.includes(BAD) ? 400 : 200);
    const sink = forwarder();
    const owner = tracker("a");
    const lines = ['"quoted"', "back\\slash", "tab\tnul\u0000", "café €", BAD, "😀"];
    for (const line of lines) {
      sink.add(Buffer.from(line), owner);
    }
    owner.finishReading();

    await sink.close();

    assert.deepEqual([...intake.accepted].sort(), lines.filter((line) => line !== BAD).sort());
  });

  void test("holds at most maxConcurrentRequests requests in flight and reports congestion", async () => {
    intake.policy = () => "hold";
    const sink = forwarder({ maxConcurrentRequests: 2 });
    const owners = [tracker("o1"), tracker("o2"), tracker("o3")];

    assert.equal(sink.congested, false);
    assert.equal(await promiseState(sink.drained()), "resolved");
    for (const [index, owner] of owners.entries()) {
      sink.add(Buffer.from(`event-${index}`), owner);
      sink.objectEnded(owner);
    }
    await intake.waitForRequests(2);

    assert.equal(sink.congested, true);
    const drained = sink.drained();
    assert.equal(await promiseState(drained), "pending");
    assert.equal(intake.requests.length, 2, "the third batch waits");

    intake.requests[0]?.answer(200);
    await intake.waitForRequests(3);
    assert.equal(sink.congested, true, "the waiting batch took the free place");
    assert.equal(await promiseState(drained), "pending");

    intake.requests[1]?.answer(200);
    await drained;
    assert.equal(sink.congested, false);

    const closed = sink.close();
    assert.equal(await promiseState(closed), "pending");
    intake.requests[2]?.answer(200);
    await closed;
    assert.equal(intake.maxInFlight, 2);
    assert.deepEqual([...intake.accepted].sort(), ["event-0", "event-1", "event-2"]);
  });

  void test("keeps the requests in flight bounded when a reader waits on drained()", async () => {
    intake.policy = () => "hold";
    const maxConcurrentRequests = 3;
    const sink = forwarder({ maxBatchBytes: 256, maxConcurrentRequests });
    const owner = tracker("big");
    const reader = (async () => {
      for (let index = 0; index < 400; index += 1) {
        if (sink.congested) {
          await sink.drained();
        }
        sink.add(Buffer.from(`line-${index}-${"y".repeat(40)}`), owner);
      }
      owner.finishReading();
      await sink.close();
    })();
    let answered = 0;
    while ((await promiseState(reader)) === "pending") {
      await intake.waitForRequests(answered + 1);
      assert.ok(intake.inFlight <= maxConcurrentRequests, `${intake.inFlight} in flight`);
      intake.requests[answered]?.answer(200);
      answered += 1;
    }
    await reader;
    await owner.delivered;

    assert.ok(intake.maxInFlight <= maxConcurrentRequests, `max ${intake.maxInFlight}`);
    assert.equal(intake.accepted.length, 400);
  });

  void test("close() waits for every request, the last partial batch included", async () => {
    intake.policy = () => "hold";
    const sink = forwarder();
    const owner = tracker("a");
    sink.add(Buffer.from("only"), owner);
    owner.finishReading();

    const closed = sink.close();
    await intake.waitForRequests(1);
    assert.equal(await promiseState(closed), "pending");
    assert.equal(await promiseState(owner.delivered), "pending");

    intake.requests[0]?.answer(200);
    await closed;
    await owner.delivered;
    assert.deepEqual(intake.accepted, ["only"]);
  });

  void test("close() resolves at once when nothing was added", async () => {
    const sink = forwarder();

    assert.equal(await promiseState(sink.close()), "resolved");
    assert.equal(intake.requests.length, 0);
  });

  void test("drops no event when the intake refuses them all: their objects fail", async () => {
    intake.policy = () => 400;
    const sink = forwarder();
    const a = tracker("a");
    const b = tracker("b");
    for (const line of ["a1", "a2", "a3"]) {
      sink.add(Buffer.from(line), a);
    }
    sink.add(Buffer.from("b1"), b);
    a.finishReading();
    b.finishReading();

    await sink.close();

    for (const owner of [a, b]) {
      await assert.rejects(
        owner.delivered,
        (error: unknown) => error instanceof IntakeError && error.kind === "refused-batch",
      );
    }
    assert.equal(await counterValue(metrics.discardedEvents, { reason: "refused" }), 0);
    assert.equal(intake.requests.length, 7, "the batch of 4, two halves, four singles");
  });

  void test("fails the owners when the shutdown aborts the requests in flight", async () => {
    intake.policy = () => "hold";
    const sink = forwarder();
    const owner = tracker("a");
    sink.add(Buffer.from("a1"), owner);
    owner.finishReading();
    const closed = sink.close();
    await intake.waitForRequests(1);

    shutdown.abort();
    await closed;

    await assert.rejects(
      owner.delivered,
      (error: unknown) => error instanceof IntakeError && error.kind === "aborted",
    );
  });
});
