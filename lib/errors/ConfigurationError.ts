import { ModuleError, type ModuleErrorOptions } from "./ModuleError.js";

/**
 * A configuration value is missing or wrong. The message names the configuration, the field
 * and what is expected, so that the person fixing it needs nothing else.
 */
export class ConfigurationError extends ModuleError {
  /** Which configuration holds the faulty field, e.g. `trigger_configuration`. */
  readonly source: string;
  /** The faulty fields, as JSON pointers without the leading slash (`intake_key`). */
  readonly fields: readonly string[];

  constructor(
    source: string,
    fields: readonly string[],
    message: string,
    options: ModuleErrorOptions = {},
  ) {
    super("UMB_CONFIGURATION", message, options);
    this.source = source;
    this.fields = fields;
  }
}
