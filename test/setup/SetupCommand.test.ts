import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { describe, test } from "node:test";
import assert from "node:assert/strict";

import { SetupCommand, USAGE_EXIT_CODE } from "../../lib/setup/SetupCommand.js";
import {
  loadModuleConfigurationSchema,
  loadTriggerDefinition,
} from "../../lib/runtime/PackageFiles.js";
import { SchemaValidator } from "../../lib/runtime/SchemaValidator.js";

const ACCOUNT = "210987654321";
const QUEUE_ARN = `arn:aws:sqs:eu-central-1:${ACCOUNT}:umbrella-notifications`;
const BUCKET_ARN = "arn:aws:s3:::corp-umbrella";
const ISSUER = "oidc.issuer.test/sekoia";
const COMMUNITY = "aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee";
const MODCONF = "12345678-9abc-4def-8123-456789abcdef";

const BASE = [
  "--account-id",
  ACCOUNT,
  "--region",
  "eu-central-1",
  "--bucket",
  "corp-umbrella",
  "--queue",
  "umbrella-notifications",
];
const ROLE = [
  ...BASE,
  "--auth",
  "role",
  "--community-uuid",
  COMMUNITY,
  "--module-configuration-uuid",
  MODCONF,
  "--oidc-issuer",
  `https://${ISSUER}/`,
];

interface Outcome {
  code: number;
  out: string;
  err: string;
}

async function runSetup(args: string[]): Promise<Outcome> {
  const out = new PassThrough();
  const err = new PassThrough();
  const chunks = { out: "", err: "" };
  out.on("data", (chunk: Buffer) => (chunks.out += chunk.toString()));
  err.on("data", (chunk: Buffer) => (chunks.err += chunk.toString()));

  const code = await new SetupCommand({ out, err }).run({ args });

  return { code, ...chunks };
}

/** Every document the command printed, by file name, parsed. */
function documentsOf(text: string): Map<string, unknown> {
  const documents = new Map<string, unknown>();
  const pattern = /^## \d+\. .* \[(.+\.json)\]\n\nWhere: .*\n\n(\{\n[\s\S]*?\n\})\n/gm;
  for (const match of text.matchAll(pattern)) {
    documents.set(match[1] ?? "", JSON.parse(match[2] ?? "") as unknown);
  }

  return documents;
}

const QUEUE_POLICY = {
  Version: "2012-10-17",
  Id: "umbrella-notifications-s3-notifications",
  Statement: [
    {
      Sid: "AllowUmbrellaBucketNotifications",
      Effect: "Allow",
      Principal: { Service: "s3.amazonaws.com" },
      Action: "sqs:SendMessage",
      Resource: QUEUE_ARN,
      Condition: {
        ArnEquals: { "aws:SourceArn": BUCKET_ARN },
        StringEquals: { "aws:SourceAccount": ACCOUNT },
      },
    },
  ],
};

const PERMISSIONS = {
  Version: "2012-10-17",
  Statement: [
    {
      Sid: "ReceiveUmbrellaNotifications",
      Effect: "Allow",
      Action: [
        "sqs:ReceiveMessage",
        "sqs:DeleteMessage",
        "sqs:ChangeMessageVisibility",
        "sqs:GetQueueUrl",
        "sqs:GetQueueAttributes",
      ],
      Resource: QUEUE_ARN,
    },
    {
      Sid: "ReadUmbrellaLogObjects",
      Effect: "Allow",
      Action: "s3:GetObject",
      Resource: `${BUCKET_ARN}/iplogs/*`,
    },
  ],
};

void describe("SetupCommand", () => {
  void test("prints every document of role access, each valid JSON with exact values", async () => {
    const { code, out } = await runSetup(ROLE);

    const documents = documentsOf(out);
    assert.equal(code, 0);
    assert.deepEqual(
      [...documents.keys()],
      [
        "queue-policy.json",
        "bucket-notification.json",
        "oidc-provider.json",
        "role-trust-policy.json",
        "role-permission-policy.json",
        "doctor-policy.json",
        "module-configuration.json",
        "trigger-configuration.json",
      ],
    );
    assert.deepEqual(documents.get("oidc-provider.json"), {
      Url: `https://${ISSUER}`,
      ClientIDList: ["sts.amazonaws.com"],
    });
    assert.deepEqual(documents.get("role-trust-policy.json"), {
      Version: "2012-10-17",
      Statement: [
        {
          Sid: "SekoiaIoModuleConfiguration",
          Effect: "Allow",
          Principal: { Federated: `arn:aws:iam::${ACCOUNT}:oidc-provider/${ISSUER}` },
          Action: "sts:AssumeRoleWithWebIdentity",
          Condition: {
            StringEquals: {
              [`${ISSUER}:aud`]: "sts.amazonaws.com",
              [`${ISSUER}:sub`]: `community:${COMMUNITY}:modconf:${MODCONF}`,
            },
          },
        },
      ],
    });
    assert.deepEqual(documents.get("role-permission-policy.json"), PERMISSIONS);
    assert.deepEqual(documents.get("queue-policy.json"), QUEUE_POLICY);
    assert.deepEqual(documents.get("bucket-notification.json"), {
      QueueConfigurations: [
        {
          Id: "sekoia-umbrella-iplogs",
          QueueArn: QUEUE_ARN,
          Events: ["s3:ObjectCreated:*"],
          Filter: { Key: { FilterRules: [{ Name: "prefix", Value: "iplogs/" }] } },
        },
      ],
    });
    assert.deepEqual(documents.get("module-configuration.json"), {
      aws_region_name: "eu-central-1",
      aws_role_arn: `arn:aws:iam::${ACCOUNT}:role/sekoia-umbrella-s3`,
    });
  });

  void test("keeps the doctor's permissions separate and limited to the prefix", async () => {
    const { out } = await runSetup([...ROLE, "--prefix", "1234_ab/iplogs/"]);

    const documents = documentsOf(out);
    assert.deepEqual(documents.get("doctor-policy.json"), {
      Version: "2012-10-17",
      Statement: [
        {
          Sid: "DoctorListUmbrellaPrefix",
          Effect: "Allow",
          Action: "s3:ListBucket",
          Resource: BUCKET_ARN,
          Condition: { StringLike: { "s3:prefix": "1234_ab/iplogs/*" } },
        },
        {
          Sid: "DoctorReadBucketNotification",
          Effect: "Allow",
          Action: "s3:GetBucketNotification",
          Resource: BUCKET_ARN,
        },
      ],
    });
    const permissions = documents.get("role-permission-policy.json") as typeof PERMISSIONS;
    assert.equal(permissions.Statement[1]?.Resource, `${BUCKET_ARN}/1234_ab/iplogs/*`);
    assert.deepEqual(documents.get("trigger-configuration.json"), {
      queue_name: "umbrella-notifications",
      key_prefix: "1234_ab/iplogs/",
      intake_key: "<intake key of your Cisco Umbrella IP intake>",
    });
  });

  void test("prints a user policy instead of the role documents for access keys", async () => {
    const { code, out } = await runSetup([...BASE, "--auth", "keys", "--user-name", "umb"]);

    const documents = documentsOf(out);
    assert.equal(code, 0);
    assert.deepEqual(documents.get("user-policy.json"), PERMISSIONS);
    assert.ok(!documents.has("role-trust-policy.json") && !documents.has("oidc-provider.json"));
    assert.deepEqual(Object.keys(documents.get("module-configuration.json") as object), [
      "aws_region_name",
      "aws_access_key",
      "aws_secret_access_key",
    ]);
    assert.match(out, /IAM > Users > umb > Add permissions/);
  });

  void test("adds kms:Decrypt through S3 only when a KMS key is given", async () => {
    const key = `arn:aws:kms:eu-central-1:${ACCOUNT}:key/0a1b2c3d-0000-4000-8000-0a1b2c3d4e5f`;

    const { out } = await runSetup([...BASE, "--auth", "keys", "--kms-key-arn", key]);

    const policy = documentsOf(out).get("user-policy.json") as { Statement: unknown[] };
    assert.deepEqual(policy.Statement[2], {
      Sid: "DecryptUmbrellaLogObjects",
      Effect: "Allow",
      Action: "kms:Decrypt",
      Resource: key,
      Condition: { StringEquals: { "kms:ViaService": "s3.eu-central-1.amazonaws.com" } },
    });
    assert.match(out, /SSE-KMS with a customer managed key/);
  });

  void test("produces configurations that the module's own schemas accept", async () => {
    const { out } = await runSetup(ROLE);
    const documents = documentsOf(out);
    const validator = new SchemaValidator();

    const module = validator.validate<Record<string, unknown>>(
      loadModuleConfigurationSchema(),
      documents.get("module-configuration.json"),
      "module_configuration",
    );
    const trigger = validator.validate<Record<string, unknown>>(
      loadTriggerDefinition("cisco_umbrella_ip_logs").arguments,
      documents.get("trigger-configuration.json"),
      "trigger_configuration",
    );

    assert.equal(module["aws_role_arn"], `arn:aws:iam::${ACCOUNT}:role/sekoia-umbrella-s3`);
    assert.equal(trigger["queue_name"], "umbrella-notifications");
  });

  void test("writes one file per document into --output-dir, equal to the printed JSON", async () => {
    const directory = mkdtempSync(join(tmpdir(), "setup-"));
    try {
      const printed = documentsOf((await runSetup(ROLE)).out);

      const { code, out } = await runSetup([...ROLE, "--output-dir", join(directory, "out")]);

      assert.equal(code, 0);
      const files = readdirSync(join(directory, "out")).sort();
      assert.deepEqual(files, [...printed.keys()].sort());
      for (const file of files) {
        const content = JSON.parse(readFileSync(join(directory, "out", file), "utf8")) as unknown;
        assert.deepEqual(content, printed.get(file), file);
        assert.ok(out.includes(`Written to ${join(directory, "out", file)}`));
      }
    } finally {
      rmSync(directory, { recursive: true, force: true });
    }
  });

  void test("refuses a malformed account ID, naming the flag and the expected form", async () => {
    const args = [...ROLE];
    args[1] = "12345";

    const { code, out, err } = await runSetup(args);

    assert.equal(code, USAGE_EXIT_CODE);
    assert.equal(out, "");
    assert.match(err, /--account-id "12345" is not valid: expected a 12-digit AWS account ID/);
    assert.match(err, /Usage: setup/);
  });

  void test("requires the OIDC issuer for role access and says it will not guess it", async () => {
    const args = ROLE.slice(0, ROLE.indexOf("--oidc-issuer"));

    const { code, err } = await runSetup(args);

    assert.equal(code, USAGE_EXIT_CODE);
    assert.match(err, /--oidc-issuer is required with --auth role/);
    assert.match(err, /ask Sekoia\.io support otherwise\); this tool does not know it/);
  });

  void test("refuses FIFO queues, unknown flags and flags without a value", async () => {
    const fifo = await runSetup([...BASE.slice(0, 7), "umbrella.fifo", "--auth", "keys"]);
    const unknown = await runSetup([...BASE, "--auth", "keys", "--colour", "blue"]);
    const missing = await runSetup([...BASE, "--auth"]);

    assert.match(fifo.err, /--queue "umbrella\.fifo" is not valid: .*S3 cannot notify FIFO queues/);
    assert.match(unknown.err, /Unknown flag --colour/);
    assert.match(missing.err, /--auth needs a value: role or keys/);
  });
});
