const MODULE_ERROR_BRAND = Symbol.for("sekoia-umbrella-s3.ModuleError");

/** Options shared by every error of this module. */
export interface ModuleErrorOptions {
  /** The error that caused this one, kept for diagnosis. */
  cause?: unknown;
}

/**
 * Base of every error this module raises on purpose. Each subclass has a stable `code`
 * under the `UMB_` prefix; messages name the operation and its target, never a secret.
 */
export class ModuleError extends Error {
  readonly code: string;

  constructor(code: string, message: string, options: ModuleErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    Object.defineProperty(this, MODULE_ERROR_BRAND, { value: true });
  }

  /** True for a ModuleError, even one created by another installed copy of this package. */
  static isModuleError(value: unknown): value is ModuleError {
    return typeof value === "object" && value !== null && MODULE_ERROR_BRAND in value;
  }
}

/** The message of anything thrown, for log fields. */
export function describeError(error: unknown): string {
  if (error instanceof Error) {
    return error.message;
  }

  return String(error);
}
