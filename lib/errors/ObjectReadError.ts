import { ModuleError, type ModuleErrorOptions } from "./ModuleError.js";

/** What went wrong with one S3 object, decided once in `classifyAwsError` or the decoder. */
export type ObjectFailureKind =
  /** The object no longer exists: the notification can never succeed. */
  | "missing"
  /** The credentials may not read it: fixable by the customer, the message is kept. */
  | "access-denied"
  /** Throttling, 5xx or a network error, still failing after the retries. */
  | "transient"
  /** The gzip stream is damaged or truncated: what came before was forwarded. */
  | "corrupt"
  /** The work was cancelled (shutdown). */
  | "aborted"
  /** Anything else. */
  | "unknown";

/** Reading one S3 object failed. Names the bucket and key, and the byte offset when known. */
export class ObjectReadError extends ModuleError {
  readonly kind: ObjectFailureKind;
  readonly bucket: string;
  readonly key: string;
  /** Offset in the stored (compressed) object where the failure happened, when known. */
  readonly offset: number | undefined;

  constructor(
    kind: ObjectFailureKind,
    location: { bucket: string; key: string; offset?: number },
    message: string,
    options: ModuleErrorOptions = {},
  ) {
    super(`UMB_OBJECT_${kind.toUpperCase().replace("-", "_")}`, message, options);
    this.kind = kind;
    this.bucket = location.bucket;
    this.key = location.key;
    this.offset = location.offset;
  }
}
