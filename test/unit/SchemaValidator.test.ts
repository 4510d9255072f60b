import assert from "node:assert/strict";
import { describe, test } from "node:test";

import {
  authMethodOf,
  parseModuleConfiguration,
  type ModuleConfiguration,
} from "../../lib/aws/ModuleConfiguration.js";
import { ConfigurationError } from "../../lib/errors/ConfigurationError.js";
import {
  loadModuleConfigurationSchema,
  loadTriggerDefinition,
} from "../../lib/runtime/PackageFiles.js";
import { SchemaValidator } from "../../lib/runtime/SchemaValidator.js";
import type { S3QueuedTriggerConfiguration } from "../../lib/s3queue/TriggerConfiguration.js";

const ARGUMENTS = loadTriggerDefinition("cisco_umbrella_ip_logs").arguments;
const MODULE_SCHEMA = loadModuleConfigurationSchema();
const SOURCE = "trigger_configuration";
const ACCESS_KEY = "AKIAIOSFODNN7EXAMPLE";
const SECRET = "wJalrXUtnFEMIK7MDENGbPxRfiCYEXAMPLEKEY";
const ROLE = "arn:aws:iam::123456789012:role/umbrella-reader";

function rejection(check: (error: ConfigurationError) => void): (error: unknown) => boolean {
  return (error: unknown) => {
    assert.ok(error instanceof ConfigurationError, String(error));
    check(error);

    return true;
  };
}

void describe("SchemaValidator with the trigger arguments", () => {
  const validator = new SchemaValidator();
  const validate = (value: unknown): S3QueuedTriggerConfiguration =>
    validator.validate<S3QueuedTriggerConfiguration>(ARGUMENTS, value, SOURCE);

  void test("applies every default the schema declares", () => {
    const defaults = Object.entries(ARGUMENTS.properties ?? {}).filter(
      ([, property]) => property.default !== undefined,
    );

    const value = validate({ queue_name: "umbrella", intake_key: "k" }) as unknown as Record<
      string,
      unknown
    >;

    assert.ok(defaults.length >= 10, `${defaults.length} defaults`);
    for (const [name, property] of defaults) {
      assert.deepEqual(value[name], property.default, name);
    }
    assert.equal(value["queue_name"], "umbrella");
    assert.equal(value["intake_server"], "https://intake.sekoia.io");
    assert.equal(value["max_concurrent_objects"], 4);
    assert.equal("queue_url" in value, false);
  });

  void test('coerces "60" to 60', () => {
    const value = validate({ queue_name: "q", visibility_timeout_seconds: "60" });

    assert.equal(value.visibility_timeout_seconds, 60);
  });

  void test("treats null and the empty string as absent, so that defaults apply", () => {
    const value = validate({
      queue_name: "q",
      queue_url: "",
      intake_server: null,
      key_prefix: "",
      max_concurrent_objects: null,
    });

    assert.equal("queue_url" in value, false);
    assert.equal(value.intake_server, "https://intake.sekoia.io");
    assert.equal(value.key_prefix, "iplogs/");
    assert.equal(value.max_concurrent_objects, 4);
  });

  void test("leaves the caller's object untouched", () => {
    const raw = { queue_name: "q", max_concurrent_objects: "8", queue_url: null };

    validate(raw);

    assert.deepEqual(raw, { queue_name: "q", max_concurrent_objects: "8", queue_url: null });
  });

  void test("accepts the queue by URL instead of by name", () => {
    assert.equal(validate({ queue_url: "http://127.0.0.1:1/q" }).queue_url, "http://127.0.0.1:1/q");
  });

  void test("asks for the queue name or URL when both are missing", () => {
    for (const raw of [{}, { queue_name: "", queue_url: null }]) {
      assert.throws(
        () => validate(raw),
        rejection((error) => {
          assert.equal(error.source, SOURCE);
          assert.match(error.message, /^Invalid trigger_configuration: /);
          assert.match(error.message, /"queue_name"/);
          assert.match(error.message, /"queue_url"/);
        }),
      );
    }
  });

  for (const [value, bound] of [
    [0, ">= 1"],
    [1000, "<= 64"],
  ] as const) {
    void test(`refuses max_concurrent_objects ${value}, naming the field, its title and the bound`, () => {
      assert.throws(
        () => validate({ queue_name: "q", max_concurrent_objects: value }),
        rejection((error) => {
          assert.deepEqual(error.fields, ["max_concurrent_objects"]);
          assert.ok(error.message.includes('"max_concurrent_objects" (Objects read at once)'));
          assert.ok(error.message.includes(bound), error.message);
        }),
      );
    });
  }

  void test("refuses a value that is no integer", () => {
    assert.throws(
      () => validate({ queue_name: "q", max_concurrent_objects: "many" }),
      rejection((error) => {
        assert.deepEqual(error.fields, ["max_concurrent_objects"]);
        assert.match(error.message, /must be of type integer/);
      }),
    );
  });

  void test("refuses a value outside the enum, listing the allowed values", () => {
    assert.throws(
      () => validate({ queue_name: "q", forward_to: "elsewhere" }),
      rejection((error) => {
        assert.deepEqual(error.fields, ["forward_to"]);
        assert.ok(
          error.message.includes(
            '"forward_to" (Send events to) must be one of "intake", "playbook", "intake_and_playbook".',
          ),
          error.message,
        );
        assert.ok(!error.message.includes("elsewhere"), "the value is not echoed");
      }),
    );
  });

  void test("refuses a malformed queue name with the expected pattern", () => {
    assert.throws(
      () => validate({ queue_name: "bad name!" }),
      rejection((error) => {
        assert.deepEqual(error.fields, ["queue_name"]);
        assert.match(error.message, /"queue_name" \(SQS queue name\) has an invalid format/);
      }),
    );
  });

  void test("reports every violation at once", () => {
    assert.throws(
      () => validate({ queue_name: "q", max_concurrent_objects: 0, forward_to: "x" }),
      rejection((error) => {
        assert.deepEqual([...error.fields].sort(), ["forward_to", "max_concurrent_objects"]);
      }),
    );
  });

  void test("refuses a configuration that is not a JSON object", () => {
    for (const [raw, what] of [
      [[], "an array"],
      [null, "null"],
      ["text", "a string"],
      [3, "a number"],
    ] as const) {
      assert.throws(
        () => validate(raw),
        rejection((error) => {
          assert.equal(error.message, `trigger_configuration must be a JSON object, got ${what}.`);
        }),
      );
    }
  });
});

void describe("parseModuleConfiguration", () => {
  const validator = new SchemaValidator();
  const parse = (raw: unknown): ModuleConfiguration =>
    parseModuleConfiguration(raw, MODULE_SCHEMA, validator);

  function assertNoSecret(error: ConfigurationError): void {
    assert.ok(!error.message.includes(SECRET), error.message);
    assert.ok(!error.message.includes(SECRET.slice(0, 10)), error.message);
  }

  void test("accepts an access key and returns the keys method", () => {
    const configuration = parse({
      aws_region_name: "eu-west-1",
      aws_access_key: ACCESS_KEY,
      aws_secret_access_key: SECRET,
    });

    assert.deepEqual(authMethodOf(configuration), {
      kind: "keys",
      accessKeyId: ACCESS_KEY,
      secretAccessKey: SECRET,
    });
  });

  void test("accepts a role, ignoring empty key fields, and returns the role method", () => {
    const configuration = parse({
      aws_region_name: "us-gov-west-1",
      aws_role_arn: ROLE,
      aws_access_key: "",
      aws_secret_access_key: null,
    });

    assert.deepEqual(configuration, { aws_region_name: "us-gov-west-1", aws_role_arn: ROLE });
    assert.deepEqual(authMethodOf(configuration), { kind: "role", roleArn: ROLE });
  });

  void test("refuses both a role and an access key, without echoing the secret", () => {
    assert.throws(
      () =>
        parse({
          aws_region_name: "eu-west-1",
          aws_role_arn: ROLE,
          aws_access_key: ACCESS_KEY,
          aws_secret_access_key: SECRET,
        }),
      rejection((error) => {
        assert.equal(error.source, "module_configuration");
        assert.match(error.message, /both an IAM role \("aws_role_arn"\) and an access key/);
        assertNoSecret(error);
      }),
    );
  });

  void test("refuses a configuration with no authentication", () => {
    assert.throws(
      () => parse({ aws_region_name: "eu-west-1", aws_role_arn: "" }),
      rejection((error) => {
        assert.match(error.message, /no AWS authentication is configured/);
        assert.match(error.message, /"aws_role_arn"/);
        assert.match(error.message, /"aws_access_key" and "aws_secret_access_key"/);
      }),
    );
  });

  void test("refuses an access key without its secret, and a secret without its key", () => {
    assert.throws(
      () => parse({ aws_region_name: "eu-west-1", aws_access_key: ACCESS_KEY }),
      rejection((error) => {
        assert.deepEqual(error.fields, ["aws_secret_access_key"]);
        assert.match(error.message, /"aws_secret_access_key" is missing/);
      }),
    );
    assert.throws(
      () => parse({ aws_region_name: "eu-west-1", aws_secret_access_key: SECRET }),
      rejection((error) => {
        assert.deepEqual(error.fields, ["aws_access_key"]);
        assert.match(error.message, /"aws_access_key" is missing/);
        assertNoSecret(error);
      }),
    );
  });

  void test("refuses a malformed region, naming the field and its title", () => {
    assert.throws(
      () => parse({ aws_region_name: "Europe (Paris)", aws_role_arn: ROLE }),
      rejection((error) => {
        assert.deepEqual(error.fields, ["aws_region_name"]);
        assert.match(error.message, /"aws_region_name" \(AWS region\) has an invalid format/);
      }),
    );
  });

  void test("requires the region", () => {
    assert.throws(
      () => parse({ aws_role_arn: ROLE }),
      rejection((error) => {
        assert.deepEqual(error.fields, ["aws_region_name"]);
        assert.match(error.message, /"aws_region_name" \(AWS region\) is required\./);
      }),
    );
  });

  void test("refuses a malformed role ARN", () => {
    assert.throws(
      () => parse({ aws_region_name: "eu-west-1", aws_role_arn: "umbrella-reader" }),
      rejection((error) => {
        assert.deepEqual(error.fields, ["aws_role_arn"]);
        assert.match(error.message, /"aws_role_arn" \(IAM role ARN \(recommended\)\)/);
      }),
    );
  });

  void test("says how long the secret must be, without echoing it", () => {
    const short = "tooShortSecret";
    assert.throws(
      () =>
        parse({
          aws_region_name: "eu-west-1",
          aws_access_key: ACCESS_KEY,
          aws_secret_access_key: short,
        }),
      rejection((error) => {
        assert.deepEqual(error.fields, ["aws_secret_access_key"]);
        assert.match(
          error.message,
          /"aws_secret_access_key" \(Secret access key\) must be at least 16 characters long\./,
        );
        assert.ok(!error.message.includes(short), error.message);
      }),
    );
  });

  void test("refuses a secret of the wrong type without echoing it", () => {
    assert.throws(
      () =>
        parse({
          aws_region_name: "eu-west-1",
          aws_access_key: ACCESS_KEY,
          aws_secret_access_key: { value: SECRET },
        }),
      rejection((error) => {
        assert.match(
          error.message,
          /"aws_secret_access_key" \(Secret access key\) must be of type string/,
        );
        assertNoSecret(error);
      }),
    );
  });

  void test("refuses a malformed access key without echoing the secret", () => {
    assert.throws(
      () =>
        parse({
          aws_region_name: "eu-west-1",
          aws_access_key: "not a key",
          aws_secret_access_key: SECRET,
        }),
      rejection((error) => {
        assert.deepEqual(error.fields, ["aws_access_key"]);
        assertNoSecret(error);
        assert.ok(!error.message.includes("not a key"));
      }),
    );
  });

  void test("refuses a module configuration that is not an object", () => {
    assert.throws(
      () => parse("eu-west-1"),
      rejection((error) => {
        assert.equal(error.message, "module_configuration must be a JSON object, got a string.");
      }),
    );
  });
});
