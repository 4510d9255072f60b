import { ConfigurationError } from "../errors/ConfigurationError.js";
import type { JsonSchema, TriggerDefinition } from "../runtime/PackageFiles.js";
import type { SchemaValidator } from "../runtime/SchemaValidator.js";
import type { SymphonyConfig } from "../runtime/SymphonyConfig.js";

/** Where the events of an S3-queued trigger go. */
export type ForwardTo = "intake" | "playbook" | "intake_and_playbook";

/** The configuration of an S3-queued trigger, validated, defaults applied. */
export interface S3QueuedTriggerConfiguration {
  queue_name?: string;
  queue_url?: string;
  intake_key?: string;
  intake_server: string;
  key_prefix: string;
  forward_to: ForwardTo;
  max_concurrent_objects: number;
  visibility_timeout_seconds: number;
  max_receive_count: number;
  retry_delay_seconds: number;
  duplicate_window_seconds: number;
  shutdown_grace_seconds: number;
  receive_wait_seconds: number;
  intake_batch_max_bytes: number;
  intake_max_concurrent_requests: number;
  intake_failures_before_error: number;
  intake_timeout_seconds: number;
}

function isHttpUrl(value: string): boolean {
  if (!URL.canParse(value)) {
    return false;
  }
  const url = new URL(value);

  return (url.protocol === "http:" || url.protocol === "https:") && url.hostname !== "";
}

/** Keys of a configuration that its schema does not know: most often a typing mistake. */
export function unknownFields(raw: unknown, schema: JsonSchema): string[] {
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
    return [];
  }
  const known = new Set(Object.keys(schema.properties ?? {}));

  return Object.keys(raw).filter((key) => !known.has(key));
}

/**
 * Reads the trigger configuration (`trigger_configuration`, else `connector_configuration`),
 * validates it against the trigger's `arguments` schema and checks what the schema cannot
 * say: an intake key whenever events go to the intake. When the configuration names no intake
 * server, the platform's `intake_url` is used before the schema's default.
 */
export function loadTriggerConfiguration(
  symphony: SymphonyConfig,
  validator: SchemaValidator,
  definition: TriggerDefinition,
  onUnknownFields: (source: string, fields: string[]) => void = () => undefined,
): S3QueuedTriggerConfiguration {
  const source =
    symphony.readJson("trigger_configuration") === undefined &&
    symphony.readJson("connector_configuration") !== undefined
      ? "connector_configuration"
      : "trigger_configuration";
  const raw = symphony.requireJson(source);
  const unknown = unknownFields(raw, definition.arguments);
  if (unknown.length > 0) {
    onUnknownFields(source, unknown);
  }
  const explicitServer =
    typeof raw === "object" && raw !== null && !Array.isArray(raw)
      ? (raw as Record<string, unknown>)["intake_server"]
      : undefined;
  const configuration = validator.validate<S3QueuedTriggerConfiguration>(
    definition.arguments,
    raw,
    source,
  );
  const platformIntake = symphony.readString("intake_url");
  if (
    (explicitServer === undefined || explicitServer === "" || explicitServer === null) &&
    platformIntake
  ) {
    configuration.intake_server = platformIntake;
  }
  for (const field of ["intake_server", "queue_url"] as const) {
    const value = configuration[field];
    if (value !== undefined && !isHttpUrl(value)) {
      throw new ConfigurationError(
        source,
        [field],
        `Invalid ${source}: "${field}" is not a valid URL ("${value}"). Write a full URL ` +
          (field === "intake_server"
            ? "such as https://intake.sekoia.io."
            : "such as https://sqs.eu-west-1.amazonaws.com/123456789012/umbrella-logs."),
      );
    }
  }
  if (configuration.forward_to !== "playbook" && configuration.intake_key === undefined) {
    throw new ConfigurationError(
      source,
      ["intake_key"],
      `Invalid ${source}: "intake_key" (Intake key) is required when forward_to is ` +
        `"${configuration.forward_to}". Copy the key of your Cisco Umbrella IP intake from ` +
        `Sekoia.io, or set forward_to to "playbook".`,
    );
  }

  return configuration;
}
