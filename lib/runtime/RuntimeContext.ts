import type { HttpTransport } from "../http/HttpTransport.js";
import type { Logger } from "./createLogger.js";
import type { Liveness } from "./Liveness.js";
import type { Metrics } from "./Metrics.js";
import type { SchemaValidator } from "./SchemaValidator.js";
import type { SecretRedactor } from "./SecretRedactor.js";
import type { SymphonyConfig } from "./SymphonyConfig.js";

/**
 * What every command receives from the runtime: the configuration source, the logger and the
 * shared services. Built once per process by ModuleRunner.
 */
export interface RuntimeContext {
  readonly symphony: SymphonyConfig;
  readonly logger: Logger;
  readonly redactor: SecretRedactor;
  readonly metrics: Metrics;
  readonly liveness: Liveness;
  readonly http: HttpTransport;
  readonly validator: SchemaValidator;
  /** Aborted on SIGTERM or SIGINT. */
  readonly shutdown: AbortSignal;
  /** Command-line arguments after the command name. */
  readonly args: readonly string[];
}

/** A command the module answers to: a trigger, the account validator, a tool. */
export interface ModuleCommand {
  /** Runs until done or until `context.shutdown` aborts; resolves to the exit code. */
  run(context: RuntimeContext): Promise<number>;
}
