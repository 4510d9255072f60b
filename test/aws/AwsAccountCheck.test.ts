import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { after, before, beforeEach, describe, test } from "node:test";
import assert from "node:assert/strict";

import { checkAwsAccount, queueUrlRegion } from "../../lib/aws/AwsAccountCheck.js";
import type { AwsAccessServices } from "../../lib/aws/createCredentialProvider.js";
import type { ModuleConfiguration } from "../../lib/aws/ModuleConfiguration.js";
import type { HttpTransport } from "../../lib/http/HttpTransport.js";
import { createLogger } from "../../lib/runtime/createLogger.js";
import { SecretRedactor } from "../../lib/runtime/SecretRedactor.js";
import { SymphonyConfig } from "../../lib/runtime/SymphonyConfig.js";
import { AwsFaultProxy } from "../support/AwsFaultProxy.js";
import { TEST_REGION, type Emulator } from "../support/Emulator.js";
import type { FakeSts } from "../support/FakeSts.js";
import { RoleAccessWorld } from "../support/RoleAccessWorld.js";

const KEYS: ModuleConfiguration = {
  aws_region_name: TEST_REGION,
  aws_access_key: "AKIACONFIGUREDKEY001",
  aws_secret_access_key: "configured-secret-access-key-0001",
};
const ROLE: ModuleConfiguration = {
  aws_region_name: TEST_REGION,
  aws_role_arn: "arn:aws:iam::123456789012:role/sekoia-umbrella",
};

void describe("checkAwsAccount", () => {
  let world: RoleAccessWorld;
  let emulator: Emulator;
  let proxy: AwsFaultProxy;
  let sts: FakeSts;
  let http: HttpTransport;
  let directory: string;
  let umbrellaUrl: string;
  let elsewhereUrl: string;

  before(async () => {
    world = await RoleAccessWorld.start("account-check-");
    ({ emulator, proxy, sts, http, directory } = world);
    writeFileSync(join(directory, "community_uuid"), "community-uuid-1");
    umbrellaUrl = emulator.server.createQueue("umbrella").queueUrl;
    elsewhereUrl = emulator.server.createQueue("elsewhere", { region: "us-east-1" }).queueUrl;
  });

  beforeEach(() => {
    proxy.intercept = () => undefined;
    proxy.requests.length = 0;
    sts.behave = () => undefined;
  });

  after(async () => {
    await world.stop();
  });

  function services(): AwsAccessServices {
    const redactor = new SecretRedactor();

    return {
      symphony: new SymphonyConfig({ directory, env: {} }),
      http,
      logger: createLogger({ redactor, stream: new PassThrough().resume() }),
      redactor,
      endpoints: { sqs: proxy.url, s3: proxy.url, sts: sts.url },
    };
  }

  void test("succeeds for valid keys and an existing queue, without touching messages", async () => {
    const result = await checkAwsAccount(KEYS, services(), { name: "umbrella" });

    assert.deepEqual(result, { success: true });
    assert.deepEqual(proxy.actions, ["GetQueueUrl", "GetQueueAttributes"]);
    assert.equal(sts.requestsOf("GetCallerIdentity").at(-1)?.signedBy, KEYS.aws_access_key);
  });

  void test("assumes the role, then checks the queue with the role's keys", async () => {
    const result = await checkAwsAccount(ROLE, services(), { url: umbrellaUrl });

    assert.deepEqual(result, { success: true });
    const issued = sts.issued.at(-1)?.accessKeyId;
    assert.equal(sts.requestsOf("GetCallerIdentity").at(-1)?.signedBy, issued);
    assert.match(String(proxy.requests[0]?.headers.authorization), new RegExp(`${issued}/`));
  });

  void test("checks only the identity when no queue is given", async () => {
    const result = await checkAwsAccount(KEYS, services());

    assert.deepEqual(result, { success: true });
    assert.equal(proxy.requests.length, 0);
  });

  void test("says the queue does not exist in the module's region", async () => {
    const result = await checkAwsAccount(KEYS, services(), { name: "elsewhere" });

    assert.equal(result.success, false);
    assert.match(
      result.error ?? "",
      /The SQS queue "elsewhere" does not exist in region eu-west-1/,
    );
    assert.match(result.error ?? "", /set aws_region_name to it/);
  });

  void test("names both regions when the queue URL is in another one", async () => {
    const result = await checkAwsAccount(KEYS, services(), { url: elsewhereUrl });

    assert.equal(result.success, false);
    assert.match(result.error ?? "", /is in region us-east-1, but aws_region_name is eu-west-1/);
    assert.equal(proxy.requests.length, 0);
  });

  void test("names the refused action, the identity and the queue ARN on AccessDenied", async () => {
    proxy.intercept = (request) =>
      request.action === "GetQueueAttributes"
        ? AwsFaultProxy.sqsError(
            "com.amazon.coral.service#AccessDeniedException",
            "AccessDenied",
            "not authorized",
            403,
          )
        : undefined;

    const result = await checkAwsAccount(KEYS, services(), { name: "umbrella" });

    assert.equal(result.success, false);
    assert.match(
      result.error ?? "",
      /arn:aws:iam::123456789012:user\/umbrella-reader is not allowed to call sqs:GetQueueAttributes/,
    );
    assert.match(result.error ?? "", /on arn:aws:sqs:eu-west-1:123456789012:umbrella to /);
  });

  void test("points at aws_access_key when AWS does not know the key", async () => {
    sts.behave = () => ({
      code: "InvalidClientTokenId",
      message: "The security token included in the request is invalid.",
      status: 403,
    });

    const result = await checkAwsAccount(KEYS, services(), { name: "umbrella" });

    assert.equal(result.success, false);
    assert.match(result.error ?? "", /access key AKIACONFIGUREDKEY001 \(InvalidClientTokenId/);
    assert.match(result.error ?? "", /check aws_access_key/);
    assert.ok(!(result.error ?? "").includes(KEYS.aws_secret_access_key ?? "none"));
  });

  void test("returns the trust policy remedy when the role cannot be assumed", async () => {
    sts.behave = (request) =>
      request.action === "AssumeRoleWithWebIdentity"
        ? { code: "AccessDenied", message: "Not authorized", status: 403 }
        : undefined;

    const identityCalls = sts.requestsOf("GetCallerIdentity").length;

    const result = await checkAwsAccount(ROLE, services(), { name: "umbrella" });

    assert.equal(result.success, false);
    assert.match(result.error ?? "", /"<issuer>:sub" = "community:community-uuid-1:modconf:</);
    assert.equal(sts.requestsOf("GetCallerIdentity").length, identityCalls);
  });

  void test("reads the region of the usual queue URL forms", () => {
    assert.deepEqual(
      [
        "https://sqs.eu-west-3.amazonaws.com/123456789012/q",
        "https://eu-central-1.queue.amazonaws.com/123456789012/q",
        "https://queue.amazonaws.com/123456789012/q",
        "https://vpce-1a2b3c.sqs.example.internal/123456789012/q",
      ].map(queueUrlRegion),
      ["eu-west-3", "eu-central-1", "us-east-1", undefined],
    );
  });
});
