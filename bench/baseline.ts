/**
 * The baseline, started by bench.ts as a process of its own: the whole-object approach of the
 * Python AWS module, for one notification. Receive the message, GetObject, read the whole
 * body into memory, gunzip it in one go, split it into lines, then push the events in chunks
 * of at most 9 MiB (counted in characters, as the Python SDK counts), one request after the
 * other, each body made by JSON.stringify; delete the message. Prints one JSON line with its
 * own figures when done.
 */
import { Agent, request } from "node:http";
import { gunzipSync } from "node:zlib";

import { GetObjectCommand, S3Client } from "@aws-sdk/client-s3";
import {
  DeleteMessageCommand,
  ReceiveMessageCommand,
  SQSClient,
  type Message,
} from "@aws-sdk/client-sqs";

import { peakRssBytes } from "./ProcessMemory.js";
import { BENCH_CREDENTIALS, BENCH_INTAKE_KEY, BENCH_REGION } from "./ServicesProtocol.js";

/** CHUNK_BYTES_MAX_SIZE of the Python SDK (RUNTIME.md section 7). */
const CHUNK_MAX_CHARS = 9_437_184;
const RECEIVE_WAIT_SECONDS = 20;
const LF = 0x0a;

const emulator = requiredEnv("BENCH_EMULATOR");
const queueUrl = requiredEnv("BENCH_QUEUE_URL");
const intake = new URL("batch", `${requiredEnv("BENCH_INTAKE")}/`);
const sqs = new SQSClient({
  region: BENCH_REGION,
  endpoint: emulator,
  credentials: BENCH_CREDENTIALS,
  useQueueUrlAsEndpoint: false,
});
const s3 = new S3Client({
  region: BENCH_REGION,
  endpoint: emulator,
  credentials: BENCH_CREDENTIALS,
  forcePathStyle: true,
});
const agent = new Agent({ keepAlive: true });

console.log(JSON.stringify({ ready: true }));
const message = await receiveOne();
const record = (JSON.parse(message.Body ?? "{}") as S3Event).Records[0];
if (record === undefined) {
  throw new Error("baseline: the message is not an S3 notification");
}
const key = decodeURIComponent(record.s3.object.key.replaceAll("+", " "));
const object = await s3.send(new GetObjectCommand({ Bucket: record.s3.bucket.name, Key: key }));
const stored = Buffer.from((await object.Body?.transformToByteArray()) ?? []);
const text = stored[0] === 0x1f && stored[1] === 0x8b ? gunzipSync(stored) : stored;
const lines = splitLines(text);
let requests = 0;
for (const chunk of chunks(lines)) {
  await post(JSON.stringify({ intake_key: BENCH_INTAKE_KEY, jsons: chunk }));
  requests += 1;
}
await sqs.send(
  new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: message.ReceiptHandle }),
);
console.log(JSON.stringify({ lines: lines.length, requests, peakRss: peakRssBytes(process.pid) }));
agent.destroy();
sqs.destroy();
s3.destroy();

interface S3Event {
  Records: { s3: { bucket: { name: string }; object: { key: string } } }[];
}

async function receiveOne(): Promise<Message> {
  for (;;) {
    const received = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: queueUrl,
        MaxNumberOfMessages: 1,
        WaitTimeSeconds: RECEIVE_WAIT_SECONDS,
      }),
    );
    const first = received.Messages?.[0];
    if (first !== undefined) {
      return first;
    }
  }
}

/** Every non-empty line as a string, CR dropped, as `str.splitlines()` would give them. */
function splitLines(whole: Buffer): string[] {
  const found: string[] = [];
  let start = 0;
  while (start < whole.length) {
    let end = whole.indexOf(LF, start);
    if (end === -1) {
      end = whole.length;
    }
    const line = whole.toString(
      "utf8",
      start,
      end > start && whole[end - 1] === 0x0d ? end - 1 : end,
    );
    if (line !== "") {
      found.push(line);
    }
    start = end + 1;
  }

  return found;
}

/** The Python SDK's chunking: a chunk is emitted before the event that would overflow it. */
function* chunks(events: readonly string[]): Generator<string[]> {
  let chunk: string[] = [];
  let size = 0;
  for (const event of events) {
    if (size + event.length > CHUNK_MAX_CHARS && chunk.length > 0) {
      yield chunk;
      chunk = [];
      size = 0;
    }
    chunk.push(event);
    size += event.length;
  }
  if (chunk.length > 0) {
    yield chunk;
  }
}

function post(body: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = request(
      intake,
      { method: "POST", agent, headers: { "content-type": "application/json" } },
      (res) => {
        res.resume();
        res.on("end", () =>
          res.statusCode === 200 ? resolve() : reject(new Error(`intake: HTTP ${res.statusCode}`)),
        );
      },
    );
    req.on("error", reject);
    req.end(body);
  });
}

function requiredEnv(name: string): string {
  const value = process.env[name];
  if (value === undefined || value === "") {
    throw new Error(`baseline: ${name} is not set`);
  }

  return value;
}
