import { ConfigurationError } from "../errors/ConfigurationError.js";
import { runAccountValidation } from "../runtime/AccountValidation.js";
import { loadModuleConfigurationSchema } from "../runtime/PackageFiles.js";
import type { ModuleCommand, RuntimeContext } from "../runtime/RuntimeContext.js";
import { checkAwsAccount } from "./AwsAccountCheck.js";
import { parseModuleConfiguration } from "./ModuleConfiguration.js";

/**
 * `validate_module_configuration`, the account validator the platform runs when the customer
 * presses "validate": checks the module configuration against AWS (credentials or role
 * assumption, caller identity, and the queue when a trigger configuration names one) and
 * reports a verdict with a precise remedy. Always reports `finished`.
 */
export class ValidateModuleConfigurationCommand implements ModuleCommand {
  run(context: RuntimeContext): Promise<number> {
    const schema = loadModuleConfigurationSchema();

    return runAccountValidation(context, schema.secrets ?? [], async (raw) => {
      let configuration;
      try {
        configuration = parseModuleConfiguration(raw, schema, context.validator);
      } catch (error: unknown) {
        if (error instanceof ConfigurationError) {
          return { success: false, error: error.message };
        }
        throw error;
      }
      context.redactor.add(configuration.aws_secret_access_key);

      return checkAwsAccount(configuration, context, queueOf(context));
    });
  }
}

/** The queue of a trigger configuration, when the validator was given one. */
function queueOf(context: RuntimeContext): { name?: string; url?: string } | undefined {
  let trigger: unknown;
  try {
    trigger = context.symphony.readJson("trigger_configuration");
  } catch {
    return undefined;
  }
  if (typeof trigger !== "object" || trigger === null) {
    return undefined;
  }
  const { queue_name: name, queue_url: url } = trigger as Record<string, unknown>;
  if (typeof url === "string" && url !== "") {
    return { url };
  }

  return typeof name === "string" && name !== "" ? { name } : undefined;
}
