import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";

import {
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  PutObjectCommand,
  UploadPartCommand,
} from "@aws-sdk/client-s3";
import { GetQueueUrlCommand, SendMessageCommand } from "@aws-sdk/client-sqs";

import { startEmulator, TEST_CREDENTIALS, TEST_REGION, type Emulator } from "./Emulator.js";
import { IntakeServer } from "./IntakeServer.js";

/** fauxqs refuses bodies over 11 MiB: bigger objects go up in parts of this size. */
const UPLOAD_PART_BYTES = 8 * 1024 * 1024;

export const TEST_INTAKE_KEY = "intake-key-for-tests-0123456789";
export const TEST_BUCKET = "umbrella-logs";
export const TEST_QUEUE = "umbrella-iplogs";

/** A structured log line written by the trigger process. */
export interface TriggerLog {
  level: string;
  message: string;
  [field: string]: unknown;
}

/** A trigger process started the way the platform starts it, with its logs parsed. */
export class TriggerProcess {
  readonly logs: TriggerLog[] = [];
  readonly stderr: string[] = [];
  readonly exited: Promise<number | null>;
  private readonly waiters: {
    test: (log: TriggerLog) => boolean;
    resolve: (log: TriggerLog) => void;
  }[] = [];

  constructor(readonly child: ChildProcess) {
    createInterface({ input: child.stdout! }).on("line", (line) => this.onLine(line));
    createInterface({ input: child.stderr! }).on("line", (line) => this.stderr.push(line));
    this.exited = new Promise((resolve) => child.on("exit", (code) => resolve(code)));
  }

  /** Resolves with the first log line (past or future) matching `test`. */
  waitForLog(test: (log: TriggerLog) => boolean, timeoutMs = 20_000): Promise<TriggerLog> {
    const found = this.logs.find(test);
    if (found !== undefined) {
      return Promise.resolve(found);
    }

    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        reject(
          new Error(
            `no matching log line in ${timeoutMs} ms; last: ${JSON.stringify(this.logs.slice(-5))}`,
          ),
        );
      }, timeoutMs);
      this.waiters.push({
        test,
        resolve: (log) => {
          clearTimeout(timer);
          resolve(log);
        },
      });
    });
  }

  /** The Prometheus text of the trigger's metrics endpoint. */
  async scrapeMetrics(): Promise<string> {
    const monitoring = await this.waitForLog((log) => log.message === "monitoring");
    const response = await fetch(`http://127.0.0.1:${String(monitoring["metricsPort"])}/metrics`);

    return response.text();
  }

  /** The value of one sample, e.g. `metric("umbrella_s3_objects_total", {outcome: "missing"})`. */
  async metric(name: string, labels: Record<string, string> = {}): Promise<number> {
    const text = await this.scrapeMetrics();

    return metricValue(text, name, labels);
  }

  /** GET /health on the trigger's liveness port. */
  async health(): Promise<{ status: number; body: Record<string, unknown> }> {
    const monitoring = await this.waitForLog((log) => log.message === "monitoring");
    const response = await fetch(`http://127.0.0.1:${String(monitoring["livenessPort"])}/health`);

    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  }

  /** Sends SIGTERM and resolves with the exit code. */
  async stop(signal: NodeJS.Signals = "SIGTERM"): Promise<number | null> {
    if (this.child.exitCode === null && this.child.signalCode === null) {
      this.child.kill(signal);
    }

    return this.exited;
  }

  private onLine(line: string): void {
    let log: TriggerLog;
    try {
      log = JSON.parse(line) as TriggerLog;
    } catch {
      log = { level: "raw", message: line };
    }
    this.logs.push(log);
    for (let index = this.waiters.length - 1; index >= 0; index -= 1) {
      const waiter = this.waiters[index];
      if (waiter !== undefined && waiter.test(log)) {
        this.waiters.splice(index, 1);
        waiter.resolve(log);
      }
    }
  }
}

/**
 * Everything an end-to-end test of the trigger needs: fauxqs in-process, a node:http intake, a
 * bucket and a queue, helpers to upload objects and send notifications the way S3 does, and a
 * way to start the real entry point (`node dist/main.js <command>`) with its configuration in a
 * /symphony-like directory, exactly as in production.
 */
export class TriggerHarness {
  readonly intake = new IntakeServer();
  emulator!: Emulator;
  queueUrl = "";
  private readonly directories: string[] = [];
  private readonly processes: TriggerProcess[] = [];

  async start(
    options: { queueAttributes?: Record<string, string>; deadLetterQueue?: string } = {},
  ): Promise<this> {
    this.emulator = await startEmulator();
    await this.intake.start();
    this.emulator.server.createBucket(TEST_BUCKET);
    if (options.deadLetterQueue !== undefined) {
      this.emulator.server.createQueue(options.deadLetterQueue, { region: TEST_REGION });
    }
    this.emulator.server.createQueue(TEST_QUEUE, {
      region: TEST_REGION,
      ...(options.queueAttributes ? { attributes: options.queueAttributes } : {}),
    });
    const response = await this.emulator.sqs.send(
      new GetQueueUrlCommand({ QueueName: TEST_QUEUE }),
    );
    this.queueUrl = response.QueueUrl ?? "";

    return this;
  }

  async stop(): Promise<void> {
    await Promise.all(this.processes.map((process) => process.stop("SIGKILL")));
    await this.intake.stop();
    await this.emulator.stop();
    for (const directory of this.directories) {
      rmSync(directory, { recursive: true, force: true });
    }
  }

  /** Uploads an object; large bodies go up in parts, as fauxqs requires. */
  async putObject(key: string, body: Buffer, bucket = TEST_BUCKET): Promise<string> {
    const s3 = this.emulator.s3;
    if (body.length <= UPLOAD_PART_BYTES) {
      const response = await s3.send(
        new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }),
      );

      return response.ETag ?? "";
    }
    const upload = await s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: key }));
    const parts: { ETag: string; PartNumber: number }[] = [];
    for (let start = 0, number = 1; start < body.length; start += UPLOAD_PART_BYTES, number += 1) {
      const part = await s3.send(
        new UploadPartCommand({
          Bucket: bucket,
          Key: key,
          UploadId: upload.UploadId,
          PartNumber: number,
          Body: body.subarray(start, start + UPLOAD_PART_BYTES),
        }),
      );
      parts.push({ ETag: part.ETag ?? "", PartNumber: number });
    }
    const done = await s3.send(
      new CompleteMultipartUploadCommand({
        Bucket: bucket,
        Key: key,
        UploadId: upload.UploadId,
        MultipartUpload: { Parts: parts },
      }),
    );

    return done.ETag ?? "";
  }

  /** Sends a raw message body to the queue; resolves to its message id. */
  async sendBody(body: string): Promise<string> {
    const response = await this.emulator.sqs.send(
      new SendMessageCommand({ QueueUrl: this.queueUrl, MessageBody: body }),
    );

    return response.MessageId ?? "";
  }

  /** Announces objects the way S3 does: one message, one ObjectCreated record per key. */
  notify(
    keys: readonly string[],
    options: { bucket?: string; etags?: string[] } = {},
  ): Promise<string> {
    return this.sendBody(JSON.stringify(s3Notification(keys, options)));
  }

  /** Messages still in the queue: ready, in flight and delayed. */
  queueDepth(): { ready: number; inflight: number; delayed: number } {
    const state = this.emulator.server.inspectQueue(TEST_QUEUE);

    return {
      ready: state?.messages.ready.length ?? 0,
      inflight: state?.messages.inflight.length ?? 0,
      delayed: state?.messages.delayed.length ?? 0,
    };
  }

  /** Resolves once no message is left in the queue (ready, in flight or delayed). */
  async waitForEmptyQueue(timeoutMs = 20_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const depth = this.queueDepth();
      if (depth.ready + depth.inflight + depth.delayed === 0) {
        return;
      }
      if (Date.now() > deadline) {
        throw new Error(`queue not empty after ${timeoutMs} ms: ${JSON.stringify(depth)}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  /** Writes the configuration files and starts `node dist/main.js <command>`. */
  startTrigger(
    options: {
      trigger?: Record<string, unknown>;
      module?: Record<string, unknown>;
      command?: string;
      env?: Record<string, string>;
      files?: Record<string, string>;
    } = {},
  ): TriggerProcess {
    const directory = mkdtempSync(join(tmpdir(), "symphony-"));
    this.directories.push(directory);
    const module = options.module ?? {
      aws_region_name: TEST_REGION,
      aws_access_key: TEST_CREDENTIALS.accessKeyId,
      aws_secret_access_key: TEST_CREDENTIALS.secretAccessKey,
    };
    const trigger = options.trigger ?? {};
    writeFileSync(join(directory, "module_configuration"), JSON.stringify(module));
    writeFileSync(
      join(directory, "trigger_configuration"),
      JSON.stringify({
        queue_name: TEST_QUEUE,
        intake_key: TEST_INTAKE_KEY,
        intake_server: this.intake.url,
        shutdown_grace_seconds: 5,
        receive_wait_seconds: 1,
        ...trigger,
      }),
    );
    for (const [name, content] of Object.entries(options.files ?? {})) {
      writeFileSync(join(directory, name), content);
    }
    const child = spawn(
      process.execPath,
      ["dist/main.js", options.command ?? "cisco_umbrella_ip_logs"],
      {
        env: {
          PATH: process.env["PATH"] ?? "",
          SYMPHONY_DIR: directory,
          AWS_ENDPOINT_URL: this.emulator.address,
          AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true",
          LIVENESS_PORT: "0",
          METRICS_PORT: "0",
          MONITORING_HOST: "127.0.0.1",
          ...options.env,
        },
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    const started = new TriggerProcess(child);
    this.processes.push(started);

    return started;
  }
}

/** One sample of a Prometheus text exposition; 0 when absent. */
export function metricValue(
  text: string,
  name: string,
  labels: Record<string, string> = {},
): number {
  for (const line of text.split("\n")) {
    if (!line.startsWith(name)) {
      continue;
    }
    const match = /^([^{\s]+)(?:\{(.*)\})?\s+(\S+)$/.exec(line);
    if (match === null || match[1] !== name) {
      continue;
    }
    const found = new Map<string, string>();
    for (const pair of (match[2] ?? "").matchAll(/(\w+)="([^"]*)"/g)) {
      found.set(pair[1] ?? "", pair[2] ?? "");
    }
    if (Object.entries(labels).every(([key, value]) => found.get(key) === value)) {
      return Number(match[3]);
    }
  }

  return 0;
}

/** The body S3 sends for new objects: form-encoded keys, one record each. */
export function s3Notification(
  keys: readonly string[],
  options: { bucket?: string; etags?: string[]; eventName?: string } = {},
): { Records: unknown[] } {
  return {
    Records: keys.map((key, index) => ({
      eventVersion: "2.1",
      eventSource: "aws:s3",
      awsRegion: TEST_REGION,
      eventTime: new Date().toISOString(),
      eventName: options.eventName ?? "ObjectCreated:Put",
      s3: {
        s3SchemaVersion: "1.0",
        bucket: {
          name: options.bucket ?? TEST_BUCKET,
          arn: `arn:aws:s3:::${options.bucket ?? TEST_BUCKET}`,
        },
        object: {
          key: encodeURIComponent(key).replaceAll("%2F", "/").replaceAll("%20", "+"),
          size: 0,
          ...(options.etags?.[index] ? { eTag: options.etags[index]?.replaceAll('"', "") } : {}),
          sequencer: `0A1B2C3D4E5F${String(index).padStart(6, "0")}`,
        },
      },
    })),
  };
}
