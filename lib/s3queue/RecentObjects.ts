/** Most object versions remembered; the oldest are forgotten first beyond it. */
const MAX_REMEMBERED_OBJECTS = 100_000;

/**
 * The object versions delivered within the duplicate window, so that a repeated notification
 * of the same version (S3 delivers at least once) is skipped. In memory: a restart forgets, and
 * the worst case is a duplicate, never a loss.
 */
export class RecentObjects {
  private readonly expiries = new Map<string, number>();

  constructor(
    private readonly windowMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  has(versionId: string): boolean {
    const expiry = this.expiries.get(versionId);
    if (expiry === undefined) {
      return false;
    }
    if (expiry <= this.now()) {
      this.expiries.delete(versionId);

      return false;
    }

    return true;
  }

  remember(versionId: string): void {
    if (this.windowMs <= 0) {
      return;
    }
    this.expiries.delete(versionId);
    this.expiries.set(versionId, this.now() + this.windowMs);
    if (this.expiries.size > MAX_REMEMBERED_OBJECTS) {
      this.forgetOldest();
    }
  }

  private forgetOldest(): void {
    const now = this.now();
    for (const [versionId, expiry] of this.expiries) {
      if (this.expiries.size <= MAX_REMEMBERED_OBJECTS && expiry > now) {
        break;
      }
      this.expiries.delete(versionId);
    }
  }
}
