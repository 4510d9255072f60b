/**
 * Messages between the bench and its services process (fauxqs and the counting intake), over
 * the IPC channel of `child_process.fork`.
 */

export const BENCH_REGION = "eu-west-1";
export const BENCH_BUCKET = "umbrella-bench";
export const BENCH_QUEUE = "umbrella-bench-iplogs";
export const BENCH_INTAKE_KEY = "bench-intake-key-0000000000";

/** Credentials the emulator accepts; never real ones. */
export const BENCH_CREDENTIALS = {
  accessKeyId: "AKIAEMULATORBENCH000",
  secretAccessKey: "emulator-secret-access-key-for-the-bench",
};

/** From the bench to the services. */
export type ServicesRequest =
  /** Forget the events counted so far. */
  | { kind: "reset"; id: number }
  /** Answer once `events` events were accepted since the last reset. */
  | { kind: "expect"; id: number; events: number }
  /** Messages left in the queue (ready, in flight or delayed). */
  | { kind: "depth"; id: number }
  | { kind: "stop"; id: number };

/** From the services to the bench. */
export type ServicesReply =
  | { kind: "ready"; emulator: string; intake: string }
  | { kind: "done"; id: number }
  /** `at`: epoch milliseconds when the last expected event was accepted. */
  | {
      kind: "reached";
      id: number;
      at: number;
      events: number;
      batches: number;
      bytes: number;
      refused: number;
    }
  | { kind: "depth"; id: number; messages: number };
