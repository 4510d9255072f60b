import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough, Readable, Writable } from "node:stream";
import { after, before, describe, test } from "node:test";
import { gzipSync } from "node:zlib";

import { HttpTransport } from "../../lib/http/HttpTransport.js";
import { createLogger } from "../../lib/runtime/createLogger.js";
import { Liveness } from "../../lib/runtime/Liveness.js";
import { Metrics } from "../../lib/runtime/Metrics.js";
import type { RuntimeContext } from "../../lib/runtime/RuntimeContext.js";
import { SchemaValidator } from "../../lib/runtime/SchemaValidator.js";
import { SecretRedactor } from "../../lib/runtime/SecretRedactor.js";
import { SymphonyConfig } from "../../lib/runtime/SymphonyConfig.js";
import type { IpLogEvent } from "../../lib/umbrella/IpLogNormalizer.js";
import { NormalizeCommand } from "../../lib/umbrella/NormalizeCommand.js";

const SEED =
  '"2020-06-12 14:31:52","FR123","1.1.1.1","54128","2.2.2.2","443","","Roaming Computers"';
const IPV6 =
  '"2024-05-01 10:20:31","LAPTOP-0003","2001:db8:10::5","49152","2001:db8:ffff::1","8443","Malware","Anyconnect Roaming Client"';
const HEADER = '"Timestamp","Identity","Source IP","Source Port","Destination IP"';
const BAD_PORT = '"2024-05-01 10:20:34","H","192.0.2.14","70000","192.0.2.15","443","",""';
const FIVE_COLUMNS = '"2024-05-01 10:20:34","H","192.0.2.14","1","192.0.2.15"';

/** A writable that keeps what it receives; `delayMs` slows it down to provoke backpressure. */
class TextSink extends Writable {
  text = "";
  maxBuffered = 0;

  constructor(
    highWaterMark = 16_384,
    private readonly slow = false,
  ) {
    super({ highWaterMark, decodeStrings: false });
  }

  override _write(chunk: string, _encoding: BufferEncoding, done: () => void): void {
    this.text += chunk;
    this.maxBuffered = Math.max(this.maxBuffered, this.writableLength);
    if (this.slow) {
      setImmediate(done);
    } else {
      done();
    }
  }

  get events(): IpLogEvent[] {
    return this.text
      .split("\n")
      .filter((line) => line !== "")
      .map((line) => JSON.parse(line) as IpLogEvent);
  }
}

interface Run {
  exitCode: number;
  stdout: TextSink;
  stderr: TextSink;
}

const services: { http: HttpTransport[] } = { http: [] };

function contextFor(args: string[], shutdown = new AbortController().signal): RuntimeContext {
  const redactor = new SecretRedactor();
  const http = new HttpTransport();
  services.http.push(http);

  return {
    symphony: new SymphonyConfig({ directory: tmpdir(), env: {} }),
    logger: createLogger({ redactor, stream: new PassThrough() }),
    redactor,
    metrics: new Metrics({ defaultMetrics: false }),
    liveness: new Liveness(),
    http,
    validator: new SchemaValidator(),
    shutdown,
    args,
  };
}

async function runNormalize(
  args: string[],
  options: { stdin?: NodeJS.ReadableStream; stdout?: TextSink; maxLineChars?: number } = {},
): Promise<Run> {
  const stdout = options.stdout ?? new TextSink();
  const stderr = new TextSink();
  const command = new NormalizeCommand(stdout, {
    stderr,
    stdin: options.stdin ?? Readable.from([]),
    ...(options.maxLineChars === undefined ? {} : { maxLineChars: options.maxLineChars }),
  });

  const exitCode = await command.run(contextFor(args));

  return { exitCode, stdout, stderr };
}

void describe("NormalizeCommand", () => {
  let directory = "";

  before(async () => {
    directory = await mkdtemp(join(tmpdir(), "normalize-command-"));
  });

  after(async () => {
    await rm(directory, { recursive: true, force: true });
    for (const http of services.http) {
      http.close();
    }
  });

  async function writeLogFile(name: string, content: string | Buffer): Promise<string> {
    const path = join(directory, name);
    await writeFile(path, content);

    return path;
  }

  void test("writes one ECS JSON object per line of a plain file and skips the header", async () => {
    const path = await writeLogFile("plain.csv", `${HEADER}\n${SEED}\n${IPV6}\n`);

    const run = await runNormalize([path]);

    assert.equal(run.exitCode, 0);
    const events = run.stdout.events;
    assert.equal(events.length, 2);
    assert.equal(events[0]?.message, SEED);
    assert.deepStrictEqual(events[0]?.source, { ip: "1.1.1.1", address: "1.1.1.1", port: 54128 });
    assert.deepStrictEqual(events[0]?.umbrella, {
      identity: "FR123",
      identity_types: ["Roaming Computers"],
    });
    assert.equal(events[1]?.destination?.ip, "2001:db8:ffff::1");
    assert.match(run.stderr.text, /2 events from 3 lines, 0 rejected/);
  });

  void test("recognises gzip by content, whatever the file name, across gzip members", async () => {
    const members = Buffer.concat([gzipSync(`${SEED}\r\n`), gzipSync(`${IPV6}\r\n`)]);
    const path = await writeLogFile("no-extension", members);

    const run = await runNormalize([path]);

    assert.equal(run.exitCode, 0);
    assert.deepStrictEqual(
      run.stdout.events.map((event) => event.message),
      [SEED, IPV6],
    );
  });

  void test("reports malformed lines with file and line number and keeps going", async () => {
    const path = await writeLogFile(
      "mixed.csv",
      `${SEED}\n${BAD_PORT}\n\n${FIVE_COLUMNS}\n${IPV6}`,
    );

    const run = await runNormalize([path]);

    assert.equal(run.exitCode, 0);
    assert.equal(run.stdout.events.length, 2);
    assert.match(run.stderr.text, new RegExp(`${path}:2: .*source port "70000"`));
    assert.match(run.stderr.text, new RegExp(`${path}:4: .*at least 7 columns, got 5`));
    assert.match(run.stderr.text, /2 events from 5 lines, 2 rejected/);
  });

  void test("returns 1 when a file cannot be opened and still reads the others", async () => {
    const missing = join(directory, "missing.csv.gz");
    const present = await writeLogFile("present.csv", `${SEED}\n`);

    const run = await runNormalize([missing, present]);

    assert.equal(run.exitCode, 1);
    assert.match(run.stderr.text, new RegExp(`${missing}: cannot open: .*ENOENT`));
    assert.equal(run.stdout.events.length, 1);
  });

  void test("returns 1 for a truncated gzip file after writing the lines before the damage", async () => {
    const lines = Array.from({ length: 2000 }, () => SEED).join("\n");
    const compressed = gzipSync(`${lines}\n`);
    const path = await writeLogFile("truncated.gz", compressed.subarray(0, compressed.length - 8));

    const run = await runNormalize([path]);

    assert.equal(run.exitCode, 1);
    assert.match(run.stderr.text, new RegExp(`${path}: cannot read: `));
    assert.ok(run.stdout.events.length > 0);
  });

  void test("reads standard input when no file is named, chunks cut mid-line and mid-character", async () => {
    const identity = "Poste-Hélène";
    const line = SEED.replace("FR123", identity);
    const bytes = Buffer.from(`${line}\n${IPV6}\n`, "utf8");
    const cut = bytes.indexOf(Buffer.from("é", "utf8")) + 1;
    const stdin = Readable.from([bytes.subarray(0, cut), bytes.subarray(cut)]);

    const run = await runNormalize([], { stdin });

    assert.equal(run.exitCode, 0);
    assert.deepStrictEqual(
      run.stdout.events.map((event) => event.host?.name),
      [identity, "LAPTOP-0003"],
    );
  });

  void test("reads gzip from standard input too", async () => {
    const stdin = Readable.from([gzipSync(`${SEED}\n`)]);

    const run = await runNormalize(["-"], { stdin });

    assert.equal(run.stdout.events[0]?.message, SEED);
  });

  void test("reports and skips a line longer than the limit", async () => {
    const path = await writeLogFile("long.csv", `"${"x".repeat(5000)}"\n${SEED}\n`);

    const run = await runNormalize([path], { maxLineChars: 1000 });

    assert.equal(run.exitCode, 0);
    assert.match(run.stderr.text, new RegExp(`${path}:1: line longer than 1000 characters`));
    assert.deepStrictEqual(
      run.stdout.events.map((event) => event.message),
      [SEED],
    );
  });

  void test("waits for a slow stdout instead of buffering the whole output", async () => {
    const lineCount = 10_000;
    const path = await writeLogFile("many.csv", `${Array(lineCount).fill(SEED).join("\n")}\n`);
    const stdout = new TextSink(1024, true);

    const run = await runNormalize([path], { stdout });

    assert.equal(run.stdout.events.length, lineCount);
    // The output is about 4 MB; honouring backpressure keeps at most ~2 chunks queued.
    assert.ok(stdout.maxBuffered < 200_000, `${stdout.maxBuffered} characters were queued`);
  });

  const SHUTDOWN_TEST_TIMEOUT_MS = 5000;

  void test(
    "stops waiting on standard input and resolves with 0 when shutdown aborts",
    { timeout: SHUTDOWN_TEST_TIMEOUT_MS },
    async () => {
      let reads = 0;
      let waitingForMore: () => void = () => undefined;
      const secondRead = new Promise<void>((resolve) => {
        waitingForMore = resolve;
      });
      const stdin = new Readable({
        read() {
          reads += 1;
          if (reads === 1) {
            this.push(`${SEED}\n`);
          } else {
            waitingForMore();
          }
        },
      });
      const controller = new AbortController();
      const command = new NormalizeCommand(new TextSink(), { stderr: new TextSink(), stdin });

      const running = command.run(contextFor([], controller.signal));
      await secondRead;
      controller.abort();

      assert.equal(await running, 0);
      assert.equal(stdin.destroyed, true);
    },
  );
});
