import { ModuleError, type ModuleErrorOptions } from "./ModuleError.js";

/** Why the intake did not accept a batch. */
export type IntakeFailureKind =
  /** 401, 403 or 404: the intake key or the intake server is wrong. Retrying soon is useless. */
  | "rejected"
  /** 429, 5xx, a timeout or a network error, still failing after the retries. */
  | "unavailable"
  /** 400, 413 or another status that says the batch itself is at fault. */
  | "refused-batch"
  /** The work was cancelled (shutdown). */
  | "aborted";

/** A POST to the intake's batch endpoint failed for good. */
export class IntakeError extends ModuleError {
  readonly kind: IntakeFailureKind;
  /** The last HTTP status, when the intake answered. */
  readonly status: number | undefined;

  constructor(
    kind: IntakeFailureKind,
    status: number | undefined,
    message: string,
    options: ModuleErrorOptions = {},
  ) {
    super(`UMB_INTAKE_${kind.toUpperCase().replace("-", "_")}`, message, options);
    this.kind = kind;
    this.status = status;
  }
}
