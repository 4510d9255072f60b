/** Settings of an exponential backoff, in milliseconds. */
export interface BackoffOptions {
  initialDelayMs: number;
  maxDelayMs: number;
  /** Multiplier between two attempts; 2 doubles the delay. */
  factor?: number;
  /** Source of randomness for the jitter, replaceable in tests. */
  random?: () => number;
}

/**
 * Exponential backoff with "equal jitter": each delay is between half and all of the
 * exponential value, so retries of many replicas spread out but never collapse to zero.
 */
export class Backoff {
  private attempt = 0;

  constructor(private readonly options: BackoffOptions) {}

  /** The delay before the next attempt; each call moves one step further. */
  next(): number {
    const factor = this.options.factor ?? 2;
    const random = this.options.random ?? Math.random;
    const ceiling = Math.min(
      this.options.maxDelayMs,
      this.options.initialDelayMs * factor ** this.attempt,
    );
    this.attempt += 1;

    return Math.round(ceiling / 2 + (random() * ceiling) / 2);
  }

  /** Number of delays handed out since the last reset. */
  get attempts(): number {
    return this.attempt;
  }

  reset(): void {
    this.attempt = 0;
  }
}

/** Resolves after `ms`, or at once (without throwing) when `signal` aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  if (signal?.aborted || ms <= 0) {
    return Promise.resolve();
  }

  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener("abort", done, { once: true });
  });
}
