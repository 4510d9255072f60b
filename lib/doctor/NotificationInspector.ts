import type { QueueConfiguration } from "@aws-sdk/client-s3";

/** How Umbrella names its objects; a suffix filter must let these through. */
export const UMBRELLA_OBJECT_SUFFIX = ".csv.gz";

/** The verdict on a bucket's notification configuration for our queue and prefix. */
export type NotificationVerdict =
  { ok: true; detail: string } | { ok: false; problem: string; remedy: string };

/**
 * Checks that the bucket notifies `queueArn` of created objects under `keyPrefix`: an
 * ObjectCreated event, a prefix filter that covers the trigger's prefix, and no suffix filter
 * that excludes `.csv.gz` objects. One good entry is enough.
 */
export function inspectNotification(
  configurations: readonly QueueConfiguration[],
  queueArn: string,
  bucket: string,
  keyPrefix: string,
): NotificationVerdict {
  const ours = configurations.filter((entry) => entry.QueueArn === queueArn);
  const where = `S3 > ${bucket} > Properties > Event notifications`;
  if (ours.length === 0) {
    const others = configurations.map((entry) => entry.QueueArn).filter(Boolean);
    return {
      ok: false,
      problem:
        others.length === 0
          ? `Bucket ${bucket} sends no event notification to any SQS queue.`
          : `Bucket ${bucket} notifies ${others.join(", ")}, not ${queueArn}.`,
      remedy:
        `Add an event notification in ${where}: event types "All object create events" ` +
        `(s3:ObjectCreated:*), prefix ${keyPrefix || "(none)"}, destination SQS queue ` +
        `${queueArn} (the setup command prints it as bucket-notification.json).`,
    };
  }

  const verdicts = ours.map((entry) => inspectEntry(entry, queueArn, where, keyPrefix));

  return verdicts.find((verdict) => verdict.ok) ?? verdicts[0] ?? { ok: true, detail: "" };
}

function inspectEntry(
  entry: QueueConfiguration,
  queueArn: string,
  where: string,
  keyPrefix: string,
): NotificationVerdict {
  const id = entry.Id ?? "(no id)";
  const events = entry.Events ?? [];
  const rules = entry.Filter?.Key?.FilterRules ?? [];
  const prefix = rules.find((rule) => rule.Name?.toLowerCase() === "prefix")?.Value ?? "";
  const suffix = rules.find((rule) => rule.Name?.toLowerCase() === "suffix")?.Value ?? "";
  const created = events.filter((event) => event.startsWith("s3:ObjectCreated:"));
  if (created.length === 0) {
    return {
      ok: false,
      problem: `Notification "${id}" to ${queueArn} has no object-created event (${events.join(", ") || "none"}).`,
      remedy: `In ${where}, edit "${id}" and select "All object create events" (s3:ObjectCreated:*).`,
    };
  }
  if (!keyPrefix.startsWith(prefix)) {
    return {
      ok: false,
      problem:
        `Notification "${id}" to ${queueArn} filters prefix "${prefix}", but the trigger ` +
        `reads "${keyPrefix}": new Umbrella objects are not announced.`,
      remedy:
        `In ${where}, edit "${id}" and set the prefix to "${keyPrefix}"; or, if Umbrella ` +
        `really writes under "${prefix}", set the trigger's key_prefix to it.`,
    };
  }
  if (suffix !== "" && !UMBRELLA_OBJECT_SUFFIX.endsWith(suffix)) {
    return {
      ok: false,
      problem: `Notification "${id}" filters suffix "${suffix}", which excludes Umbrella's ${UMBRELLA_OBJECT_SUFFIX} objects.`,
      remedy: `In ${where}, edit "${id}" and empty the suffix (or set it to ${UMBRELLA_OBJECT_SUFFIX}).`,
    };
  }

  const notes = [`"${id}": ${created.join(", ")}, prefix "${prefix}"`];
  if (!created.includes("s3:ObjectCreated:*")) {
    notes.push("not all create events: objects uploaded otherwise are not announced");
  }
  if (prefix !== keyPrefix) {
    notes.push(`it also announces objects outside "${keyPrefix}", which the trigger skips`);
  }

  return { ok: true, detail: notes.join("; ") };
}
