/** A counting semaphore for async work: at most `permits` holders at once, FIFO waiters. */
export class Semaphore {
  private available: number;
  private readonly waiters: (() => void)[] = [];

  constructor(permits: number) {
    this.available = permits;
  }

  get free(): number {
    return this.available;
  }

  /** Resolves with a permit; rejects if `signal` aborts first. */
  acquire(signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) {
      return Promise.reject(new Error("aborted"));
    }
    if (this.available > 0) {
      this.available -= 1;

      return Promise.resolve();
    }

    return new Promise((resolve, reject) => {
      const grant = (): void => {
        signal?.removeEventListener("abort", onAbort);
        resolve();
      };
      const onAbort = (): void => {
        const index = this.waiters.indexOf(grant);
        if (index !== -1) {
          this.waiters.splice(index, 1);
        }
        reject(new Error("aborted"));
      };
      this.waiters.push(grant);
      signal?.addEventListener("abort", onAbort, { once: true });
    });
  }

  release(): void {
    const next = this.waiters.shift();
    if (next !== undefined) {
      next();
    } else {
      this.available += 1;
    }
  }
}
