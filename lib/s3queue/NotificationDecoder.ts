import { decodeS3Key } from "./decodeS3Key.js";
import type { NotificationSource, ObjectRef } from "./ObjectRef.js";

/** Longest excerpt of an odd body quoted in a log line. */
const BODY_EXCERPT_CHARS = 200;

/** A record the decoder set aside, with why. */
export interface IgnoredRecord {
  reason: "object-removed" | "other-event" | "incomplete-record";
  detail: string;
}

/** What one queue message announces. */
export type DecodedNotification =
  | { kind: "objects"; objects: ObjectRef[]; ignored: IgnoredRecord[] }
  | { kind: "test-event" }
  | { kind: "not-a-notification"; reason: string; excerpt: string };

/**
 * Decodes an SQS message body into the S3 objects it announces, whatever its shape: S3 event
 * records (several per message), `s3:TestEvent`, the same wrapped in an SNS envelope, and
 * EventBridge "Object Created" events. Anything else is reported, never thrown.
 *
 * Keys in S3 event records (direct or through SNS) are form-encoded and decoded here;
 * EventBridge carries keys as they are.
 */
export function decodeNotification(body: string | undefined): DecodedNotification {
  if (body === undefined || body.trim() === "") {
    return notANotification("the message body is empty", body ?? "");
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return notANotification("the message body is not JSON", body);
  }

  return decodeDocument(parsed, body, "s3", 0);
}

function decodeDocument(
  document: unknown,
  body: string,
  source: NotificationSource,
  depth: number,
): DecodedNotification {
  if (!isRecord(document)) {
    return notANotification(
      `the message body is JSON ${describeJson(document)}, not an object`,
      body,
    );
  }
  if (
    document["Type"] === "Notification" &&
    typeof document["Message"] === "string" &&
    depth === 0
  ) {
    return decodeSnsMessage(document["Message"], body);
  }
  if (document["Event"] === "s3:TestEvent") {
    return { kind: "test-event" };
  }
  if ("Records" in document) {
    return decodeRecords(document["Records"], body, source);
  }
  if (document["source"] === "aws.s3" && typeof document["detail-type"] === "string") {
    return decodeEventBridge(document, body);
  }

  return notANotification("the JSON object is not an S3, SNS or EventBridge notification", body);
}

function decodeSnsMessage(message: string, body: string): DecodedNotification {
  let inner: unknown;
  try {
    inner = JSON.parse(message);
  } catch {
    return notANotification("the SNS envelope's Message is not JSON", body);
  }
  const decoded = decodeDocument(inner, body, "sns", 1);
  if (decoded.kind === "not-a-notification") {
    return notANotification(`the SNS envelope carries no S3 notification: ${decoded.reason}`, body);
  }

  return decoded;
}

function decodeRecords(
  records: unknown,
  body: string,
  source: NotificationSource,
): DecodedNotification {
  if (!Array.isArray(records)) {
    return notANotification(`"Records" is ${describeJson(records)}, not a list`, body);
  }
  const objects: ObjectRef[] = [];
  const ignored: IgnoredRecord[] = [];
  for (const record of records) {
    const outcome = decodeRecord(record, source);
    if ("bucket" in outcome) {
      objects.push(outcome);
    } else {
      ignored.push(outcome);
    }
  }

  return { kind: "objects", objects, ignored };
}

function decodeRecord(record: unknown, source: NotificationSource): ObjectRef | IgnoredRecord {
  if (!isRecord(record)) {
    return { reason: "incomplete-record", detail: `a record is ${describeJson(record)}` };
  }
  const eventName = typeof record["eventName"] === "string" ? record["eventName"] : "";
  if (eventName.startsWith("ObjectRemoved:")) {
    return { reason: "object-removed", detail: eventName };
  }
  if (!eventName.startsWith("ObjectCreated:")) {
    return { reason: "other-event", detail: eventName === "" ? "no eventName" : eventName };
  }
  const s3 = isRecord(record["s3"]) ? record["s3"] : {};
  const bucket = isRecord(s3["bucket"]) ? s3["bucket"]["name"] : undefined;
  const object = isRecord(s3["object"]) ? s3["object"] : {};
  const key = object["key"];
  if (typeof bucket !== "string" || bucket === "" || typeof key !== "string" || key === "") {
    return { reason: "incomplete-record", detail: `${eventName} without bucket name or key` };
  }

  return {
    bucket,
    key: decodeS3Key(key),
    size: numberOrUndefined(object["size"]),
    etag: stringOrUndefined(object["eTag"]),
    sequencer: stringOrUndefined(object["sequencer"]),
    versionId: stringOrUndefined(object["versionId"]),
    eventTime: timeOrUndefined(record["eventTime"]),
    source,
  };
}

function decodeEventBridge(document: Record<string, unknown>, body: string): DecodedNotification {
  const detailType = document["detail-type"] as string;
  if (detailType !== "Object Created") {
    const reason = detailType === "Object Deleted" ? "object-removed" : "other-event";

    return { kind: "objects", objects: [], ignored: [{ reason, detail: detailType }] };
  }
  const detail = isRecord(document["detail"]) ? document["detail"] : {};
  const bucket = isRecord(detail["bucket"]) ? detail["bucket"]["name"] : undefined;
  const object = isRecord(detail["object"]) ? detail["object"] : {};
  const key = object["key"];
  if (typeof bucket !== "string" || bucket === "" || typeof key !== "string" || key === "") {
    return notANotification("the EventBridge event has no bucket name or object key", body);
  }
  const ref: ObjectRef = {
    bucket,
    key,
    size: numberOrUndefined(object["size"]),
    etag: stringOrUndefined(object["etag"]),
    sequencer: stringOrUndefined(object["sequencer"]),
    versionId: stringOrUndefined(object["version-id"]),
    eventTime: timeOrUndefined(document["time"]),
    source: "eventbridge",
  };

  return { kind: "objects", objects: [ref], ignored: [] };
}

function notANotification(reason: string, body: string): DecodedNotification {
  const excerpt =
    body.length > BODY_EXCERPT_CHARS ? `${body.slice(0, BODY_EXCERPT_CHARS)}...` : body;

  return { kind: "not-a-notification", reason, excerpt };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function describeJson(value: unknown): string {
  if (Array.isArray(value)) {
    return "a list";
  }
  if (value === null) {
    return "null";
  }
  const type = typeof value;

  return type === "object" ? "an object" : `a ${type}`;
}

function stringOrUndefined(value: unknown): string | undefined {
  return typeof value === "string" && value !== "" ? value : undefined;
}

function numberOrUndefined(value: unknown): number | undefined {
  return typeof value === "number" && Number.isFinite(value) ? value : undefined;
}

function timeOrUndefined(value: unknown): number | undefined {
  if (typeof value !== "string") {
    return undefined;
  }
  const time = Date.parse(value);

  return Number.isNaN(time) ? undefined : time;
}
