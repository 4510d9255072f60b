/** How a notification reached us; decides how its key is encoded. */
export type NotificationSource = "s3" | "sns" | "eventbridge";

/** One S3 object announced by a notification, key already decoded. */
export interface ObjectRef {
  readonly bucket: string;
  readonly key: string;
  readonly size: number | undefined;
  readonly etag: string | undefined;
  readonly sequencer: string | undefined;
  readonly versionId: string | undefined;
  /** When S3 says the object was created, in epoch milliseconds. */
  readonly eventTime: number | undefined;
  readonly source: NotificationSource;
}

/** `bucket/key`, for log fields and messages. */
export function describeObject(ref: Pick<ObjectRef, "bucket" | "key">): string {
  return `${ref.bucket}/${ref.key}`;
}

/**
 * Identifies one version of an object across notifications: S3 may announce the same
 * version twice (at-least-once delivery), with the same ETag or sequencer.
 */
export function objectVersionId(ref: ObjectRef): string {
  const version = ref.versionId ?? ref.etag ?? ref.sequencer ?? "";

  return `${ref.bucket}\u0000${ref.key}\u0000${version}`;
}
