import assert from "node:assert/strict";
import { PassThrough } from "node:stream";
import { describe, test } from "node:test";

import { IntakeError } from "../../lib/errors/IntakeError.js";
import { createLogger, parseLogLevel, type Logger } from "../../lib/runtime/createLogger.js";
import { SecretRedactor, maskIntakeKey } from "../../lib/runtime/SecretRedactor.js";

const SECRET = "wJalrXUtnFEMIK7MDENGbPxRfiCY";
const TOKEN = "platform-token-0123456789";
const INTAKE_KEY = "abcd1234-ef56-7890-abcd-ef1234567890";

void describe("SecretRedactor", () => {
  void test("replaces every occurrence of a registered secret in text", () => {
    const redactor = new SecretRedactor();
    redactor.add(SECRET);

    assert.equal(
      redactor.redactText(`a ${SECRET} b ${SECRET}${SECRET}`),
      "a [redacted] b [redacted][redacted]",
    );
  });

  void test("uses the given replacement", () => {
    const redactor = new SecretRedactor();
    redactor.add(TOKEN, "<token>");

    assert.equal(redactor.redactText(`Bearer ${TOKEN}`), "Bearer <token>");
  });

  void test("ignores undefined and values too short to be secrets", () => {
    const redactor = new SecretRedactor();
    redactor.add(undefined);
    redactor.add("abc12");

    assert.equal(redactor.redactText("abc12 stays"), "abc12 stays");
  });

  void test("hides the whole of a secret that contains another secret", () => {
    const redactor = new SecretRedactor();
    redactor.add("secret123");
    redactor.add("secret123456");

    assert.equal(redactor.redactText("x secret123456 y secret123"), "x [redacted] y [redacted]");
  });

  void test("masks an intake key as its first four characters and ****", () => {
    const redactor = new SecretRedactor();
    redactor.addIntakeKey(INTAKE_KEY);

    assert.equal(maskIntakeKey(INTAKE_KEY), "abcd****");
    assert.equal(redactor.redactText(`key=${INTAKE_KEY}`), "key=abcd****");
  });

  void test("masks a short intake key completely", () => {
    assert.equal(maskIntakeKey("abcdefgh"), "****");
    assert.equal(maskIntakeKey(""), "****");
  });

  void test("redacts nested objects, arrays and errors, and copies rather than mutates", () => {
    const redactor = new SecretRedactor();
    redactor.add(SECRET);
    const value = {
      text: `is ${SECRET}`,
      count: 3,
      flag: true,
      nothing: null,
      list: [SECRET, { deeper: [`x${SECRET}`] }],
      error: new Error(`failed with ${SECRET}`),
    };

    const redacted = redactor.redact(value);

    assert.deepEqual(redacted, {
      text: "is [redacted]",
      count: 3,
      flag: true,
      nothing: null,
      list: ["[redacted]", { deeper: ["x[redacted]"] }],
      error: "failed with [redacted]",
    });
    assert.equal(value.text, `is ${SECRET}`);
  });
});

interface LogLine {
  level: string;
  message?: string;
  [field: string]: unknown;
}

async function logged(
  write: (logger: Logger) => void,
  configure: (redactor: SecretRedactor) => void,
): Promise<{ lines: LogLine[]; text: string }> {
  const stream = new PassThrough();
  let text = "";
  stream.on("data", (chunk: Buffer) => (text += chunk.toString("utf8")));
  const redactor = new SecretRedactor();
  configure(redactor);
  const logger = createLogger({ redactor, stream, level: "debug" });
  const finished = new Promise((resolve) => logger.on("finish", resolve));

  write(logger);
  logger.end();
  await finished;
  await new Promise((resolve) => setImmediate(resolve));

  const lines = text
    .split("\n")
    .filter((line) => line !== "")
    .map((line) => JSON.parse(line) as LogLine);

  return { lines, text };
}

void describe("createLogger", () => {
  const register = (redactor: SecretRedactor): void => {
    redactor.add(SECRET);
    redactor.add(TOKEN);
    redactor.addIntakeKey(INTAKE_KEY);
  };

  void test("writes JSON lines with the platform's level names and a timestamp", async () => {
    const { lines } = await logged((logger) => {
      logger.log("critical", "c");
      logger.error("e");
      logger.log("warning", "w");
      logger.info("i", { bucket: "b" });
      logger.debug("d");
    }, register);

    assert.deepEqual(
      lines.map((line) => [line.level, line.message]),
      [
        ["critical", "c"],
        ["error", "e"],
        ["warning", "w"],
        ["info", "i"],
        ["debug", "d"],
      ],
    );
    assert.equal(lines[3]?.["bucket"], "b");
    assert.match(String(lines[0]?.["timestamp"]), /^\d{4}-\d{2}-\d{2}T/);
  });

  void test("replaces secrets in the message and in nested fields", async () => {
    const { lines, text } = await logged((logger) => {
      logger.info(`token is ${TOKEN}`, {
        auth: { header: `Bearer ${TOKEN}` },
        list: [SECRET],
        intake: INTAKE_KEY,
      });
    }, register);

    assert.ok(!text.includes(TOKEN) && !text.includes(SECRET) && !text.includes(INTAKE_KEY));
    assert.equal(lines[0]?.message, "token is [redacted]");
    assert.deepEqual(lines[0]?.["auth"], { header: "Bearer [redacted]" });
    assert.deepEqual(lines[0]?.["list"], ["[redacted]"]);
    assert.equal(lines[0]?.["intake"], "abcd****");
  });

  void test("flattens an error field with its name, code and cause, secrets replaced", async () => {
    const { lines, text } = await logged((logger) => {
      logger.error("push failed", {
        error: new IntakeError("refused-batch", 400, `POST with ${INTAKE_KEY} failed`, {
          cause: new Error(`socket said ${SECRET}`),
        }),
      });
    }, register);

    assert.ok(!text.includes(SECRET) && !text.includes(INTAKE_KEY), text);
    assert.deepEqual(lines[0]?.["error"], {
      name: "IntakeError",
      code: "UMB_INTAKE_REFUSED_BATCH",
      message: "POST with abcd**** failed",
      cause: "socket said [redacted]",
    });
  });

  void test("keeps the message of an error logged alone, secrets replaced", async () => {
    const { lines, text } = await logged((logger) => {
      logger.error(new Error(`boom ${SECRET}`));
    }, register);

    assert.ok(!text.includes(SECRET), text);
    assert.equal(lines[0]?.level, "error");
    assert.equal(lines[0]?.message, "boom [redacted]");
  });

  void test("replaces secrets in an error given as metadata", async () => {
    const { text } = await logged((logger) => {
      logger.log("error", "failed", new Error(`meta ${SECRET}`));
    }, register);

    assert.ok(text.includes("[redacted]"), text);
    assert.ok(!text.includes(SECRET), text);
  });

  void test("writes nothing below the chosen level", async () => {
    const stream = new PassThrough();
    let text = "";
    stream.on("data", (chunk: Buffer) => (text += chunk.toString("utf8")));
    const logger = createLogger({ redactor: new SecretRedactor(), stream, level: "warning" });
    const finished = new Promise((resolve) => logger.on("finish", resolve));

    logger.info("hidden");
    logger.debug("hidden too");
    logger.log("warning", "shown");
    logger.end();
    await finished;
    await new Promise((resolve) => setImmediate(resolve));

    assert.ok(!text.includes("hidden"), text);
    assert.ok(text.includes("shown"), text);
  });
});

void describe("parseLogLevel", () => {
  void test("reads the platform names and common spellings, defaulting to info", () => {
    assert.equal(parseLogLevel("DEBUG"), "debug");
    assert.equal(parseLogLevel(" warn "), "warning");
    assert.equal(parseLogLevel("fatal"), "critical");
    assert.equal(parseLogLevel("40"), "error");
    assert.equal(parseLogLevel("verbose"), "info");
    assert.equal(parseLogLevel(undefined), "info");
  });
});
