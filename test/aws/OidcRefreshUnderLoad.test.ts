import { PassThrough } from "node:stream";
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";

import { CreateBucketCommand, GetObjectCommand, PutObjectCommand } from "@aws-sdk/client-s3";
import { CreateQueueCommand, ReceiveMessageCommand } from "@aws-sdk/client-sqs";

import { createAwsClients } from "../../lib/aws/AwsClientFactory.js";
import { createCredentialProvider } from "../../lib/aws/createCredentialProvider.js";
import type { HttpTransport } from "../../lib/http/HttpTransport.js";
import { createLogger } from "../../lib/runtime/createLogger.js";
import { SecretRedactor } from "../../lib/runtime/SecretRedactor.js";
import { SymphonyConfig } from "../../lib/runtime/SymphonyConfig.js";
import type { AwsFaultProxy } from "../support/AwsFaultProxy.js";
import { TEST_REGION, type Emulator } from "../support/Emulator.js";
import type { FakeSts } from "../support/FakeSts.js";
import type { FakeTokenEndpoint } from "./FakeTokenEndpoint.js";
import { RoleAccessWorld } from "../support/RoleAccessWorld.js";

const BUCKET = "umbrella-logs";
const KEY = "iplogs/2024-01-01/sample.csv.gz";
const CREDENTIAL_LIFETIME_MS = 1_200;
const REFRESH_MARGIN_MS = 600;
const REFRESHES_TO_OBSERVE = 3;
const STREAM_LIMIT_MS = 8_000;

void describe("role credentials refreshed during a stream of S3 and SQS calls", () => {
  let world: RoleAccessWorld;
  let emulator: Emulator;
  let proxy: AwsFaultProxy;
  let sts: FakeSts;
  let tokens: FakeTokenEndpoint;
  let http: HttpTransport;
  let directory: string;
  let queueUrl: string;

  before(async () => {
    world = await RoleAccessWorld.start("oidc-load-");
    ({ emulator, proxy, sts, tokens, http, directory } = world);
    sts.lifetimeMs = CREDENTIAL_LIFETIME_MS;
    await emulator.s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
    await emulator.s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: KEY, Body: "line\n" }));
    const queue = await emulator.sqs.send(new CreateQueueCommand({ QueueName: "umbrella" }));
    queueUrl = queue.QueueUrl ?? "";
  });

  after(async () => {
    await world.stop();
  });

  void test("picks up several refreshed credentials with no call failing", async (t) => {
    const redactor = new SecretRedactor();
    const logger = createLogger({ redactor, stream: new PassThrough().resume() });
    const credentials = createCredentialProvider(
      { aws_region_name: TEST_REGION, aws_role_arn: "arn:aws:iam::123456789012:role/reader" },
      {
        symphony: new SymphonyConfig({ directory, env: {} }),
        http,
        logger,
        redactor,
        endpoints: { sqs: proxy.url, s3: proxy.url, sts: sts.url },
      },
      { refreshMarginMs: REFRESH_MARGIN_MS },
    );
    const clients = createAwsClients({
      region: TEST_REGION,
      credentials,
      endpoints: { sqs: proxy.url, s3: proxy.url, sts: sts.url },
    });

    const started = Date.now();
    let calls = 0;
    const wanted = REFRESHES_TO_OBSERVE + 1;
    while (sts.requestsOf("AssumeRoleWithWebIdentity").length < wanted) {
      assert.ok(Date.now() - started < STREAM_LIMIT_MS, "the refreshes did not happen in time");
      const object = await clients.s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: KEY }));
      assert.equal(await object.Body?.transformToString(), "line\n");
      await clients.sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, WaitTimeSeconds: 0 }));
      calls += 2;
    }
    clients.destroy();

    const signers = proxy.requests.map((request) => {
      const key = /Credential=([^/]+)\//.exec(request.headers.authorization ?? "")?.[1];
      const signedAt = parseAmzDate(String(request.headers["x-amz-date"]));

      return { key, signedAt };
    });
    const issuedKeys = sts.issued.map((issued) => issued.accessKeyId);
    assert.ok(calls >= 2 * wanted);
    assert.equal(proxy.requests.length, calls);
    assert.ok(signers.every((signer) => issuedKeys.includes(signer.key ?? "")));
    const usedKeys = new Set(signers.map((signer) => signer.key));
    assert.ok(usedKeys.size >= REFRESHES_TO_OBSERVE, `only ${usedKeys.size} keys were used`);
    for (const signer of signers) {
      const issued = sts.issued.find((credentials) => credentials.accessKeyId === signer.key);
      assert.ok(signer.signedAt <= (issued?.expiration.getTime() ?? 0), "signed with expired keys");
    }
    assert.equal(new Set(tokens.tokens).size, tokens.tokens.length);
    t.diagnostic(
      `${calls} calls in ${Date.now() - started} ms, ${sts.issued.length} role assumptions, ` +
        `${usedKeys.size} access keys used`,
    );
    assert.deepEqual(
      sts.requestsOf("AssumeRoleWithWebIdentity").map((call) => call.params["WebIdentityToken"]),
      tokens.tokens,
    );
  });
});

/** `20240101T120000Z` to epoch milliseconds. */
function parseAmzDate(value: string): number {
  const match = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(value);
  assert.ok(match !== null, `not an x-amz-date: ${value}`);
  const [, year, month, day, hour, minute, second] = match.map(Number);

  return Date.UTC(year ?? 0, (month ?? 1) - 1, day, hour, minute, second);
}
