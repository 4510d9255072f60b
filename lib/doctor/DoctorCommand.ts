import { createStsClient } from "../aws/AwsAccountCheck.js";
import { createAwsClients } from "../aws/AwsClientFactory.js";
import { readAwsEndpoints } from "../aws/AwsEndpoints.js";
import { createCredentialProvider } from "../aws/createCredentialProvider.js";
import { loadAwsModuleConfiguration } from "../aws/loadAwsModuleConfiguration.js";
import type { ModuleConfiguration } from "../aws/ModuleConfiguration.js";
import { describeError } from "../errors/ModuleError.js";
import { loadTriggerDefinition } from "../runtime/PackageFiles.js";
import type { ModuleCommand, RuntimeContext } from "../runtime/RuntimeContext.js";
import { DoctorChecks, STEPS, type DoctorTriggerSettings } from "./DoctorChecks.js";
import { fail, pass, renderDoctorTable, skip, type DoctorStep } from "./DoctorStep.js";

/** The trigger whose configuration the doctor checks. */
export const DOCTOR_TRIGGER = "cisco_umbrella_ip_logs";

/** Exit code of a command-line usage error. */
const USAGE_EXIT_CODE = 2;

const USAGE = "Usage: doctor [--bucket <bucket name>] [--format text|json]";

export interface DoctorCommandOptions {
  /** Where the AWS endpoint overrides are read (`AWS_ENDPOINT_URL`...); process.env by default. */
  env?: NodeJS.ProcessEnv;
  /** Where the table goes; stdout by default. */
  out?: NodeJS.WritableStream;
}

interface DoctorArguments {
  bucket?: string;
  format: "text" | "json";
}

/**
 * Checks the AWS side of the set-up step by step, with the module's own configuration and
 * credentials: credentials (role assumption), caller identity, the queue in the module's
 * region, its attributes and access policy, the bucket's notification, and reading one object.
 * Prints a table (step, PASS/FAIL/SKIP, detail, remedy); exits 0 when nothing failed, else 1.
 * It never receives, deletes or changes a queue message.
 */
export class DoctorCommand implements ModuleCommand {
  private readonly env: NodeJS.ProcessEnv;
  private readonly out: NodeJS.WritableStream;

  constructor(options: DoctorCommandOptions = {}) {
    this.env = options.env ?? process.env;
    this.out = options.out ?? process.stdout;
  }

  async run(context: RuntimeContext): Promise<number> {
    const args = parseDoctorArguments(context.args);
    if (typeof args === "string") {
      this.out.write(`doctor: ${args}\n${USAGE}\n`);

      return USAGE_EXIT_CODE;
    }

    const steps = await this.check(context, args);
    const text =
      args.format === "json"
        ? `${JSON.stringify({ steps }, null, 2)}\n`
        : renderDoctorTable("AWS set-up check for the Cisco Umbrella IP logs trigger", steps);
    this.out.write(context.redactor.redactText(text));

    return steps.some((step) => step.result === "FAIL") ? 1 : 0;
  }

  private async check(context: RuntimeContext, args: DoctorArguments): Promise<DoctorStep[]> {
    const loaded = await loadConfigurations(context);
    if (!("configuration" in loaded)) {
      return [
        ...loaded.steps,
        ...Object.values(STEPS).map((name) => skip(name, "needs the configuration")),
      ];
    }

    const endpoints = readAwsEndpoints(this.env);
    const region = loaded.configuration.aws_region_name;
    const credentials = createCredentialProvider(loaded.configuration, { ...context, endpoints });
    const clients = createAwsClients({ region, credentials, endpoints });
    const sts = createStsClient(region, credentials, endpoints.sts);
    try {
      const checks = new DoctorChecks({
        configuration: loaded.configuration,
        trigger: loaded.trigger,
        credentials,
        clients,
        sts,
        ...(args.bucket === undefined ? {} : { bucket: args.bucket }),
      });

      return [...loaded.steps, ...(await checks.run())];
    } finally {
      clients.destroy();
      sts.destroy();
    }
  }
}

async function loadConfigurations(
  context: RuntimeContext,
): Promise<
  | { steps: DoctorStep[] }
  | { steps: DoctorStep[]; configuration: ModuleConfiguration; trigger: DoctorTriggerSettings }
> {
  let configuration: ModuleConfiguration;
  try {
    configuration = await loadAwsModuleConfiguration(context);
  } catch (error: unknown) {
    return {
      steps: [
        fail("module configuration", describeError(error), "Fix the module configuration."),
        skip("trigger configuration", "needs the module configuration"),
      ],
    };
  }
  const method = configuration.aws_role_arn === undefined ? "access key" : "IAM role";
  const moduleStep = pass(
    "module configuration",
    `region ${configuration.aws_region_name}, authentication by ${method}`,
  );
  let trigger: DoctorTriggerSettings;
  try {
    trigger = context.validator.validate<DoctorTriggerSettings>(
      loadTriggerDefinition(DOCTOR_TRIGGER).arguments,
      context.symphony.requireJson("trigger_configuration"),
      "trigger_configuration",
    );
  } catch (error: unknown) {
    return {
      steps: [
        moduleStep,
        fail("trigger configuration", describeError(error), "Fix the trigger configuration."),
      ],
    };
  }
  const queue = trigger.queue_url ?? trigger.queue_name ?? "";

  return {
    steps: [
      moduleStep,
      pass("trigger configuration", `queue ${queue}, key prefix "${trigger.key_prefix}"`),
    ],
    configuration,
    trigger,
  };
}

function parseDoctorArguments(args: readonly string[]): DoctorArguments | string {
  const parsed: DoctorArguments = { format: "text" };
  for (let index = 0; index < args.length; index += 2) {
    const flag = args[index];
    const value = args[index + 1];
    if (value === undefined || value.startsWith("--")) {
      return `${flag ?? ""} needs a value.`;
    }
    if (flag === "--bucket") {
      parsed.bucket = value;
    } else if (flag === "--format" && (value === "text" || value === "json")) {
      parsed.format = value;
    } else {
      return flag === "--format"
        ? `--format must be text or json, got "${value}".`
        : `Unknown argument ${flag ?? ""}.`;
    }
  }

  return parsed;
}
