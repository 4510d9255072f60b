import { PassThrough } from "node:stream";
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";

import { CreateQueueCommand, GetQueueAttributesCommand } from "@aws-sdk/client-sqs";

import { createAwsClients } from "../../lib/aws/AwsClientFactory.js";
import {
  createCredentialProvider,
  type AwsAccessServices,
} from "../../lib/aws/createCredentialProvider.js";
import type { HttpTransport } from "../../lib/http/HttpTransport.js";
import { createLogger } from "../../lib/runtime/createLogger.js";
import { SecretRedactor } from "../../lib/runtime/SecretRedactor.js";
import { SymphonyConfig } from "../../lib/runtime/SymphonyConfig.js";
import type { AwsFaultProxy } from "../support/AwsFaultProxy.js";
import { TEST_REGION, type Emulator } from "../support/Emulator.js";
import type { FakeSts } from "../support/FakeSts.js";
import { RoleAccessWorld } from "../support/RoleAccessWorld.js";

const ACCESS_KEY = "AKIACONFIGUREDKEY001";
const SECRET_KEY = "configured-secret-access-key-0001";
/** What the platform's storage settings put in the environment (RUNTIME.md 2.2). */
const STORAGE_VARIABLES = {
  AWS_ACCESS_KEY_ID: "AKIAPLATFORMSTORAGE1",
  AWS_SECRET_ACCESS_KEY: "platform-storage-secret-key",
  AWS_SESSION_TOKEN: "platform-storage-session-token",
};

void describe("createCredentialProvider", () => {
  let world: RoleAccessWorld;
  let emulator: Emulator;
  let proxy: AwsFaultProxy;
  let sts: FakeSts;
  let http: HttpTransport;
  let directory: string;
  let queueUrl: string;
  const saved: Record<string, string | undefined> = {};

  before(async () => {
    world = await RoleAccessWorld.start("credentials-");
    ({ emulator, proxy, sts, http, directory } = world);
    const queue = await emulator.sqs.send(new CreateQueueCommand({ QueueName: "umbrella" }));
    queueUrl = queue.QueueUrl ?? "";
    for (const [name, value] of Object.entries(STORAGE_VARIABLES)) {
      saved[name] = process.env[name];
      process.env[name] = value;
    }
  });

  after(async () => {
    for (const [name, value] of Object.entries(saved)) {
      if (value === undefined) {
        delete process.env[name];
      } else {
        process.env[name] = value;
      }
    }
    await world.stop();
  });

  function services(redactor: SecretRedactor): AwsAccessServices {
    return {
      symphony: new SymphonyConfig({ directory, env: {} }),
      http,
      logger: createLogger({ redactor, stream: new PassThrough().resume() }),
      redactor,
      endpoints: { sqs: proxy.url, s3: proxy.url, sts: sts.url },
    };
  }

  async function signerOfOneCall(
    credentials: ReturnType<typeof createCredentialProvider>,
  ): Promise<{ key: string | undefined; sessionToken: unknown }> {
    const clients = createAwsClients({
      region: TEST_REGION,
      credentials,
      endpoints: { sqs: proxy.url, s3: proxy.url, sts: sts.url },
    });
    proxy.requests.length = 0;
    await clients.sqs.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl }));
    clients.destroy();
    const headers = proxy.requests[0]?.headers;

    return {
      key: /Credential=([^/]+)\//.exec(headers?.authorization ?? "")?.[1],
      sessionToken: headers?.["x-amz-security-token"],
    };
  }

  void test("returns the static keys and registers the secret with the redactor", async () => {
    const redactor = new SecretRedactor();
    const provider = createCredentialProvider(
      {
        aws_region_name: TEST_REGION,
        aws_access_key: ACCESS_KEY,
        aws_secret_access_key: SECRET_KEY,
      },
      services(redactor),
    );

    const identity = await provider();

    assert.deepEqual(identity, { accessKeyId: ACCESS_KEY, secretAccessKey: SECRET_KEY });
    assert.equal(redactor.redactText(`secret=${SECRET_KEY}`), "secret=[redacted]");
  });

  void test("signs with the configured key, never the platform's storage variables", async () => {
    const provider = createCredentialProvider(
      {
        aws_region_name: TEST_REGION,
        aws_access_key: ACCESS_KEY,
        aws_secret_access_key: SECRET_KEY,
      },
      services(new SecretRedactor()),
    );

    const signer = await signerOfOneCall(provider);

    assert.deepEqual(signer, { key: ACCESS_KEY, sessionToken: undefined });
  });

  void test("signs with the assumed role's keys and session token for a role", async () => {
    const provider = createCredentialProvider(
      { aws_region_name: TEST_REGION, aws_role_arn: "arn:aws:iam::123456789012:role/reader" },
      services(new SecretRedactor()),
    );

    const signer = await signerOfOneCall(provider);

    const issued = sts.issued[sts.issued.length - 1];
    assert.deepEqual(signer, { key: issued?.accessKeyId, sessionToken: issued?.sessionToken });
    assert.equal(
      sts.requestsOf("AssumeRoleWithWebIdentity").at(-1)?.params["RoleArn"],
      issued?.roleArn,
    );
  });
});
