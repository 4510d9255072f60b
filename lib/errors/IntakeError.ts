import { ModuleError, type ModuleErrorOptions } from "./ModuleError.js";

/**
 * Why the intake did not accept a batch. Outages and a refused key are not failures: the
 * client retries them in place until the intake accepts or the work is cancelled.
 */
export type IntakeFailureKind =
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
