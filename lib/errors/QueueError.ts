import { ModuleError, type ModuleErrorOptions } from "./ModuleError.js";

/** A call to SQS failed: receive, delete, change visibility, or resolving the queue. */
export class QueueError extends ModuleError {
  readonly operation: string;
  readonly queue: string;
  /** True when the failure is the configuration's (missing queue, no permission, bad keys). */
  readonly configurationProblem: boolean;

  constructor(
    operation: string,
    queue: string,
    configurationProblem: boolean,
    message: string,
    options: ModuleErrorOptions = {},
  ) {
    super(configurationProblem ? "UMB_QUEUE_CONFIGURATION" : "UMB_QUEUE", message, options);
    this.operation = operation;
    this.queue = queue;
    this.configurationProblem = configurationProblem;
  }
}
