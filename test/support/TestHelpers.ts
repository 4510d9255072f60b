import type { Counter } from "prom-client";

import { DeliveryTracker } from "../../lib/s3queue/DeliveryTracker.js";

/** A DeliveryTracker for an object of the test bucket. */
export function tracker(key = "iplogs/a.csv.gz"): DeliveryTracker {
  return new DeliveryTracker({
    bucket: "umbrella-logs",
    key,
    size: undefined,
    etag: undefined,
    sequencer: undefined,
    versionId: undefined,
    eventTime: undefined,
    source: "s3",
  });
}

/** "pending" unless the promise settled by the next turn of the event loop. */
export async function promiseState(
  promise: Promise<unknown>,
): Promise<"pending" | "resolved" | "rejected"> {
  const pending = Symbol("pending");
  const outcome = await Promise.race([
    promise.then(
      () => "resolved" as const,
      () => "rejected" as const,
    ),
    new Promise<typeof pending>((resolve) => setImmediate(() => resolve(pending))),
  ]);

  return outcome === pending ? "pending" : outcome;
}

/** The value of the counter's sample whose labels include `labels`; 0 when absent. */
export async function counterValue<T extends string>(
  counter: Counter<T>,
  labels: Partial<Record<T, string>>,
): Promise<number> {
  const { values } = await counter.get();
  const match = values.find((value) =>
    Object.entries(labels).every(
      ([name, expected]) => (value.labels as Record<string, unknown>)[name] === expected,
    ),
  );

  return match?.value ?? 0;
}
