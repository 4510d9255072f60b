import { loadModuleConfigurationSchema } from "../runtime/PackageFiles.js";
import type { RuntimeContext } from "../runtime/RuntimeContext.js";
import { fetchModuleSecrets } from "../runtime/SecretsClient.js";
import { parseModuleConfiguration, type ModuleConfiguration } from "./ModuleConfiguration.js";

const SOURCE = "module_configuration";

/**
 * Reads `module_configuration`, merges the secrets the platform holds for it (when the
 * platform provides a secrets endpoint), and validates the result. Never runs on the
 * placeholders the platform writes in place of secret values.
 */
export async function loadAwsModuleConfiguration(
  context: Pick<RuntimeContext, "symphony" | "http" | "logger" | "redactor" | "validator"> & {
    shutdown?: AbortSignal;
  },
): Promise<ModuleConfiguration> {
  const schema = loadModuleConfigurationSchema();
  const raw = context.symphony.requireJson(SOURCE);
  const secrets = await fetchModuleSecrets({
    symphony: context.symphony,
    http: context.http,
    logger: context.logger,
    redactor: context.redactor,
    secretKeys: schema.secrets ?? [],
    ...(context.shutdown === undefined ? {} : { signal: context.shutdown }),
  });
  const merged =
    secrets === undefined || typeof raw !== "object" || raw === null
      ? raw
      : { ...(raw as Record<string, unknown>), ...secrets };
  const configuration = parseModuleConfiguration(merged, schema, context.validator);
  context.redactor.add(configuration.aws_secret_access_key);

  return configuration;
}
