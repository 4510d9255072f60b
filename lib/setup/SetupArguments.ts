import { ConfigurationError } from "../errors/ConfigurationError.js";

/** The folder Umbrella writes IP logs to, and the trigger's default `key_prefix`. */
export const DEFAULT_KEY_PREFIX = "iplogs/";

/** IAM role created for the module when `--role-name` is not given. */
export const DEFAULT_ROLE_NAME = "sekoia-umbrella-s3";

/** IAM user created for the module when `--user-name` is not given. */
export const DEFAULT_USER_NAME = "sekoia-umbrella-s3";

const SOURCE = "setup arguments";

/** What the setup assistant needs to know about the customer's AWS set-up. */
export interface SetupOptions {
  accountId: string;
  region: string;
  bucket: string;
  queue: string;
  auth: "role" | "keys";
  prefix: string;
  /** Role access only. */
  communityUuid?: string;
  moduleConfigurationUuid?: string;
  /** Host and path of the Sekoia.io OIDC issuer, without `https://`. */
  oidcIssuer?: string;
  roleName: string;
  userName: string;
  /** Customer managed KMS key of the bucket's SSE-KMS encryption, if any. */
  kmsKeyArn?: string;
  outputDir?: string;
}

interface FlagRule {
  pattern: RegExp;
  expected: string;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const IAM_NAME = /^[\w+=,.@-]{1,64}$/;

const RULES: Record<string, FlagRule> = {
  "account-id": { pattern: /^\d{12}$/, expected: "a 12-digit AWS account ID" },
  region: { pattern: /^[a-z]{2}(-[a-z]+)+-\d+$/, expected: "an AWS region such as eu-west-1" },
  bucket: {
    pattern: /^(?!\d+\.\d+\.\d+\.\d+$)(?!.*\.\.)[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/,
    expected: "an S3 bucket name (3-63 lower-case letters, digits, dots, hyphens)",
  },
  queue: {
    pattern: /^[A-Za-z0-9_-]{1,80}$/,
    expected:
      "a standard SQS queue name (1-80 letters, digits, - or _; S3 cannot notify FIFO queues)",
  },
  auth: { pattern: /^(role|keys)$/, expected: "role or keys" },
  prefix: {
    pattern: /^(?!\/)[^*?]{0,1024}$/,
    expected: "an S3 key prefix such as iplogs/ (no leading slash, no wildcard)",
  },
  "community-uuid": { pattern: UUID, expected: "a UUID" },
  "module-configuration-uuid": { pattern: UUID, expected: "a UUID" },
  "oidc-issuer": {
    pattern: /^[a-z0-9]([a-z0-9.-]*[a-z0-9])?(:\d+)?(\/[\w.~%-]+)*$/i,
    expected: "the issuer's host and path without https://, e.g. <host>/<path>",
  },
  "role-name": { pattern: IAM_NAME, expected: "an IAM role name (1-64 characters)" },
  "user-name": { pattern: IAM_NAME, expected: "an IAM user name (1-64 characters)" },
  "kms-key-arn": {
    pattern: /^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key\/[\w-]+$/,
    expected: "a KMS key ARN (arn:aws:kms:<region>:<account>:key/<key id>)",
  },
  "output-dir": { pattern: /^.+$/, expected: "a directory path" },
};

const REQUIRED = ["account-id", "region", "bucket", "queue", "auth"];
const REQUIRED_FOR_ROLE = ["community-uuid", "module-configuration-uuid", "oidc-issuer"];

/** Where the customer finds the values only Sekoia.io knows. */
const HINTS: Record<string, string> = {
  "community-uuid": " It is the UUID of your Sekoia.io community.",
  "module-configuration-uuid":
    " It is the UUID of the AWS module configuration (account) in Sekoia.io: create it " +
    "first with the role ARN arn:aws:iam::<account>:role/<role name>, then read its UUID there.",
  "oidc-issuer":
    " Sekoia.io gives it in its documentation of AWS role access (ask Sekoia.io support " +
    "otherwise); this tool does not know it and will not guess it.",
};

/**
 * Reads `--flag value` or `--flag=value` pairs. A missing, unknown or malformed flag is a
 * ConfigurationError that names the flag and the expected form.
 */
export function parseSetupArguments(args: readonly string[]): SetupOptions {
  const values = readFlags(args);
  for (const flag of REQUIRED) {
    requirePresent(values, flag, "");
  }
  if (values.get("auth") === "role") {
    for (const flag of REQUIRED_FOR_ROLE) {
      requirePresent(values, flag, " with --auth role");
    }
  }
  const get = (flag: string): string | undefined => values.get(flag);
  const options: SetupOptions = {
    accountId: get("account-id") ?? "",
    region: get("region") ?? "",
    bucket: get("bucket") ?? "",
    queue: get("queue") ?? "",
    auth: get("auth") === "role" ? "role" : "keys",
    prefix: get("prefix") ?? DEFAULT_KEY_PREFIX,
    roleName: get("role-name") ?? DEFAULT_ROLE_NAME,
    userName: get("user-name") ?? DEFAULT_USER_NAME,
  };
  const optional: [keyof SetupOptions, string][] = [
    ["communityUuid", "community-uuid"],
    ["moduleConfigurationUuid", "module-configuration-uuid"],
    ["oidcIssuer", "oidc-issuer"],
    ["kmsKeyArn", "kms-key-arn"],
    ["outputDir", "output-dir"],
  ];
  for (const [key, flag] of optional) {
    const value = get(flag);
    if (value !== undefined) {
      Object.assign(options, { [key]: value });
    }
  }

  return options;
}

function readFlags(args: readonly string[]): Map<string, string> {
  const values = new Map<string, string>();
  for (let index = 0; index < args.length; index += 1) {
    const arg = args[index] ?? "";
    if (!arg.startsWith("--")) {
      throw invalid(
        [],
        `Unexpected argument "${arg}": every setting is a --flag followed by its value.`,
      );
    }
    const equals = arg.indexOf("=");
    const flag = arg.slice(2, equals === -1 ? undefined : equals);
    const rule = RULES[flag];
    if (rule === undefined) {
      throw invalid(
        [flag],
        `Unknown flag --${flag}. Known flags: ${Object.keys(RULES)
          .map((f) => `--${f}`)
          .join(", ")}.`,
      );
    }
    let value = equals === -1 ? args[index + 1] : arg.slice(equals + 1);
    if (equals === -1) {
      index += 1;
    }
    if (value === undefined || (equals === -1 && value.startsWith("--"))) {
      throw invalid([flag], `--${flag} needs a value: ${rule.expected}.`);
    }
    value = normalise(flag, value.trim());
    if (!rule.pattern.test(value)) {
      throw invalid([flag], `--${flag} "${value}" is not valid: expected ${rule.expected}.`);
    }
    values.set(flag, value);
  }

  return values;
}

/** Accepts the issuer as a URL too, since that is how it is usually written. */
function normalise(flag: string, value: string): string {
  if (flag === "oidc-issuer") {
    return value.replace(/^https:\/\//i, "").replace(/\/+$/, "");
  }

  return value;
}

function requirePresent(values: Map<string, string>, flag: string, context: string): void {
  if (!values.has(flag)) {
    const rule = RULES[flag];
    const hint = HINTS[flag] ?? "";
    throw invalid(
      [flag],
      `--${flag} is required${context}: ${rule?.expected ?? "a value"}.${hint}`,
    );
  }
}

function invalid(fields: string[], message: string): ConfigurationError {
  return new ConfigurationError(SOURCE, fields, message);
}
