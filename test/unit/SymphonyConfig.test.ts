import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, test } from "node:test";

import { ConfigurationError } from "../../lib/errors/ConfigurationError.js";
import { DEFAULT_SYMPHONY_DIR, SymphonyConfig } from "../../lib/runtime/SymphonyConfig.js";

const SECRET = "wJalrXUtnFEMIK7MDENGbPxRfiCY";

void describe("SymphonyConfig", () => {
  let directory: string;

  beforeEach(() => {
    directory = mkdtempSync(join(tmpdir(), "symphony-"));
  });

  afterEach(() => {
    rmSync(directory, { recursive: true, force: true });
  });

  function config(env: NodeJS.ProcessEnv = {}): SymphonyConfig {
    return new SymphonyConfig({ directory, env });
  }

  function write(name: string, content: string): void {
    writeFileSync(join(directory, name), content);
  }

  function configurationError(
    check: (error: ConfigurationError) => void,
  ): (error: unknown) => boolean {
    return (error: unknown) => {
      assert.ok(error instanceof ConfigurationError, String(error));
      check(error);

      return true;
    };
  }

  void test("takes the directory from SYMPHONY_DIR, else /symphony", () => {
    assert.equal(new SymphonyConfig({ env: { SYMPHONY_DIR: "/tmp/x" } }).directory, "/tmp/x");
    assert.equal(new SymphonyConfig({ env: {} }).directory, DEFAULT_SYMPHONY_DIR);
    assert.equal(DEFAULT_SYMPHONY_DIR, "/symphony");
  });

  void describe("readString", () => {
    void test("prefers the file to the environment variable", () => {
      write("token", "from-file");

      assert.equal(config({ TOKEN: "from-env" }).readString("token"), "from-file");
    });

    void test("falls back to the upper-cased environment variable", () => {
      assert.equal(
        config({ URL_CALLBACK: "https://x.test/cb" }).readString("url_callback"),
        "https://x.test/cb",
      );
    });

    void test("trims the file content and the variable", () => {
      write("token", "  secret-token\n");

      assert.equal(config().readString("token"), "secret-token");
      assert.equal(
        config({ INTAKE_URL: " https://i.test \n" }).readString("intake_url"),
        "https://i.test",
      );
    });

    void test("says a required value is empty rather than missing when its file is empty", () => {
      write("trigger_configuration", "  \n");

      assert.throws(
        () => config().requireJson("trigger_configuration"),
        configurationError((error) => {
          assert.match(
            error.message,
            /trigger_configuration \(file .*trigger_configuration\) is empty/,
          );
        }),
      );
    });

    void test("treats a missing, empty or blank value as absent", () => {
      write("blank", " \n");

      assert.equal(config().readString("missing"), undefined);
      assert.equal(config({ EMPTY: "" }).readString("empty"), undefined);
      assert.equal(config({ SPACES: "   " }).readString("spaces"), undefined);
      assert.equal(config().readString("blank"), undefined);
    });
  });

  void describe("readJson", () => {
    void test("parses the file, which wins over the environment", () => {
      write("trigger_configuration", '{"queue_name": "from-file"}\n');

      const value = config({ TRIGGER_CONFIGURATION: '{"queue_name": "from-env"}' }).readJson(
        "trigger_configuration",
      );

      assert.deepEqual(value, { queue_name: "from-file" });
    });

    void test("parses JSON from the environment", () => {
      const value = config({ MODULE_CONFIGURATION: '{"aws_region_name":"eu-west-1"}' }).readJson(
        "module_configuration",
      );

      assert.deepEqual(value, { aws_region_name: "eu-west-1" });
    });

    void test("parses base64 JSON from the environment", () => {
      const json = JSON.stringify({ aws_region_name: "eu-west-3", n: 1 });
      const encoded = Buffer.from(json).toString("base64");

      assert.deepEqual(config({ MODULE_CONFIGURATION: encoded }).readJson("module_configuration"), {
        aws_region_name: "eu-west-3",
        n: 1,
      });
      assert.deepEqual(
        config({ MODULE_CONFIGURATION: ` ${encoded}\n` }).readJson("module_configuration"),
        { aws_region_name: "eu-west-3", n: 1 },
      );
    });

    void test("does not decode base64 found in a file", () => {
      write("module_configuration", Buffer.from('{"a":1}').toString("base64"));

      assert.throws(() => config().readJson("module_configuration"), ConfigurationError);
    });

    void test("returns undefined when the value is absent or blank", () => {
      write("blank", "\n");

      assert.equal(config().readJson("trigger_configuration"), undefined);
      assert.equal(config().readJson("blank"), undefined);
    });

    void test("reports invalid JSON in a file, naming the file", () => {
      write("trigger_configuration", "{queue_name: q}");
      const path = join(directory, "trigger_configuration");

      assert.throws(
        () => config().readJson("trigger_configuration"),
        configurationError((error) => {
          assert.equal(error.source, "trigger_configuration");
          assert.equal(error.code, "UMB_CONFIGURATION");
          assert.match(error.message, /^trigger_configuration \(file .*\) is not valid JSON/);
          assert.ok(error.message.includes(path), error.message);
          assert.ok(!error.message.includes("base64"), error.message);
        }),
      );
    });

    void test("reports invalid JSON in a variable, naming it and suggesting base64", () => {
      assert.throws(
        () => config({ MODULE_CONFIGURATION: "{not json" }).readJson("module_configuration"),
        configurationError((error) => {
          assert.match(error.message, /environment variable MODULE_CONFIGURATION/);
          assert.match(error.message, /is not valid JSON/);
          assert.match(error.message, /base64 of a JSON object/);
        }),
      );
    });

    void test("does not quote the faulty text, which may hold a secret", () => {
      const broken = `{"aws_secret_access_key": ${SECRET}}`;
      write("module_configuration", broken);

      for (const symphony of [
        config(),
        new SymphonyConfig({ directory: "/nonexistent", env: { MODULE_CONFIGURATION: SECRET } }),
      ]) {
        assert.throws(
          () => symphony.readJson("module_configuration"),
          configurationError((error) => {
            assert.ok(!error.message.includes(SECRET.slice(0, 8)), error.message);
            assert.match(error.message, /is not valid JSON/);
          }),
        );
      }
    });
  });

  void describe("requireJson", () => {
    void test("returns the parsed value when present", () => {
      assert.deepEqual(config({ ARGS: "[1]" }).requireJson("args"), [1]);
    });

    void test("names the file and the variable when the value is missing", () => {
      assert.throws(
        () => config().requireJson("module_configuration"),
        configurationError((error) => {
          assert.equal(error.source, "module_configuration");
          assert.ok(error.message.includes(join(directory, "module_configuration")), error.message);
          assert.ok(error.message.includes("MODULE_CONFIGURATION"), error.message);
          assert.match(error.message, /missing/);
        }),
      );
    });
  });

  void describe("readInteger", () => {
    void test("reads an integer, trimmed, from the file or the variable", () => {
      write("liveness_port", "8001\n");

      assert.equal(config().readInteger("liveness_port", 8000), 8001);
      assert.equal(config({ METRICS_PORT: "9020" }).readInteger("metrics_port", 8020), 9020);
      assert.equal(config({ METRICS_PORT: "0" }).readInteger("metrics_port", 8020), 0);
    });

    void test("returns the fallback when absent", () => {
      assert.equal(config().readInteger("liveness_port", 8000), 8000);
      assert.equal(config({ LIVENESS_PORT: "" }).readInteger("liveness_port", 8000), 8000);
    });

    void test("rejects a value that is no integer in range, quoting it", () => {
      for (const text of ["abc", "-1", "1.5", "80 80", "0x1F", "1e3", "65536"]) {
        assert.throws(
          () => config({ LIVENESS_PORT: text }).readInteger("liveness_port", 8000, 65_535),
          configurationError((error) => {
            assert.equal(error.source, "liveness_port");
            assert.ok(error.message.includes(`"${text}"`), error.message);
            assert.match(error.message, /an integer between 0 and 65535/);
          }),
          text,
        );
      }
    });
  });
});
