import { Readable, Writable } from "node:stream";

import type { S3Client } from "@aws-sdk/client-s3";

import { HttpTransport, type HttpRequest, type HttpResponse } from "../lib/http/HttpTransport.js";
import { IntakeClient } from "../lib/intake/IntakeClient.js";
import { IntakeForwarder } from "../lib/intake/IntakeForwarder.js";
import { DEFAULT_BATCH_MAX_BYTES, INTAKE_MAX_EVENT_BYTES } from "../lib/intake/IntakeLimits.js";
import { createLogger, type Logger } from "../lib/runtime/createLogger.js";
import { Liveness } from "../lib/runtime/Liveness.js";
import { Metrics } from "../lib/runtime/Metrics.js";
import { SecretRedactor, maskIntakeKey } from "../lib/runtime/SecretRedactor.js";
import { ObjectProcessor } from "../lib/s3queue/ObjectProcessor.js";
import { ObjectReader } from "../lib/s3queue/ObjectReader.js";
import type { ObjectRef } from "../lib/s3queue/ObjectRef.js";
import { UmbrellaIpLogsTrigger } from "../triggers/UmbrellaIpLogsTrigger.js";

/** What a socket typically hands out at once; the S3 body stream comes in such pieces. */
export const BODY_PIECE_BYTES = 64 * 1024;
/** The trigger configuration's defaults (schemas/trigger_cisco_umbrella_ip_logs.json). */
const DEFAULT_CONCURRENT_REQUESTS = 4;
const DEFAULT_CONCURRENT_OBJECTS = 4;
const BENCH_INTAKE_KEY = "bench-intake-key-0000000000";
const BENCH_BUCKET = "umbrella-bench";

/** One pass of an object through a measured path. */
export interface PassResult {
  seconds: number;
  lines: number;
  textBytes: number;
}

/** An intake transport that accepts every body at once, without I/O, and counts them. */
class InstantTransport extends HttpTransport {
  bodies = 0;
  bodyBytes = 0;

  override request(request: HttpRequest): Promise<HttpResponse> {
    this.bodies += 1;
    this.bodyBytes += request.body?.length ?? 0;

    return Promise.resolve({ status: 200, headers: {}, body: "" });
  }
}

/** The stand-in S3 client: GetObject answers with the gzip bytes, in socket-sized pieces. */
function memoryS3(gz: Buffer): S3Client {
  const pieces: Buffer[] = [];
  for (let start = 0; start < gz.length; start += BODY_PIECE_BYTES) {
    pieces.push(gz.subarray(start, start + BODY_PIECE_BYTES));
  }
  const send = (): Promise<{ Body: Readable; ETag: string }> =>
    Promise.resolve({ Body: Readable.from(pieces, { objectMode: false }), ETag: '"bench"' });

  return { send } as unknown as S3Client;
}

function silentLogger(): Logger {
  const sink = new Writable({
    write(_chunk, _encoding, callback): void {
      callback();
    },
  });

  return createLogger({ redactor: new SecretRedactor(), stream: sink, level: "warning" });
}

/**
 * The trigger's object path in-process: ObjectReader (gzip detection, GunzipFeeder,
 * LineSplitter), ObjectProcessor with the Umbrella trigger as policy (header check),
 * IntakeForwarder and ChunkBuilder with the default batch size and concurrency, IntakeClient;
 * only the network is replaced, by an S3 stand-in and an intake that answers 200 at once.
 */
export class ObjectPathRun {
  private readonly transport = new InstantTransport();
  private readonly metrics = new Metrics({ defaultMetrics: false });
  private readonly processor: ObjectProcessor;
  private readonly forwarder: IntakeForwarder;
  private passes = 0;

  constructor(
    private readonly textBytes: number,
    gz: Buffer,
  ) {
    const logger = silentLogger();
    const liveness = new Liveness();
    const maskedKey = maskIntakeKey(BENCH_INTAKE_KEY);
    const work = new AbortController();
    const client = new IntakeClient({
      intakeServer: "http://127.0.0.1:9",
      maskedKey,
      userAgent: "bench",
      http: this.transport,
      logger,
      metrics: this.metrics,
      liveness,
    });
    this.forwarder = new IntakeForwarder({
      client,
      intakeKey: BENCH_INTAKE_KEY,
      maskedKey,
      maxBatchBytes: DEFAULT_BATCH_MAX_BYTES,
      maxConcurrentRequests: DEFAULT_CONCURRENT_REQUESTS,
      logger,
      metrics: this.metrics,
      liveness,
      signal: work.signal,
    });
    this.processor = new ObjectProcessor({
      reader: new ObjectReader(memoryS3(gz), { maxLineBytes: INTAKE_MAX_EVENT_BYTES }),
      sink: this.forwarder,
      policy: new UmbrellaIpLogsTrigger(),
      logger,
      metrics: this.metrics,
      maskedKey,
      maxConcurrentObjects: DEFAULT_CONCURRENT_OBJECTS,
      duplicateWindowSeconds: 0,
      work: work.signal,
    });
  }

  /** Reads the object once, until the intake stand-in accepted its last event. */
  async pass(): Promise<PassResult> {
    this.passes += 1;
    const before = await this.forwardedEvents();
    const started = performance.now();
    const outcome = await this.processor.process(this.ref(), `bench-${this.passes}`);
    const seconds = (performance.now() - started) / 1000;
    if (outcome.status !== "delivered") {
      throw new Error(`object path: the object was not delivered (${outcome.status})`);
    }

    return { seconds, lines: (await this.forwardedEvents()) - before, textBytes: this.textBytes };
  }

  private ref(): ObjectRef {
    return {
      bucket: BENCH_BUCKET,
      key: `iplogs/bench/pass-${this.passes}.csv.gz`,
      size: undefined,
      etag: `"bench-${this.passes}"`,
      sequencer: undefined,
      versionId: undefined,
      eventTime: undefined,
      source: "s3",
    };
  }

  private async forwardedEvents(): Promise<number> {
    const values = (await this.metrics.forwardedEvents.get()).values;

    return values.reduce((sum, sample) => sum + sample.value, 0);
  }
}
