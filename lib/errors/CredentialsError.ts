import { ModuleError, type ModuleErrorOptions } from "./ModuleError.js";

/** AWS credentials could not be obtained (OIDC token, role assumption). */
export class CredentialsError extends ModuleError {
  /** What the customer should do about it. */
  readonly remedy: string;

  constructor(message: string, remedy: string, options: ModuleErrorOptions = {}) {
    super("UMB_CREDENTIALS", `${message} ${remedy}`.trim(), options);
    this.remedy = remedy;
  }
}
