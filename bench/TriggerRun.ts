import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

import { TriggerProcess } from "../test/support/TriggerHarness.js";
import type { BenchServices } from "./BenchServices.js";
import { PRODUCTION_NODE_FLAGS } from "../lib/runtime/NodeFlags.js";
import { peakRssBytes } from "./ProcessMemory.js";
import {
  BENCH_CREDENTIALS,
  BENCH_INTAKE_KEY,
  BENCH_QUEUE,
  BENCH_REGION,
} from "./ServicesProtocol.js";

const TRIGGER_START_TIMEOUT_MS = 30_000;
/** Short long-polls let the trigger stop quickly; fauxqs answers a waiting receive at once. */
const RECEIVE_WAIT_SECONDS = 1;

/**
 * The real trigger, `node dist/main.js cisco_umbrella_ip_logs`, started as the platform
 * starts it (configuration in a /symphony-like directory) with the emulator as its only AWS
 * endpoint and the counting intake as its intake. Every other setting keeps its default.
 */
export class TriggerRun {
  private constructor(
    private readonly trigger: TriggerProcess,
    private readonly directory: string,
  ) {}

  static async start(services: BenchServices): Promise<TriggerRun> {
    const directory = mkdtempSync(join(tmpdir(), "umbrella-bench-symphony-"));
    writeFileSync(
      join(directory, "module_configuration"),
      JSON.stringify({
        aws_region_name: BENCH_REGION,
        aws_access_key: BENCH_CREDENTIALS.accessKeyId,
        aws_secret_access_key: BENCH_CREDENTIALS.secretAccessKey,
      }),
    );
    writeFileSync(
      join(directory, "trigger_configuration"),
      JSON.stringify({
        queue_name: BENCH_QUEUE,
        intake_key: BENCH_INTAKE_KEY,
        intake_server: services.intakeUrl,
        receive_wait_seconds: RECEIVE_WAIT_SECONDS,
      }),
    );
    const child = spawn(
      process.execPath,
      [...PRODUCTION_NODE_FLAGS, "dist/main.js", "cisco_umbrella_ip_logs"],
      {
        env: {
          PATH: process.env["PATH"] ?? "",
          SYMPHONY_DIR: directory,
          AWS_ENDPOINT_URL: services.emulatorUrl,
          AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true",
          LIVENESS_PORT: "0",
          METRICS_PORT: "0",
        },
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    const run = new TriggerRun(new TriggerProcess(child), directory);
    await run.trigger.waitForLog((log) => log.message === "collecting", TRIGGER_START_TIMEOUT_MS);

    return run;
  }

  /** VmHWM of the trigger process so far. */
  peakRssBytes(): number | undefined {
    return peakRssBytes(this.trigger.child.pid);
  }

  /** Log lines at warning level or worse, for the bench to report. */
  problems(): string[] {
    return this.trigger.logs
      .filter((log) => ["warning", "error", "critical", "raw"].includes(log.level))
      .map((log) => `${log.level}: ${log.message}`);
  }

  async stop(): Promise<number | null> {
    const code = await this.trigger.stop();
    rmSync(this.directory, { recursive: true, force: true });

    return code;
  }
}
