/**
 * `npm run bench`: how fast the trigger takes Umbrella objects from S3 to the intake, next to
 * what the machine can do at all (gunzip + line splitting) and to the Python module's
 * whole-object approach, plus the trigger's peak memory and the ECS normaliser's rate. All
 * figures come from this run, on objects generated on the fly (cached in .bench/).
 *
 *   --quick    small objects only, a smoke run of under a minute
 *   --profile  also profiles the object path (--cpu-prof) and prints its top functions
 */
import { rmSync } from "node:fs";
import { cpus, loadavg, totalmem } from "node:os";
import { join } from "node:path";

import { BenchServices } from "./BenchServices.js";
import { benchScript, runNodeJson } from "./ChildRun.js";
import {
  BENCH_DIRECTORY,
  FULL_SIZES_MIB,
  QUICK_SIZES_MIB,
  corpusObject,
  type CorpusObject,
} from "./Corpus.js";
import type { Measurement } from "./Measurements.js";
import { topFunctions } from "./ProfileSummary.js";
import { baselineRun, triggerRun, type QueueRunResult } from "./QueueRuns.js";
import { MB, renderTable, type TableRow } from "./ResultTable.js";
import { judgeTargets } from "./Targets.js";
import type { CompareResult, NormalizeResult } from "./worker.js";

const NORMALIZER_LINES = 100_000;
const PROFILES_DIRECTORY = "profiles";
const PROFILE_TOP_FUNCTIONS = 15;
/** The object profiled: the largest one up to this size, so that the profile stays short. */
const PROFILE_MAX_MIB = 256;
/** Text profiled in all, in MiB: enough passes that start-up code weighs nothing. */
const PROFILE_TEXT_MIB = 768;
const MIB = 1024 * 1024;
const GIB = 1024 * MIB;

interface ObjectFigures {
  object: CorpusObject;
  compare: CompareResult;
  endToEnd: QueueRunResult;
  baseline: QueueRunResult;
}

// The bench's own SDK clients (uploads, notifications) need no reminder about Node versions.
process.env["AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED"] = "true";
const quick = process.argv.includes("--quick");
const profile = process.argv.includes("--profile");
const sizes = quick ? QUICK_SIZES_MIB : FULL_SIZES_MIB;
const loadAtStart = loadavg();

progress(
  `objects: ${sizes.map((size) => `${size} MiB`).join(", ")} (generated once into ${BENCH_DIRECTORY}/)`,
);
const objects: CorpusObject[] = [];
for (const size of sizes) {
  objects.push(
    await corpusObject(size, (label) => progress(`generating ${label} (gzip, streamed)`)),
  );
}
const compares: CompareResult[] = [];
for (const object of objects) {
  progress(`limit and object path: ${object.label}`);
  compares.push(await compareOn(object));
}
progress("ECS normaliser");
const normaliser = await runNodeJson<NormalizeResult>(benchScript("worker.js"), [
  "normalize",
  String(NORMALIZER_LINES),
]);
const queueRuns = await runThroughQueue(objects);
const figures: ObjectFigures[] = objects.map((object, index) => ({
  object,
  compare: compares[index] as CompareResult,
  ...(queueRuns[index] as { endToEnd: QueueRunResult; baseline: QueueRunResult }),
}));
const profileLines = profile ? await profileObjectPath(objects) : [];

printReport(figures, normaliser, profileLines);

async function compareOn(object: CorpusObject): Promise<CompareResult> {
  return runNodeJson<CompareResult>(benchScript("worker.js"), [
    "compare",
    object.path,
    String(object.textBytes),
    String(object.lines),
  ]);
}

/** End to end and baseline on every object, against one services process. */
async function runThroughQueue(
  all: readonly CorpusObject[],
): Promise<{ endToEnd: QueueRunResult; baseline: QueueRunResult }[]> {
  const services = await BenchServices.start();
  try {
    const keys: string[] = [];
    for (const object of all) {
      const key = `iplogs/bench/${object.label.replace(" ", "")}.csv.gz`;
      progress(`uploading ${object.label} (${(object.storedBytes / MB).toFixed(1)} MB gzip)`);
      await services.upload(key, object.path, object.storedBytes);
      keys.push(key);
    }
    const runs: { endToEnd: QueueRunResult; baseline: QueueRunResult }[] = [];
    for (const [index, object] of all.entries()) {
      const key = keys[index] ?? "";
      progress(`end to end: ${object.label}`);
      const endToEnd = await triggerRun(services, object, key);
      progress(`baseline: ${object.label}`);
      const baseline = await baselineRun(services, object, key);
      runs.push({ endToEnd, baseline });
    }

    return runs;
  } finally {
    await services.stop();
  }
}

async function profileObjectPath(all: readonly CorpusObject[]): Promise<string[]> {
  const object =
    [...all].reverse().find((candidate) => candidate.sizeMiB <= PROFILE_MAX_MIB) ?? all[0];
  if (object === undefined) {
    return [];
  }
  const passes = Math.ceil((PROFILE_TEXT_MIB * MIB) / object.textBytes);
  // Only the latest profile is kept, so that the cache does not grow run after run.
  rmSync(join(BENCH_DIRECTORY, PROFILES_DIRECTORY), { recursive: true, force: true });
  const directory = join(BENCH_DIRECTORY, PROFILES_DIRECTORY, String(Date.now()));
  progress(`profiling the object path on ${object.label}`);
  await runNodeJson<Measurement>(
    benchScript("worker.js"),
    ["path", object.path, String(object.textBytes), String(object.lines), String(passes)],
    { nodeOptions: ["--cpu-prof", `--cpu-prof-dir=${directory}`] },
  );
  const lines = [
    `top ${PROFILE_TOP_FUNCTIONS} functions by self time, object path, ${object.label} x ` +
      `${passes} passes (${directory}):`,
  ];
  for (const entry of topFunctions(directory, PROFILE_TOP_FUNCTIONS)) {
    lines.push(
      `  ${(entry.share * 100).toFixed(1).padStart(5)} %  ${entry.selfMs.toFixed(0).padStart(6)} ms  ` +
        `${entry.name}  ${entry.location}`,
    );
  }

  return lines;
}

function printReport(all: ObjectFigures[], normalised: NormalizeResult, profiled: string[]): void {
  console.log(machineLine());
  console.log(objectsLine(all.map((entry) => entry.object)));
  console.log("");
  console.log(renderTable(tableRows(all, normalised)));
  console.log("");
  console.log(notes(all));
  console.log("");
  console.log(targetLines(all).join("\n"));
  if (profiled.length > 0) {
    console.log("");
    console.log(profiled.join("\n"));
  }
}

/** Per object: the limit, the object path, end to end and the baseline; then the normaliser. */
function tableRows(all: readonly ObjectFigures[], normalised: NormalizeResult): TableRow[] {
  const rows: TableRow[] = [];
  for (const { object, compare, endToEnd, baseline } of all) {
    const label = object.label;
    const limit = compare.limit;
    rows.push(
      { measurement: "limit: zlib gunzip + Buffer.indexOf", object: label, figures: limit, limit },
      { measurement: "object path (in-process)", object: label, figures: compare.path, limit },
      {
        measurement: "end to end (trigger process)",
        object: label,
        figures: endToEnd.measurement,
        limit,
        baseline: baseline.measurement,
        peakRss: endToEnd.peakRss,
      },
      {
        measurement: "baseline: whole object (Python way)",
        object: label,
        figures: baseline.measurement,
        limit,
        peakRss: baseline.peakRss,
      },
    );
  }
  rows.push({
    measurement: "ECS normaliser (normalizeLines)",
    object: `${NORMALIZER_LINES.toLocaleString("en-US")} lines`,
    linesPerSecond: normalised.lines / normalised.seconds,
  });

  return rows;
}

/** PASS/MISS per target, judged on the largest object, then any problem seen on the way. */
function targetLines(all: readonly ObjectFigures[]): string[] {
  const large = all[all.length - 1];
  const small = all[0];
  if (large === undefined || small === undefined) {
    return [];
  }
  const verdicts = judgeTargets({
    largeLabel: large.object.label,
    smallLabel: small.object.label,
    limit: large.compare.limit,
    objectPath: large.compare.path,
    endToEnd: large.endToEnd.measurement,
    baseline: large.baseline.measurement,
    largePeakRss: large.endToEnd.peakRss,
    smallPeakRss: small.endToEnd.peakRss,
  });
  const problems = all.flatMap((entry) => [
    ...entry.endToEnd.problems.map((problem) => `end to end ${entry.object.label}: ${problem}`),
    ...entry.baseline.problems.map((problem) => `baseline ${entry.object.label}: ${problem}`),
  ]);

  return [
    `targets, on the largest object (${large.object.label}):`,
    ...verdicts.map((verdict) => `  ${verdict}`),
    ...problems.map((problem) => `  PROBLEM ${problem}`),
  ];
}

function machineLine(): string {
  const cores = cpus();
  const load = (values: number[]): string => values.map((value) => value.toFixed(2)).join(" ");

  return (
    `machine: ${cores[0]?.model ?? "unknown CPU"}, ${cores.length} cores, ` +
    `${(totalmem() / GIB).toFixed(1)} GiB, Node ${process.version}, ` +
    `load average ${load(loadAtStart)} at start, ${load(loadavg())} at end`
  );
}

function objectsLine(all: readonly CorpusObject[]): string {
  const text = all.reduce((sum, object) => sum + object.textBytes, 0);
  const stored = all.reduce((sum, object) => sum + object.storedBytes, 0);
  const lines = all.reduce((sum, object) => sum + object.lines, 0);

  return (
    `objects: generated Umbrella IP logs (8 columns, IPv4/IPv6, AD users with commas), ` +
    `${(text / lines).toFixed(0)} B/line, gzip level 6, ${(text / stored).toFixed(1)}:1`
  );
}

function notes(all: readonly ObjectFigures[]): string {
  const chunk = all.map((entry) => `${entry.compare.limitChunkBytes / 1024} KiB`).join(", ");
  const passes = all.map((entry) => entry.compare.path.passes).join(", ");

  return [
    "MB = 10^6 bytes of uncompressed text; x limit = limit time / time, same object, same run.",
    `limit and object path: medians of ${passes} interleaved passes (per object); limit zlib ` +
      `output chunk: the fastest of 64 KiB, 256 KiB, 1 MiB (${chunk}).`,
    "end to end and baseline: one run each, from the notification sent to the last event " +
      "accepted; fauxqs and the intake run in a separate process. Peak RSS: VmHWM at that time.",
  ].join("\n");
}

function progress(message: string): void {
  console.error(`[bench] ${message}`);
}
