import { ModuleError, type ModuleErrorOptions } from "../errors/ModuleError.js";

/** An HTTP request got no response: connection refused or reset, DNS failure, timeout. */
export class HttpRequestError extends ModuleError {
  readonly timedOut: boolean;
  readonly aborted: boolean;

  constructor(
    message: string,
    flags: { timedOut?: boolean; aborted?: boolean },
    options: ModuleErrorOptions = {},
  ) {
    super(flags.aborted ? "UMB_HTTP_ABORTED" : "UMB_HTTP_NO_RESPONSE", message, options);
    this.timedOut = flags.timedOut ?? false;
    this.aborted = flags.aborted ?? false;
  }
}
