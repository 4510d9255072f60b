import { Ajv, type ErrorObject, type ValidateFunction } from "ajv";

import { ConfigurationError } from "../errors/ConfigurationError.js";
import type { JsonSchema } from "./PackageFiles.js";

/** Non-standard annotation keywords our schemas carry (units, the manifest's secrets list). */
const ANNOTATION_KEYWORDS = ["unit", "secrets"];

/**
 * Validates a configuration object against its JSON schema: removes null and empty-string
 * values so that defaults apply, fills the defaults, coerces "60" to 60, and turns every
 * violation into one sentence that names the field and says what it expects.
 */
export class SchemaValidator {
  private readonly ajv: Ajv;
  private readonly compiled = new Map<JsonSchema, ValidateFunction>();

  constructor() {
    this.ajv = new Ajv({
      allErrors: true,
      useDefaults: true,
      coerceTypes: true,
      strict: true,
      strictRequired: false,
    });
    this.ajv.addVocabulary(ANNOTATION_KEYWORDS);
  }

  /** Returns a validated copy of `value`, or throws a ConfigurationError naming `source`. */
  validate<T>(schema: JsonSchema, value: unknown, source: string): T {
    if (typeof value !== "object" || value === null || Array.isArray(value)) {
      throw new ConfigurationError(
        source,
        [],
        `${source} must be a JSON object, got ${describeJsonType(value)}.`,
      );
    }
    const copy = withoutEmptyValues(value as Record<string, unknown>);
    const validate = this.compile(schema);
    if (!validate(copy)) {
      const problems = explainErrors(validate.errors ?? [], schema);
      const fields = [
        ...new Set(problems.flatMap((problem) => problem.field.split(",")).filter(Boolean)),
      ];
      const text = problems.map((problem) => problem.text).join(" ");
      throw new ConfigurationError(source, fields, `Invalid ${source}: ${text}`);
    }

    return copy as T;
  }

  private compile(schema: JsonSchema): ValidateFunction {
    let validate = this.compiled.get(schema);
    if (validate === undefined) {
      validate = this.ajv.compile(schema);
      this.compiled.set(schema, validate);
    }

    return validate;
  }
}

interface Problem {
  field: string;
  text: string;
}

/** Drops keys whose value is null or "" so that the field counts as absent. */
function withoutEmptyValues(value: Record<string, unknown>): Record<string, unknown> {
  const copy: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) {
    if (item !== null && item !== "") {
      copy[key] = item;
    }
  }

  return copy;
}

function describeJsonType(value: unknown): string {
  if (Array.isArray(value)) {
    return "an array";
  }
  if (value === null) {
    return "null";
  }

  return `a ${typeof value}`;
}

function fieldOf(error: ErrorObject): string {
  const path = error.instancePath.replace(/^\//, "").replaceAll("/", ".");
  if (error.keyword === "required") {
    const missing = (error.params as { missingProperty: string }).missingProperty;

    return path === "" ? missing : `${path}.${missing}`;
  }

  return path;
}

function describeField(schema: JsonSchema, field: string): string {
  const property = schema.properties?.[field];
  if (property?.title === undefined) {
    return `"${field}"`;
  }

  return `"${field}" (${property.title})`;
}

/** One sentence per violation; alternatives (anyOf/oneOf) are explained once, by their titles. */
function explainErrors(errors: ErrorObject[], schema: JsonSchema): Problem[] {
  const problems: Problem[] = [];
  const seen = new Set<string>();
  const inAlternative = errors.some((e) => e.keyword === "anyOf" || e.keyword === "oneOf");
  for (const error of errors) {
    if (inAlternative && error.schemaPath.match(/\/(anyOf|oneOf)\/\d+\//)) {
      continue;
    }
    const problem = explainError(error, schema);
    if (!seen.has(problem.text)) {
      seen.add(problem.text);
      problems.push(problem);
    }
  }

  return problems;
}

function explainError(error: ErrorObject, schema: JsonSchema): Problem {
  const field = fieldOf(error);
  const name = describeField(schema, field);
  const params = error.params as Record<string, unknown>;
  switch (error.keyword) {
    case "required":
      return { field, text: `${name} is required.` };
    case "type":
      return { field, text: `${name} must be of type ${String(params["type"])}.` };
    case "enum":
      return {
        field,
        text: `${name} must be one of ${(params["allowedValues"] as unknown[]).map((v) => JSON.stringify(v)).join(", ")}.`,
      };
    case "minimum":
    case "maximum":
    case "exclusiveMinimum":
    case "exclusiveMaximum":
      return { field, text: `${name} ${error.message ?? "is out of range"}.` };
    case "pattern":
      return {
        field,
        text: `${name} has an invalid format (expected to match ${String(params["pattern"])}).`,
      };
    case "minLength": {
      const limit = Number(params["limit"]);
      const text =
        limit <= 1
          ? `${name} must not be empty.`
          : `${name} must be at least ${limit} characters long.`;

      return { field, text };
    }
    case "anyOf":
    case "oneOf":
      return {
        field: alternativeFields(error, schema).join(","),
        text: describeAlternatives(error, schema),
      };
    default:
      return { field, text: `${name} ${error.message ?? "is invalid"}.` };
  }
}

/** The fields the alternatives of an anyOf/oneOf require, e.g. queue_name and queue_url. */
function alternativeFields(error: ErrorObject, schema: JsonSchema): string[] {
  const alternatives = (schema[error.keyword] as JsonSchema[] | undefined) ?? [];

  return [...new Set(alternatives.flatMap((alternative) => alternative.required ?? []))];
}

function describeAlternatives(error: ErrorObject, schema: JsonSchema): string {
  const alternatives = (schema[error.keyword] as JsonSchema[] | undefined) ?? [];
  const options = alternatives.map((alternative) => {
    const required = alternative.required ?? [];
    const label = alternative.title ?? "option";

    return `${label} (${required.map((field) => `"${field}"`).join(" and ")})`;
  });
  const verb = error.keyword === "oneOf" ? "exactly one of" : "at least one of";

  return `give ${verb}: ${options.join(", or ")}.`;
}
