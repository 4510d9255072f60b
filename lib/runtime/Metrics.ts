import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";

/** Buckets for durations of intake requests and object reads, in seconds. */
const DURATION_BUCKETS_SECONDS = [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300];

/** Buckets for the age of a queue message when received, in seconds. */
const AGE_BUCKETS_SECONDS = [1, 5, 15, 60, 300, 900, 3600, 4 * 3600, 24 * 3600];

/**
 * Every Prometheus metric the module exposes, on a registry of its own. The `symphony_*`
 * names are those the platform already knows (RUNTIME.md 4.4); the `umbrella_s3_*` ones are
 * ours. The `intake_key` label always holds the masked key, never the key itself.
 */
export class Metrics {
  readonly registry = new Registry();

  readonly forwardedEvents: Counter<"intake_key">;
  readonly forwardDuration: Histogram<"intake_key">;
  readonly eventsLag: Gauge<"intake_key">;
  readonly discardedEvents: Counter<"intake_key" | "reason">;
  readonly collectedEvents: Counter<"intake_key">;
  readonly messageAge: Histogram<"intake_key">;

  readonly messagesReceived: Counter;
  readonly messagesDeleted: Counter;
  readonly messagesReleased: Counter<"reason">;
  readonly visibilityExtensions: Counter;
  readonly notificationsIgnored: Counter<"reason">;
  readonly duplicatesSkipped: Counter;
  readonly objectsRead: Counter<"outcome">;
  readonly objectBytesRead: Counter;
  readonly linesRead: Counter;
  readonly linesSkipped: Counter<"reason">;
  readonly retries: Counter<"reason">;
  readonly inFlightObjects: Gauge;
  readonly inFlightMessages: Gauge;
  readonly playbookEvents: Counter<"outcome">;

  constructor(options: { defaultMetrics?: boolean } = {}) {
    const registers = [this.registry];
    if (options.defaultMetrics ?? true) {
      collectDefaultMetrics({ register: this.registry });
    }

    this.forwardedEvents = new Counter({
      name: "symphony_module_common_forwarded_events_total",
      help: "Events accepted by the intake",
      labelNames: ["intake_key"],
      registers,
    });
    this.forwardDuration = new Histogram({
      name: "symphony_module_common_forward_events_duration",
      help: "Duration of one request to the intake, retries included, in seconds",
      labelNames: ["intake_key"],
      buckets: DURATION_BUCKETS_SECONDS,
      registers,
    });
    this.eventsLag = new Gauge({
      name: "symphony_module_common_events_lags",
      help: "Seconds between the notification of an object and the acceptance of its last event",
      labelNames: ["intake_key"],
      registers,
    });
    this.discardedEvents = new Counter({
      name: "symphony_module_common_discarded_events_total",
      help: "Lines not forwarded: over the intake's event size limit, or unreadable",
      labelNames: ["intake_key", "reason"],
      registers,
    });
    this.collectedEvents = new Counter({
      name: "symphony_module_aws_collected_events_total",
      help: "S3 notification records taken from the queue",
      labelNames: ["intake_key"],
      registers,
    });
    this.messageAge = new Histogram({
      name: "symphony_module_aws_messages_age",
      help: "Age of queue messages when received, in seconds",
      labelNames: ["intake_key"],
      buckets: AGE_BUCKETS_SECONDS,
      registers,
    });

    this.messagesReceived = new Counter({
      name: "umbrella_s3_messages_received_total",
      help: "Queue messages received",
      registers,
    });
    this.messagesDeleted = new Counter({
      name: "umbrella_s3_messages_deleted_total",
      help: "Queue messages deleted after every event they led to was accepted",
      registers,
    });
    this.messagesReleased = new Counter({
      name: "umbrella_s3_messages_released_total",
      help: "Queue messages handed back to the queue without being deleted",
      labelNames: ["reason"],
      registers,
    });
    this.visibilityExtensions = new Counter({
      name: "umbrella_s3_visibility_extensions_total",
      help: "Visibility timeout extensions of in-flight messages",
      registers,
    });
    this.notificationsIgnored = new Counter({
      name: "umbrella_s3_notifications_ignored_total",
      help: "Messages or records that announce nothing to read, by reason",
      labelNames: ["reason"],
      registers,
    });
    this.duplicatesSkipped = new Counter({
      name: "umbrella_s3_duplicate_notifications_total",
      help: "Notifications of an object version already delivered within the duplicate window",
      registers,
    });
    this.objectsRead = new Counter({
      name: "umbrella_s3_objects_total",
      help: "S3 objects processed, by outcome",
      labelNames: ["outcome"],
      registers,
    });
    this.objectBytesRead = new Counter({
      name: "umbrella_s3_object_bytes_total",
      help: "Bytes read from S3 (as stored, before decompression)",
      registers,
    });
    this.linesRead = new Counter({
      name: "umbrella_s3_lines_total",
      help: "Log lines read from objects",
      registers,
    });
    this.linesSkipped = new Counter({
      name: "umbrella_s3_lines_skipped_total",
      help: "Lines read but not forwarded, by reason (header, oversized, partial)",
      labelNames: ["reason"],
      registers,
    });
    this.retries = new Counter({
      name: "umbrella_s3_retries_total",
      help: "Retries, by reason",
      labelNames: ["reason"],
      registers,
    });
    this.inFlightObjects = new Gauge({
      name: "umbrella_s3_inflight_objects",
      help: "Objects being read or forwarded now",
      registers,
    });
    this.inFlightMessages = new Gauge({
      name: "umbrella_s3_inflight_messages",
      help: "Queue messages held now",
      registers,
    });
    this.playbookEvents = new Counter({
      name: "umbrella_s3_playbook_events_total",
      help: "Events sent to the playbook runtime, by outcome",
      labelNames: ["outcome"],
      registers,
    });
  }
}
