import { ModuleError, type ModuleErrorOptions } from "./ModuleError.js";

/** A call to the Sekoia.io platform API (secrets, logs, callback, token) failed for good. */
export class PlatformError extends ModuleError {
  /** The operation, e.g. `fetch secrets`. */
  readonly operation: string;
  readonly status: number | undefined;

  constructor(
    operation: string,
    status: number | undefined,
    message: string,
    options: ModuleErrorOptions = {},
  ) {
    super("UMB_PLATFORM", message, options);
    this.operation = operation;
    this.status = status;
  }
}
