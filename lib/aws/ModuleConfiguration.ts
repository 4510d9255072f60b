import { ConfigurationError } from "../errors/ConfigurationError.js";
import type { JsonSchema } from "../runtime/PackageFiles.js";
import type { SchemaValidator } from "../runtime/SchemaValidator.js";

const SOURCE = "module_configuration";

/** The module configuration (manifest `configuration`), validated. */
export interface ModuleConfiguration {
  aws_region_name: string;
  aws_role_arn?: string;
  aws_access_key?: string;
  aws_secret_access_key?: string;
}

/** How the module authenticates to AWS; exactly one is configured. */
export type AwsAuthMethod =
  | { kind: "role"; roleArn: string }
  | { kind: "keys"; accessKeyId: string; secretAccessKey: string };

function isSet(value: unknown): boolean {
  return value !== undefined && value !== null && value !== "";
}

/**
 * Validates the module configuration. The choice of authentication method is checked first,
 * with a message that says what to fill, because the schema's `oneOf` alone explains it badly.
 */
export function parseModuleConfiguration(
  raw: unknown,
  schema: JsonSchema,
  validator: SchemaValidator,
): ModuleConfiguration {
  if (typeof raw === "object" && raw !== null && !Array.isArray(raw)) {
    checkAuthenticationChoice(raw as Record<string, unknown>);
  }

  return validator.validate<ModuleConfiguration>(schema, raw, SOURCE);
}

function checkAuthenticationChoice(raw: Record<string, unknown>): void {
  const role = isSet(raw["aws_role_arn"]);
  const key = isSet(raw["aws_access_key"]);
  const secret = isSet(raw["aws_secret_access_key"]);
  if (role && (key || secret)) {
    throw new ConfigurationError(
      SOURCE,
      ["aws_role_arn", "aws_access_key", "aws_secret_access_key"],
      `Invalid ${SOURCE}: both an IAM role ("aws_role_arn") and an access key ` +
        `("aws_access_key"/"aws_secret_access_key") are set. Keep one method: the role ` +
        "(recommended) or the access key, and empty the other fields.",
    );
  }
  if (!role && !key && !secret) {
    throw new ConfigurationError(
      SOURCE,
      ["aws_role_arn", "aws_access_key", "aws_secret_access_key"],
      `Invalid ${SOURCE}: no AWS authentication is configured. Fill "aws_role_arn" with ` +
        `the ARN of a role that trusts the Sekoia.io OIDC provider (recommended), or fill ` +
        `both "aws_access_key" and "aws_secret_access_key".`,
    );
  }
  if (!role && key !== secret) {
    const missing = key ? "aws_secret_access_key" : "aws_access_key";
    throw new ConfigurationError(
      SOURCE,
      [missing],
      `Invalid ${SOURCE}: "${missing}" is missing. An access key needs both ` +
        `"aws_access_key" and "aws_secret_access_key".`,
    );
  }
}

/** The authentication method of a validated configuration. */
export function authMethodOf(configuration: ModuleConfiguration): AwsAuthMethod {
  if (configuration.aws_role_arn !== undefined) {
    return { kind: "role", roleArn: configuration.aws_role_arn };
  }

  return {
    kind: "keys",
    accessKeyId: configuration.aws_access_key ?? "",
    secretAccessKey: configuration.aws_secret_access_key ?? "",
  };
}
