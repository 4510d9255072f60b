/**
 * The bench's services process, started by bench.ts with fork(): fauxqs (S3 + SQS) and the
 * counting intake, both on 127.0.0.1, away from the process being measured. Driven over IPC
 * (ServicesProtocol.ts).
 */
import { startFauxqs } from "fauxqs";

import { CountingIntake } from "./CountingIntake.js";
import {
  BENCH_BUCKET,
  BENCH_INTAKE_KEY,
  BENCH_QUEUE,
  BENCH_REGION,
  type ServicesReply,
  type ServicesRequest,
} from "./ServicesProtocol.js";

interface Expectation {
  id: number;
  events: number;
}

const reply = (message: ServicesReply): void => {
  process.send?.(message);
};

let expectations: Expectation[] = [];
const emulator = await startFauxqs({
  port: 0,
  host: "127.0.0.1",
  logger: false,
  defaultRegion: BENCH_REGION,
});
emulator.createBucket(BENCH_BUCKET);
emulator.createQueue(BENCH_QUEUE, { region: BENCH_REGION });
const intake = await new CountingIntake(BENCH_INTAKE_KEY, () => settle()).start();

process.on("message", (message: ServicesRequest) => {
  void handle(message);
});
process.on("disconnect", () => {
  void stop();
});
reply({ kind: "ready", emulator: emulator.address, intake: intake.url });

async function handle(request: ServicesRequest): Promise<void> {
  switch (request.kind) {
    case "reset":
      intake.events = 0;
      intake.batches = 0;
      intake.bytes = 0;
      intake.refused = 0;
      expectations = [];
      reply({ kind: "done", id: request.id });
      break;
    case "expect":
      expectations.push({ id: request.id, events: request.events });
      settle();
      break;
    case "depth":
      reply({ kind: "depth", id: request.id, messages: queueDepth() });
      break;
    case "stop":
      reply({ kind: "done", id: request.id });
      await stop();
      break;
  }
}

function settle(): void {
  const now = Date.now();
  const reached = expectations.filter((expectation) => intake.events >= expectation.events);
  expectations = expectations.filter((expectation) => intake.events < expectation.events);
  for (const { id } of reached) {
    reply({
      kind: "reached",
      id,
      at: now,
      events: intake.events,
      batches: intake.batches,
      bytes: intake.bytes,
      refused: intake.refused,
    });
  }
}

function queueDepth(): number {
  const state = emulator.inspectQueue(BENCH_QUEUE);

  return (
    (state?.messages.ready.length ?? 0) +
    (state?.messages.inflight.length ?? 0) +
    (state?.messages.delayed.length ?? 0)
  );
}

async function stop(): Promise<void> {
  await intake.stop();
  await emulator.stop();
  process.exit(0);
}
