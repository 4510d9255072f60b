import { ModuleError } from "../errors/ModuleError.js";

/** What kind of failure an AWS call ended with, decided once for the whole module. */
export type AwsErrorKind =
  /** The service asks us to slow down (SlowDown, ThrottlingException, 429, 503). */
  | "throttled"
  /** The service failed on its side (5xx other than 503). */
  | "server"
  /** No usable answer: connection refused or reset, timeout, DNS failure. */
  | "network"
  /** The queue, bucket or object does not exist. */
  | "not-found"
  /** The credentials are valid but not allowed to do this. */
  | "access-denied"
  /** The credentials themselves are refused: unknown key, bad signature, expired token. */
  | "auth"
  /** The request is wrong and would fail again the same way. */
  | "invalid-request"
  /** The caller cancelled the call. */
  | "aborted"
  | "unknown";

/** The verdict on one error, with what identifies it in AWS support requests. */
export interface AwsErrorClassification {
  kind: AwsErrorKind;
  /** True when the same call may succeed later without anybody changing anything. */
  retryable: boolean;
  /** The AWS error code (`NoSuchKey`) or the JavaScript error name. */
  name: string;
  status?: number;
  requestId?: string;
}

const NOT_FOUND_NAMES = new Set([
  "NoSuchKey",
  "NoSuchBucket",
  "NotFound",
  "NoSuchEntity",
  "NoSuchVersion",
  "QueueDoesNotExist",
  "AWS.SimpleQueueService.NonExistentQueue",
]);

const ACCESS_DENIED_NAMES = new Set([
  "AccessDenied",
  "AccessDeniedException",
  "AllAccessDisabled",
  "AuthorizationError",
  "KMS.AccessDeniedException",
]);

/** Credential failures that a fresh set of credentials, or a later attempt, can cure. */
const EXPIRED_AUTH_NAMES = new Set([
  "ExpiredToken",
  "ExpiredTokenException",
  "RequestExpired",
  "RequestTimeTooSkewed",
  "TokenRefreshRequired",
]);

const AUTH_NAMES = new Set([
  ...EXPIRED_AUTH_NAMES,
  "InvalidClientTokenId",
  "SignatureDoesNotMatch",
  "UnrecognizedClientException",
  "InvalidAccessKeyId",
  "InvalidToken",
  "IncompleteSignature",
  "MissingAuthenticationToken",
  "AuthFailure",
]);

const THROTTLED_NAMES = new Set([
  "SlowDown",
  "Throttling",
  "ThrottlingException",
  "ThrottledException",
  "RequestThrottled",
  "RequestThrottledException",
  "TooManyRequestsException",
  "RequestLimitExceeded",
  "BandwidthLimitExceeded",
  "ServiceUnavailable",
  "PriorRequestNotComplete",
]);

/** Failures on the service side, including the role-assumption IdP being unreachable. */
const SERVER_NAMES = new Set([
  "InternalError",
  "InternalFailure",
  "ServiceFailure",
  "IDPCommunicationError",
  "IDPCommunicationErrorException",
]);

const NETWORK_NAMES = new Set(["TimeoutError", "RequestTimeout", "RequestTimeoutException"]);

const NETWORK_CODES = new Set([
  "ECONNRESET",
  "ECONNREFUSED",
  "ECONNABORTED",
  "ETIMEDOUT",
  "EPIPE",
  "ENOTFOUND",
  "EAI_AGAIN",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "ENETDOWN",
  "ERR_HTTP2_STREAM_ERROR",
  "UND_ERR_SOCKET",
  "UND_ERR_CONNECT_TIMEOUT",
]);

/** The parts of an AWS SDK v3 error (ServiceException, network error) we decide from. */
interface ErrorShape {
  name?: unknown;
  code?: unknown;
  Code?: unknown;
  $fault?: unknown;
  $metadata?: { httpStatusCode?: unknown; requestId?: unknown };
  $retryable?: { throttling?: unknown };
  $response?: { statusCode?: unknown };
  status?: unknown;
  cause?: unknown;
}

/**
 * Classifies an error thrown by an AWS SDK v3 call from its `name` (the AWS error code), the
 * SQS query-compatible `Code`, `$metadata.httpStatusCode`, `$retryable`, and Node's network
 * error codes. Errors that carry no information at all are `unknown` and counted retryable,
 * so that a queue message is kept rather than lost; the receive count bounds those retries.
 */
export function classifyAwsError(error: unknown): AwsErrorClassification {
  if (typeof error !== "object" || error === null) {
    return { kind: "unknown", retryable: true, name: typeof error };
  }
  const shape = error as ErrorShape;
  const name = stringOf(shape.name) ?? "Error";
  const base = withMetadata(name, shape);
  const kind = decideKind(name, shape, base.status);

  return { ...base, kind, retryable: isRetryable(kind, name, shape) };
}

function decideKind(name: string, shape: ErrorShape, status: number | undefined): AwsErrorKind {
  const code = stringOf(shape.code);
  const queryCode = stringOf(shape.Code);
  if (name === "AbortError" || code === "ABORT_ERR") {
    return "aborted";
  }
  if (ModuleError.isModuleError(shape) && code === "UMB_HTTP_ABORTED") {
    return "aborted";
  }
  if ((code !== undefined && NETWORK_CODES.has(code)) || NETWORK_NAMES.has(name)) {
    return "network";
  }
  if (ModuleError.isModuleError(shape) && code === "UMB_HTTP_NO_RESPONSE") {
    return "network";
  }
  if (ModuleError.isModuleError(shape) && code === "UMB_CREDENTIALS") {
    return "auth";
  }

  return decideByName(name) ?? decideByName(queryCode) ?? decideByStatus(status, shape);
}

function decideByName(name: string | undefined): AwsErrorKind | undefined {
  if (name === undefined) {
    return undefined;
  }
  if (NOT_FOUND_NAMES.has(name)) {
    return "not-found";
  }
  if (AUTH_NAMES.has(name)) {
    return "auth";
  }
  if (ACCESS_DENIED_NAMES.has(name)) {
    return "access-denied";
  }
  if (THROTTLED_NAMES.has(name)) {
    return "throttled";
  }
  if (SERVER_NAMES.has(name)) {
    return "server";
  }

  return undefined;
}

function decideByStatus(status: number | undefined, shape: ErrorShape): AwsErrorKind {
  if (shape.$retryable?.throttling === true || status === 429 || status === 503) {
    return "throttled";
  }
  if (status === 401) {
    return "auth";
  }
  if (status === 403) {
    return "access-denied";
  }
  if (status === 404) {
    return "not-found";
  }
  if (status !== undefined && status >= 500) {
    return "server";
  }
  if (status !== undefined && status >= 400) {
    return "invalid-request";
  }
  if (shape.$fault === "server") {
    return "server";
  }

  return "unknown";
}

function isRetryable(kind: AwsErrorKind, name: string, shape: ErrorShape): boolean {
  switch (kind) {
    case "throttled":
    case "server":
    case "network":
    case "unknown":
      return true;
    case "auth":
      return EXPIRED_AUTH_NAMES.has(name) || isTransientCredentialsFailure(shape);
    default:
      return false;
  }
}

/** A CredentialsError whose cause was a network failure or a platform or STS outage. */
function isTransientCredentialsFailure(shape: ErrorShape): boolean {
  if (!ModuleError.isModuleError(shape) || shape.cause === undefined) {
    return false;
  }
  const cause = classifyAwsError(shape.cause).kind;

  return cause === "network" || cause === "throttled" || cause === "server";
}

function withMetadata(
  name: string,
  shape: ErrorShape,
): { name: string; status?: number; requestId?: string } {
  // Our own platform errors carry the HTTP status as `status`.
  const status =
    numberOf(shape.$metadata?.httpStatusCode) ??
    numberOf(shape.$response?.statusCode) ??
    (ModuleError.isModuleError(shape) ? numberOf((shape as ErrorShape).status) : undefined);
  const requestId = stringOf(shape.$metadata?.requestId);

  return {
    name,
    ...(status === undefined ? {} : { status }),
    ...(requestId === undefined ? {} : { requestId }),
  };
}

function stringOf(value: unknown): string | undefined {
  return typeof value === "string" && value !== "" ? value : undefined;
}

function numberOf(value: unknown): number | undefined {
  return typeof value === "number" && Number.isFinite(value) ? value : undefined;
}
