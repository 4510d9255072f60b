import type Transport from "winston-transport";

import { ConfigurationError } from "../errors/ConfigurationError.js";
import { ModuleError, describeError } from "../errors/ModuleError.js";
import { HttpTransport } from "../http/HttpTransport.js";
import { createLogger, type Logger } from "./createLogger.js";
import { Liveness } from "./Liveness.js";
import { Metrics } from "./Metrics.js";
import type { ModuleCommand, RuntimeContext } from "./RuntimeContext.js";
import { SchemaValidator } from "./SchemaValidator.js";
import { SecretRedactor } from "./SecretRedactor.js";
import { SymphonyConfig } from "./SymphonyConfig.js";

/** Arguments that ask for the list of commands. */
const HELP_COMMANDS = new Set(["help", "--help", "-h"]);

/** How a registered command is described and built. */
export interface CommandRegistration {
  description: string;
  create: () => ModuleCommand;
}

/** Builds extra log transports (the platform logs API) once the context exists. */
export type TransportFactory = (services: {
  symphony: SymphonyConfig;
  http: HttpTransport;
  redactor: SecretRedactor;
}) => Transport[];

export interface ModuleRunnerOptions {
  /** Extra log transports, e.g. the platform logs API; none by default. */
  transports?: TransportFactory;
  /** Where usage errors go; stderr by default. */
  stderr?: NodeJS.WritableStream;
  /** Where `--help` goes; stdout by default. */
  stdout?: NodeJS.WritableStream;
  /** Signals that stop the command; SIGTERM and SIGINT by default. */
  signals?: NodeJS.Signals[];
}

/**
 * The module process: picks the command named by the first argument (the trigger's
 * `docker_parameters`), builds the shared services, runs it, and turns SIGTERM/SIGINT into
 * a clean stop. Unknown commands exit with 1 and the list of known ones.
 */
export class ModuleRunner {
  private readonly commands = new Map<string, CommandRegistration>();

  constructor(private readonly options: ModuleRunnerOptions = {}) {}

  register(name: string, registration: CommandRegistration): this {
    this.commands.set(name, registration);

    return this;
  }

  /** Runs `argv` (without node and the script) and resolves to the exit code. */
  async run(argv: readonly string[]): Promise<number> {
    const [name = "", ...args] = argv;
    if (HELP_COMMANDS.has(name)) {
      this.printUsage(undefined, this.options.stdout ?? process.stdout);

      return 0;
    }
    const registration = this.commands.get(name);
    if (registration === undefined) {
      this.printUsage(name, this.options.stderr ?? process.stderr);

      return 1;
    }

    const redactor = new SecretRedactor();
    const symphony = new SymphonyConfig();
    const http = new HttpTransport();
    let transports: Transport[] = [];
    try {
      transports = this.options.transports?.({ symphony, http, redactor }) ?? [];
    } catch (error: unknown) {
      process.stderr.write(`Platform logs are disabled: ${describeError(error)}\n`);
    }
    const liveness = new Liveness();
    const logger = createLogger({
      redactor,
      transports,
      onCritical: (message) => liveness.markCritical(redactor.redactText(message)),
    });
    const controller = new AbortController();
    const signals = this.options.signals ?? ["SIGTERM", "SIGINT"];
    const onSignal = (signal: NodeJS.Signals): void => {
      logger.info("stop requested", { signal });
      controller.abort();
    };
    for (const signal of signals) {
      process.on(signal, onSignal);
    }

    const context: RuntimeContext = {
      symphony,
      logger,
      redactor,
      metrics: new Metrics(),
      liveness,
      http,
      validator: new SchemaValidator(),
      shutdown: controller.signal,
      args,
    };
    try {
      return await registration.create().run(context);
    } catch (error: unknown) {
      if (controller.signal.aborted) {
        logger.info("stopped before the command completed", { reason: describeError(error) });

        return 0;
      }
      reportFatal(logger, error);

      return 1;
    } finally {
      for (const signal of signals) {
        process.off(signal, onSignal);
      }
      await closeLogger(logger);
      http.close();
    }
  }

  private printUsage(name: string | undefined, out: NodeJS.WritableStream): void {
    const known = [...this.commands.entries()]
      .map(([command, registration]) => `  ${command.padEnd(32)} ${registration.description}`)
      .join("\n");
    let problem = "Usage: node dist/main.js <command> [arguments].";
    if (name !== undefined) {
      problem = name === "" ? "No command given." : `Unknown command "${name}".`;
    }
    out.write(`${problem} Known commands:\n${known}\n`);
  }
}

/** Configuration errors are critical (the platform shows them); others are plain errors. */
function reportFatal(logger: Logger, error: unknown): void {
  if (error instanceof ConfigurationError) {
    logger.log("critical", error.message, { code: error.code, fields: error.fields });

    return;
  }
  if (ModuleError.isModuleError(error)) {
    logger.log("critical", error.message, { code: error.code });

    return;
  }
  logger.log("critical", "the command stopped on an unexpected error", { error });
}

/** Waits until every transport has written what it holds (platform logs included). */
async function closeLogger(logger: Logger): Promise<void> {
  const flushes = logger.transports.map(
    (transport) =>
      new Promise<void>((resolve) => {
        const flushable = transport as Transport & { flush?: () => Promise<void> };
        if (typeof flushable.flush === "function") {
          flushable.flush().then(resolve, () => resolve());
        } else {
          resolve();
        }
      }),
  );
  await Promise.all(flushes);
  logger.close();
}
