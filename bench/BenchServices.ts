import { fork, type ChildProcess } from "node:child_process";
import { open } from "node:fs/promises";
import { fileURLToPath } from "node:url";

import {
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
} from "@aws-sdk/client-s3";
import { GetQueueUrlCommand, SendMessageCommand, SQSClient } from "@aws-sdk/client-sqs";

import { s3Notification } from "../test/support/TriggerHarness.js";
import {
  BENCH_BUCKET,
  BENCH_CREDENTIALS,
  BENCH_QUEUE,
  BENCH_REGION,
  type ServicesReply,
  type ServicesRequest,
} from "./ServicesProtocol.js";

/** fauxqs refuses bodies over 11 MiB: objects go up in parts of this size. */
const UPLOAD_PART_BYTES = 8 * 1024 * 1024;
const SERVICES_START_TIMEOUT_MS = 30_000;

type Pending = (reply: ServicesReply) => void;
type RequestWithoutId = ServicesRequest extends infer R
  ? R extends unknown
    ? Omit<R, "id">
    : never
  : never;

/** When the intake had every expected event, and what it received for them. */
export interface Delivery {
  /** Epoch milliseconds. */
  at: number;
  /** Events accepted since the reset, at that time. */
  events: number;
  batches: number;
  bytes: number;
  refused: number;
}

/**
 * The bench's side of the services process (services.ts): starts it, uploads objects and
 * announces them as S3 does, with SDK clients aimed at the emulator on 127.0.0.1 and fake
 * credentials, and waits for the intake to count events.
 */
export class BenchServices {
  emulatorUrl = "";
  intakeUrl = "";
  queueUrl = "";
  private readonly child: ChildProcess;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private s3: S3Client | undefined;
  private sqs: SQSClient | undefined;

  private constructor() {
    const entry = fileURLToPath(new URL("./services.js", import.meta.url));
    this.child = fork(entry, [], {
      stdio: ["ignore", "inherit", "inherit", "ipc"],
      env: { PATH: process.env["PATH"] ?? "" },
    });
    this.child.on("message", (reply: ServicesReply) => this.onReply(reply));
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  static async start(): Promise<BenchServices> {
    const services = new BenchServices();
    await services.ready();

    return services;
  }

  async stop(): Promise<void> {
    this.s3?.destroy();
    this.sqs?.destroy();
    const exited = new Promise((resolve) => this.child.once("exit", resolve));
    await this.request({ kind: "stop" });
    await exited;
  }

  /** Streams a file up as one object, in parts when it is large. */
  async upload(key: string, path: string, size: number): Promise<void> {
    const s3 = this.s3Client();
    const file = await open(path);
    try {
      if (size <= UPLOAD_PART_BYTES) {
        const body = await file.readFile();
        await s3.send(new PutObjectCommand({ Bucket: BENCH_BUCKET, Key: key, Body: body }));

        return;
      }
      await this.uploadParts(s3, key, file, size);
    } finally {
      await file.close();
    }
  }

  /** Sends the notification S3 sends for a new object; resolves when it is on the queue. */
  async notify(key: string): Promise<void> {
    const body = JSON.stringify(s3Notification([key], { bucket: BENCH_BUCKET }));
    await this.sqsClient().send(
      new SendMessageCommand({ QueueUrl: this.queueUrl, MessageBody: body }),
    );
  }

  async resetIntake(): Promise<void> {
    await this.request({ kind: "reset" });
  }

  /** Resolves once the intake accepted `events` events since the last reset. */
  async waitForEvents(events: number, timeoutMs: number): Promise<Delivery> {
    const reply = await this.request({ kind: "expect", events }, timeoutMs);
    if (reply.kind !== "reached") {
      throw new Error(`services: unexpected reply ${reply.kind}`);
    }

    const { at, events: accepted, batches, bytes, refused } = reply;

    return { at, events: accepted, batches, bytes, refused };
  }

  async queueDepth(): Promise<number> {
    const reply = await this.request({ kind: "depth" });

    return reply.kind === "depth" ? reply.messages : -1;
  }

  private async ready(): Promise<void> {
    const reply = await new Promise<ServicesReply>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error("services did not start")),
        SERVICES_START_TIMEOUT_MS,
      );
      this.pending.set(0, (message) => {
        clearTimeout(timer);
        resolve(message);
      });
    });
    if (reply.kind !== "ready") {
      throw new Error(`services: unexpected first message ${reply.kind}`);
    }
    this.emulatorUrl = reply.emulator;
    this.intakeUrl = reply.intake;
    const queue = await this.sqsClient().send(new GetQueueUrlCommand({ QueueName: BENCH_QUEUE }));
    this.queueUrl = queue.QueueUrl ?? "";
  }

  private request(
    message: RequestWithoutId,
    timeoutMs = SERVICES_START_TIMEOUT_MS,
  ): Promise<ServicesReply> {
    const id = this.nextId;
    this.nextId += 1;

    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`services: no answer to ${message.kind} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(id, (reply) => {
        clearTimeout(timer);
        resolve(reply);
      });
      this.child.send({ ...message, id });
    });
  }

  private onReply(reply: ServicesReply): void {
    const id = reply.kind === "ready" ? 0 : reply.id;
    const pending = this.pending.get(id);
    this.pending.delete(id);
    pending?.(reply);
  }

  private async uploadParts(
    s3: S3Client,
    key: string,
    file: Awaited<ReturnType<typeof open>>,
    size: number,
  ): Promise<void> {
    const upload = await s3.send(
      new CreateMultipartUploadCommand({ Bucket: BENCH_BUCKET, Key: key }),
    );
    const parts: { ETag: string; PartNumber: number }[] = [];
    for (let start = 0, number = 1; start < size; start += UPLOAD_PART_BYTES, number += 1) {
      const part = Buffer.alloc(Math.min(UPLOAD_PART_BYTES, size - start));
      await file.read(part, 0, part.length, start);
      const uploaded = await s3.send(
        new UploadPartCommand({
          Bucket: BENCH_BUCKET,
          Key: key,
          UploadId: upload.UploadId,
          PartNumber: number,
          Body: part,
        }),
      );
      parts.push({ ETag: uploaded.ETag ?? "", PartNumber: number });
    }
    await s3.send(
      new CompleteMultipartUploadCommand({
        Bucket: BENCH_BUCKET,
        Key: key,
        UploadId: upload.UploadId,
        MultipartUpload: { Parts: parts },
      }),
    );
  }

  private s3Client(): S3Client {
    this.s3 ??= new S3Client({
      region: BENCH_REGION,
      endpoint: this.emulatorUrl,
      credentials: BENCH_CREDENTIALS,
      forcePathStyle: true,
    });

    return this.s3;
  }

  private sqsClient(): SQSClient {
    this.sqs ??= new SQSClient({
      region: BENCH_REGION,
      endpoint: this.emulatorUrl,
      credentials: BENCH_CREDENTIALS,
      useQueueUrlAsEndpoint: false,
    });

    return this.sqs;
  }
}
