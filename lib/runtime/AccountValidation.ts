import { ConfigurationError } from "../errors/ConfigurationError.js";
import { describeError } from "../errors/ModuleError.js";
import { PlaybookClient, type PlaybookClientOptions } from "./PlaybookClient.js";
import type { RuntimeContext } from "./RuntimeContext.js";

/** What the module's check of its configuration concludes. */
export interface ValidationVerdict {
  success: boolean;
  /** Shown to the user when the check fails: what is wrong and how to fix it. */
  error?: string;
}

/** Checks a module configuration (secrets merged) against the outside world. */
export type ConfigurationCheck = (
  moduleConfiguration: Record<string, unknown>,
) => Promise<ValidationVerdict>;

/** Services the validation uses. */
export type AccountValidationContext = Pick<
  RuntimeContext,
  "symphony" | "http" | "logger" | "redactor"
>;

/** Tunables of the callback requests, for tests. */
export type AccountValidationOptions = Pick<
  PlaybookClientOptions,
  "retryDelaysMs" | "requestTimeoutMs"
>;

const SOURCE = "module_configuration";

/**
 * The `validate_module_configuration` command (RUNTIME.md 8): reports `running`, merges the
 * secrets the platform answers with into the module configuration, runs `validate`, and
 * ALWAYS reports `finished`, also when the check throws or the configuration cannot be read
 * (the Python SDK leaves the task stuck in that case). Resolves to 0 once `finished` was
 * delivered, whatever the verdict, and to 1 otherwise. Without `url_callback` (a local run)
 * the verdict is only logged, and the exit code is 0 for success.
 */
export async function runAccountValidation(
  context: AccountValidationContext,
  secretKeys: readonly string[],
  validate: ConfigurationCheck,
  options: AccountValidationOptions = {},
): Promise<number> {
  const { logger } = context;
  const client = PlaybookClient.fromSymphony(context, options);
  if (client === undefined) {
    logger.log("warning", "no url_callback or token: the verdict is only logged");
    // Locally the configuration file holds the real secrets: there is nothing to merge.
    const verdict = await judge(context, [], undefined, validate);
    logger.log(verdict.success ? "info" : "error", "account validation done", { ...verdict });

    return verdict.success ? 0 : 1;
  }

  logger.info("account validation started");
  let verdict: ValidationVerdict;
  try {
    const answer = await client.call("PATCH", { status: "running" }, "report validation running");
    verdict = await judge(context, secretKeys, answer, validate);
  } catch (error: unknown) {
    logger.error("account validation could not report running", { error });
    verdict = {
      success: false,
      error: `the platform did not take the validation: ${describeError(error)}`,
    };
  }

  const redacted = redactVerdict(context, verdict);
  try {
    await client.call("PATCH", finishedBody(redacted), "report validation result");
    logger.info("account validation reported", { ...redacted });

    return 0;
  } catch (error: unknown) {
    logger.error("account validation result could not be reported", { error, ...redacted });

    return 1;
  }
}

/** Runs the check; every failure becomes a verdict that says what failed. */
async function judge(
  context: AccountValidationContext,
  secretKeys: readonly string[],
  answer: unknown,
  validate: ConfigurationCheck,
): Promise<ValidationVerdict> {
  let configuration: Record<string, unknown>;
  try {
    configuration = mergeSecrets(context, secretKeys, answer);
  } catch (error: unknown) {
    return {
      success: false,
      error: `the module configuration cannot be read: ${describeError(error)}`,
    };
  }

  try {
    return await validate(configuration);
  } catch (error: unknown) {
    context.logger.error("account validation check failed", { error });

    return { success: false, error: `the validation stopped on an error: ${describeError(error)}` };
  }
}

/**
 * The module configuration with the secret keys taken from the platform's answer
 * (`module_configuration.value`). A secret the configuration holds a placeholder for but
 * the answer lacks is an error: checking the placeholder would give a misleading verdict.
 */
function mergeSecrets(
  context: AccountValidationContext,
  secretKeys: readonly string[],
  answer: unknown,
): Record<string, unknown> {
  const answered = asRecord(asRecord(asRecord(answer)?.[SOURCE])?.["value"]);
  const stored = context.symphony.readJson(SOURCE) ?? answered;
  const base = asRecord(stored);
  if (base === undefined) {
    throw new ConfigurationError(
      SOURCE,
      [],
      `${SOURCE} is ${stored === undefined ? "missing" : "not a JSON object"}, and the ` +
        "platform's answer holds none.",
    );
  }

  const merged = { ...base };
  const missing: string[] = [];
  for (const key of secretKeys) {
    const secret = answered?.[key];
    if (typeof secret === "string" && secret !== "") {
      context.redactor.add(secret);
      merged[key] = secret;
    } else if (base[key] !== undefined && base[key] !== null && base[key] !== "") {
      missing.push(key);
    }
  }
  if (missing.length > 0) {
    throw new ConfigurationError(
      SOURCE,
      missing,
      `the platform's answer holds no value for the secret ${missing.join(", ")}.`,
    );
  }

  return merged;
}

function redactVerdict(
  context: AccountValidationContext,
  verdict: ValidationVerdict,
): ValidationVerdict {
  return verdict.error === undefined
    ? { success: verdict.success }
    : { success: verdict.success, error: context.redactor.redactText(verdict.error) };
}

function finishedBody(verdict: ValidationVerdict): Record<string, unknown> {
  const body: Record<string, unknown> = {
    status: "finished",
    results: { success: verdict.success },
  };
  if (verdict.error !== undefined) {
    body["error"] = verdict.error;
  }

  return body;
}

function asRecord(value: unknown): Record<string, unknown> | undefined {
  return typeof value === "object" && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : undefined;
}
