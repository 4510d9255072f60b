import assert from "node:assert/strict";
import { PassThrough } from "node:stream";
import { describe, test } from "node:test";

import winston from "winston";

import { ConfigurationError } from "../../lib/errors/ConfigurationError.js";
import { ModuleRunner } from "../../lib/runtime/ModuleRunner.js";
import type { ModuleCommand, RuntimeContext } from "../../lib/runtime/RuntimeContext.js";

/** Collects what is written to it. */
class TextSink extends PassThrough {
  text = "";

  constructor() {
    super();
    this.on("data", (chunk: Buffer) => (this.text += chunk.toString("utf8")));
  }
}

function command(run: (context: RuntimeContext) => Promise<number>): () => ModuleCommand {
  return () => ({ run });
}

interface Captured {
  runner: ModuleRunner;
  stderr: TextSink;
  logs: TextSink;
}

function runner(signals: NodeJS.Signals[] = ["SIGUSR2"]): Captured {
  const stderr = new TextSink();
  const logs = new TextSink();
  const moduleRunner = new ModuleRunner({
    stderr,
    signals,
    transports: () => [new winston.transports.Stream({ stream: logs })],
  });

  return { runner: moduleRunner, stderr, logs };
}

function logLines(sink: TextSink): Record<string, unknown>[] {
  return sink.text
    .split("\n")
    .filter((line) => line !== "")
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

void describe("ModuleRunner", () => {
  void test("prints the known commands on stdout and exits 0 for --help", async () => {
    const stdout = new TextSink();
    const moduleRunner = new ModuleRunner({ stdout, signals: ["SIGUSR2"] }).register("doctor", {
      description: "checks the AWS chain",
      create: command(() => Promise.resolve(3)),
    });

    const code = await moduleRunner.run(["--help"]);

    assert.equal(code, 0);
    assert.match(stdout.text, /^Usage: node dist\/main\.js <command>/);
    assert.match(stdout.text, /doctor +checks the AWS chain/);
  });

  void test("exits with 1 on an unknown command and lists the known ones on stderr", async () => {
    const { runner: moduleRunner, stderr } = runner();
    let ran = false;
    moduleRunner
      .register("cisco_umbrella_ip_logs", {
        description: "Collects Cisco Umbrella IP logs",
        create: command(() => {
          ran = true;

          return Promise.resolve(0);
        }),
      })
      .register("validate_module_configuration", {
        description: "Checks the AWS access",
        create: command(() => Promise.resolve(0)),
      });

    const code = await moduleRunner.run(["no_such_command", "--flag"]);

    assert.equal(code, 1);
    assert.equal(ran, false);
    assert.match(stderr.text, /^Unknown command "no_such_command"\. Known commands:\n/);
    assert.match(stderr.text, /cisco_umbrella_ip_logs +Collects Cisco Umbrella IP logs/);
    assert.match(stderr.text, /validate_module_configuration +Checks the AWS access/);
  });

  void test("exits with 1 when no command is given", async () => {
    const { runner: moduleRunner, stderr } = runner();
    moduleRunner.register("known", { description: "d", create: command(() => Promise.resolve(0)) });

    assert.equal(await moduleRunner.run([]), 1);
    assert.match(stderr.text, /^No command given\. Known commands:\n {2}known/);
  });

  void test("runs the command with the arguments after its name and returns its exit code", async () => {
    const { runner: moduleRunner, stderr } = runner();
    let seen: readonly string[] = [];
    moduleRunner.register("tool", {
      description: "d",
      create: command((context) => {
        seen = context.args;

        return Promise.resolve(3);
      }),
    });

    assert.equal(await moduleRunner.run(["tool", "a", "b"]), 3);
    assert.deepEqual(seen, ["a", "b"]);
    assert.equal(stderr.text, "");
  });

  void test("exits with 1 and logs the message at critical when the command raises ConfigurationError", async () => {
    const { runner: moduleRunner, logs } = runner();
    moduleRunner.register("trigger", {
      description: "d",
      create: command(() =>
        Promise.reject(
          new ConfigurationError(
            "trigger_configuration",
            ["queue_name"],
            'Invalid trigger_configuration: "queue_name" is required.',
          ),
        ),
      ),
    });

    const code = await moduleRunner.run(["trigger"]);

    assert.equal(code, 1);
    const critical = logLines(logs).filter((line) => line["level"] === "critical");
    assert.equal(critical.length, 1);
    assert.equal(
      critical[0]?.["message"],
      'Invalid trigger_configuration: "queue_name" is required.',
    );
    assert.deepEqual(critical[0]?.["fields"], ["queue_name"]);
    assert.equal(critical[0]?.["code"], "UMB_CONFIGURATION");
  });

  void test("exits with 1 and logs at critical when the command raises anything else", async () => {
    const { runner: moduleRunner, logs } = runner();
    moduleRunner.register("trigger", {
      description: "d",
      create: command(() => Promise.reject(new Error("disk on fire"))),
    });

    assert.equal(await moduleRunner.run(["trigger"]), 1);
    const critical = logLines(logs).filter((line) => line["level"] === "critical");
    assert.equal(critical.length, 1);
    assert.equal(critical[0]?.["message"], "the command stopped on an unexpected error");
    assert.deepEqual(critical[0]?.["error"], { name: "Error", message: "disk on fire" });
  });

  void test("aborts the shutdown signal on a stop signal and removes its handlers afterwards", async () => {
    const { runner: moduleRunner } = runner(["SIGUSR2"]);
    const listenersBefore = process.listenerCount("SIGUSR2");
    moduleRunner.register("trigger", {
      description: "d",
      create: command(async (context) => {
        assert.equal(context.shutdown.aborted, false);
        assert.equal(process.listenerCount("SIGUSR2"), listenersBefore + 1);
        process.emit("SIGUSR2", "SIGUSR2");
        assert.equal(context.shutdown.aborted, true);

        return Promise.resolve(0);
      }),
    });

    assert.equal(await moduleRunner.run(["trigger"]), 0);
    assert.equal(process.listenerCount("SIGUSR2"), listenersBefore);
  });
});
