/** Default for how long without progress the trigger counts as stalled, in seconds. */
export const DEFAULT_STALL_THRESHOLD_SECONDS = 600;

/** A snapshot of the trigger's liveness, served as JSON on `/health`. */
export interface LivenessReport {
  healthy: boolean;
  reason: string | undefined;
  started_at: string;
  last_heartbeat: string;
  last_events_time: string | undefined;
  seconds_since_heartbeat: number;
  last_heartbeat_threshold: number;
  critical: boolean;
}

/**
 * What the liveness endpoint reports. The pipeline calls `heartbeat()` after every poll that
 * succeeded (even an empty one, so a quiet bucket is healthy) and `eventsForwarded()` when the
 * intake accepts events; a critical error makes the trigger unhealthy until restarted.
 */
export class Liveness {
  private readonly startedAt: number;
  private lastHeartbeat: number;
  private lastEvents: number | undefined;
  private criticalReason: string | undefined;

  constructor(
    private readonly stallThresholdSeconds = DEFAULT_STALL_THRESHOLD_SECONDS,
    private readonly now: () => number = Date.now,
  ) {
    this.startedAt = now();
    this.lastHeartbeat = this.startedAt;
  }

  heartbeat(): void {
    this.lastHeartbeat = this.now();
  }

  eventsForwarded(): void {
    this.lastEvents = this.now();
    this.lastHeartbeat = this.lastEvents;
  }

  markCritical(reason: string): void {
    this.criticalReason ??= reason;
  }

  report(): LivenessReport {
    const now = this.now();
    const sinceHeartbeat = (now - this.lastHeartbeat) / 1000;
    const stalled = this.stallThresholdSeconds > 0 && sinceHeartbeat >= this.stallThresholdSeconds;
    let reason: string | undefined;
    if (this.criticalReason !== undefined) {
      reason = `critical error: ${this.criticalReason}`;
    } else if (stalled) {
      reason = `no progress for ${Math.round(sinceHeartbeat)} s`;
    }

    return {
      healthy: reason === undefined,
      reason,
      started_at: new Date(this.startedAt).toISOString(),
      last_heartbeat: new Date(this.lastHeartbeat).toISOString(),
      last_events_time:
        this.lastEvents === undefined ? undefined : new Date(this.lastEvents).toISOString(),
      seconds_since_heartbeat: Math.round(sinceHeartbeat),
      last_heartbeat_threshold: this.stallThresholdSeconds,
      critical: this.criticalReason !== undefined,
    };
  }
}
