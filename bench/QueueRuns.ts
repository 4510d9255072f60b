import { spawn } from "node:child_process";
import { createInterface } from "node:readline";

import type { BenchServices } from "./BenchServices.js";
import { benchScript } from "./ChildRun.js";
import type { CorpusObject } from "./Corpus.js";
import { singleRun, type Measurement } from "./Measurements.js";
import { TriggerRun } from "./TriggerRun.js";

/** Time allowed for one object: generous, a slow run is a figure, not a failure. */
const RUN_BASE_TIMEOUT_MS = 60_000;
const RUN_TIMEOUT_MS_PER_MIB = 1_000;
const EMPTY_QUEUE_TIMEOUT_MS = 15_000;
const EMPTY_QUEUE_POLL_MS = 100;
/** The baseline holds the whole object and every line as a string: give it room. */
const BASELINE_HEAP_MIB = 8192;
const MIB = 1024 * 1024;

/** One object from its notification to its last event accepted by the intake. */
export interface QueueRunResult {
  measurement: Measurement;
  /** VmHWM of the collecting process when its last event was accepted. */
  peakRss: number | undefined;
  problems: string[];
}

/**
 * The real trigger process on one object: started and idle first, then the notification is
 * sent; the time runs from the notification to the intake's acceptance of the last event.
 */
export async function triggerRun(
  services: BenchServices,
  object: CorpusObject,
  key: string,
): Promise<QueueRunResult> {
  await services.resetIntake();
  const trigger = await TriggerRun.start(services);
  let result: QueueRunResult;
  try {
    const started = Date.now();
    await services.notify(key);
    const delivery = await services.waitForEvents(object.lines, timeoutMs(object));
    result = {
      measurement: singleRun((delivery.at - started) / 1000, object.lines, object.textBytes),
      peakRss: trigger.peakRssBytes(),
      problems: deliveryProblems(object, delivery.events, delivery.refused),
    };
  } finally {
    const code = await trigger.stop();
    if (code !== 0) {
      console.error(`trigger exited with ${String(code)}: ${trigger.problems().join("; ")}`);
    }
  }
  result.problems.push(...trigger.problems());
  await waitForEmptyQueue(services);

  return result;
}

/** The whole-object baseline (baseline.ts) on one object, timed the same way. */
export async function baselineRun(
  services: BenchServices,
  object: CorpusObject,
  key: string,
): Promise<QueueRunResult> {
  await services.resetIntake();
  const child = spawn(
    process.execPath,
    [`--max-old-space-size=${BASELINE_HEAP_MIB}`, benchScript("baseline.js")],
    {
      env: {
        PATH: process.env["PATH"] ?? "",
        BENCH_EMULATOR: services.emulatorUrl,
        BENCH_QUEUE_URL: services.queueUrl,
        BENCH_INTAKE: services.intakeUrl,
        AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true",
      },
      stdio: ["ignore", "pipe", "inherit"],
    },
  );
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  const exited = new Promise<number | null>((resolve) => child.on("exit", resolve));
  await lines.next();
  const started = Date.now();
  await services.notify(key);
  const delivery = await services.waitForEvents(object.lines, timeoutMs(object));
  const report = await lines.next();
  const code = await exited;
  const figures = JSON.parse(report.done ? "{}" : report.value) as { peakRss?: number };
  const problems = deliveryProblems(object, delivery.events, delivery.refused);
  if (code !== 0) {
    problems.push(`baseline exited with ${String(code)}`);
  }
  await waitForEmptyQueue(services);

  return {
    measurement: singleRun((delivery.at - started) / 1000, object.lines, object.textBytes),
    peakRss: figures.peakRss,
    problems,
  };
}

function timeoutMs(object: CorpusObject): number {
  return RUN_BASE_TIMEOUT_MS + (object.textBytes / MIB) * RUN_TIMEOUT_MS_PER_MIB;
}

function deliveryProblems(object: CorpusObject, events: number, refused: number): string[] {
  const problems: string[] = [];
  if (events !== object.lines) {
    problems.push(`the intake counted ${events} events for ${object.lines} lines`);
  }
  if (refused > 0) {
    problems.push(`the intake refused ${refused} malformed requests`);
  }

  return problems;
}

/** The next run must not receive a message left over from this one. */
async function waitForEmptyQueue(services: BenchServices): Promise<void> {
  const deadline = Date.now() + EMPTY_QUEUE_TIMEOUT_MS;
  while ((await services.queueDepth()) > 0) {
    if (Date.now() > deadline) {
      throw new Error("the queue still holds a message after the run");
    }
    await new Promise((resolve) => setTimeout(resolve, EMPTY_QUEUE_POLL_MS));
  }
}
