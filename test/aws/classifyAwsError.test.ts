import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";

import {
  CreateBucketCommand,
  GetObjectCommand,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
} from "@aws-sdk/client-s3";
import { GetQueueUrlCommand, ReceiveMessageCommand, SQSClient } from "@aws-sdk/client-sqs";
import { STSServiceException } from "@aws-sdk/client-sts";
import { NodeHttpHandler } from "@smithy/node-http-handler";

import { classifyAwsError } from "../../lib/aws/classifyAwsError.js";
import { CredentialsError } from "../../lib/errors/CredentialsError.js";
import { PlatformError } from "../../lib/errors/PlatformError.js";
import { HttpRequestError } from "../../lib/http/HttpRequestError.js";
import { AwsFaultProxy } from "../support/AwsFaultProxy.js";
import {
  startEmulator,
  TEST_CREDENTIALS,
  TEST_REGION,
  type Emulator,
} from "../support/Emulator.js";

const BUCKET = "classify-bucket";

function clientsFor(endpoint: string, timeoutMs?: number): { sqs: SQSClient; s3: S3Client } {
  const requestHandler =
    timeoutMs === undefined
      ? undefined
      : new NodeHttpHandler({ socketTimeout: timeoutMs, connectionTimeout: timeoutMs });
  const common = {
    region: TEST_REGION,
    endpoint,
    credentials: TEST_CREDENTIALS,
    maxAttempts: 1,
    ...(requestHandler === undefined ? {} : { requestHandler }),
  };

  return {
    sqs: new SQSClient({ ...common, useQueueUrlAsEndpoint: false }),
    s3: new S3Client({ ...common, forcePathStyle: true }),
  };
}

async function thrown(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error: unknown) {
    return error;
  }
  throw new Error("the call was expected to fail");
}

function serviceError(name: string, status: number, extra: object = {}): S3ServiceException {
  return Object.assign(
    new S3ServiceException({
      name,
      $fault: status >= 500 ? "server" : "client",
      $metadata: { httpStatusCode: status, requestId: "REQ123" },
      message: `${name} happened`,
    }),
    extra,
  );
}

void describe("classifyAwsError on errors provoked against fauxqs", () => {
  let emulator: Emulator;
  let proxy: AwsFaultProxy;
  let direct: { sqs: SQSClient; s3: S3Client };
  let viaProxy: { sqs: SQSClient; s3: S3Client };

  before(async () => {
    emulator = await startEmulator();
    proxy = await new AwsFaultProxy(emulator.address).start();
    direct = clientsFor(emulator.address);
    viaProxy = clientsFor(proxy.url);
    await emulator.s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
    await emulator.s3.send(
      new PutObjectCommand({ Bucket: BUCKET, Key: "empty", Body: new Uint8Array(0) }),
    );
  });

  after(async () => {
    for (const clients of [direct, viaProxy]) {
      clients.sqs.destroy();
      clients.s3.destroy();
    }
    await proxy.stop();
    await emulator.stop();
  });

  void test("a missing queue is not-found and final, with its status and request id", async () => {
    const error = await thrown(direct.sqs.send(new GetQueueUrlCommand({ QueueName: "absent" })));

    const verdict = classifyAwsError(error);

    assert.equal(verdict.kind, "not-found");
    assert.equal(verdict.retryable, false);
    assert.equal(verdict.name, "QueueDoesNotExist");
    assert.equal(verdict.status, 400);
    assert.match(verdict.requestId ?? "", /^[0-9A-F]{16}$/);
  });

  void test("a missing bucket and a missing key are not-found", async () => {
    const bucket = await thrown(direct.s3.send(new GetObjectCommand({ Bucket: "nope", Key: "k" })));
    const key = await thrown(direct.s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: "k" })));

    assert.deepEqual(
      [classifyAwsError(bucket), classifyAwsError(key)].map((v) => [v.kind, v.name, v.status]),
      [
        ["not-found", "NoSuchBucket", 404],
        ["not-found", "NoSuchKey", 404],
      ],
    );
  });

  void test("an unsatisfiable range is an invalid request, not retried", async () => {
    const error = await thrown(
      direct.s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: "empty", Range: "bytes=0-0" })),
    );

    assert.deepEqual(classifyAwsError(error), {
      kind: "invalid-request",
      retryable: false,
      name: "InvalidRange",
      status: 416,
      requestId: (error as S3ServiceException).$metadata.requestId,
    });
  });

  void test("AccessDenied from SQS (JSON protocol) and S3 (XML) is access-denied", async () => {
    proxy.intercept = (request) =>
      request.service === "sqs"
        ? AwsFaultProxy.sqsError(
            "com.amazon.coral.service#AccessDeniedException",
            "AccessDenied",
            "not authorized",
            403,
          )
        : AwsFaultProxy.s3Error("AccessDenied", "Access Denied", 403);

    const sqs = await thrown(viaProxy.sqs.send(new GetQueueUrlCommand({ QueueName: "q" })));
    const s3 = await thrown(viaProxy.s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: "k" })));

    for (const error of [sqs, s3]) {
      assert.deepEqual(
        { ...classifyAwsError(error), requestId: undefined },
        {
          kind: "access-denied",
          retryable: false,
          name: "AccessDenied",
          status: 403,
          requestId: undefined,
        },
      );
    }
  });

  void test("S3 SlowDown (503) and SQS RequestThrottled are throttled and retryable", async () => {
    proxy.intercept = (request) =>
      request.service === "sqs"
        ? AwsFaultProxy.sqsError("com.amazonaws.sqs#RequestThrottled", "RequestThrottled", "slow")
        : AwsFaultProxy.s3Error("SlowDown", "Please reduce your request rate.", 503);

    const s3 = await thrown(viaProxy.s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: "k" })));
    const sqs = await thrown(viaProxy.sqs.send(new GetQueueUrlCommand({ QueueName: "q" })));

    assert.deepEqual(
      [classifyAwsError(s3), classifyAwsError(sqs)].map((v) => [v.kind, v.retryable, v.name]),
      [
        ["throttled", true, "SlowDown"],
        ["throttled", true, "RequestThrottled"],
      ],
    );
  });

  void test("an S3 InternalError (500) is a retryable server error", async () => {
    proxy.intercept = () => AwsFaultProxy.s3Error("InternalError", "We encountered an error", 500);

    const error = await thrown(
      viaProxy.s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: "k" })),
    );

    assert.deepEqual(
      [classifyAwsError(error).kind, classifyAwsError(error).retryable],
      ["server", true],
    );
  });

  void test("an expired session token is auth and retryable; a bad signature is final", async () => {
    proxy.intercept = (request) =>
      request.path.endsWith("/expired")
        ? AwsFaultProxy.s3Error("ExpiredToken", "The provided token has expired.", 400)
        : AwsFaultProxy.s3Error("SignatureDoesNotMatch", "The signature does not match", 403);

    const expired = await thrown(
      viaProxy.s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: "expired" })),
    );
    const signature = await thrown(
      viaProxy.s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: "other" })),
    );

    assert.deepEqual(
      [classifyAwsError(expired), classifyAwsError(signature)].map((v) => [v.kind, v.retryable]),
      [
        ["auth", true],
        ["auth", false],
      ],
    );
  });

  void test("a refused connection is a retryable network error", async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, "127.0.0.1", resolve));
    const { port } = closed.address() as AddressInfo;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const clients = clientsFor(`http://127.0.0.1:${port}`);

    const error = await thrown(clients.sqs.send(new GetQueueUrlCommand({ QueueName: "q" })));
    clients.sqs.destroy();
    clients.s3.destroy();

    const verdict = classifyAwsError(error);
    assert.equal(verdict.kind, "network");
    assert.equal(verdict.retryable, true);
    assert.equal((error as { code?: string }).code, "ECONNREFUSED");
  });

  void test("a silent server is a network timeout", async () => {
    const silent: Server = createServer(() => undefined);
    await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
    const { port } = silent.address() as AddressInfo;
    const clients = clientsFor(`http://127.0.0.1:${port}`, 200);

    const error = await thrown(clients.sqs.send(new GetQueueUrlCommand({ QueueName: "q" })));
    clients.sqs.destroy();
    clients.s3.destroy();
    silent.closeAllConnections();
    await new Promise<void>((resolve) => silent.close(() => resolve()));

    assert.deepEqual(
      [classifyAwsError(error).kind, classifyAwsError(error).name],
      ["network", "TimeoutError"],
    );
  });

  void test("a call cancelled through its abort signal is aborted, not retried", async () => {
    const controller = new AbortController();
    const pending = direct.sqs.send(
      new ReceiveMessageCommand({ QueueUrl: "http://127.0.0.1/000000000000/absent" }),
      { abortSignal: controller.signal },
    );
    controller.abort();

    const verdict = classifyAwsError(await thrown(pending));

    assert.deepEqual([verdict.kind, verdict.retryable], ["aborted", false]);
  });
});

void describe("classifyAwsError on constructed SDK exceptions", () => {
  void test("the documented error codes map to their kinds", () => {
    const cases: [string, number, string, boolean][] = [
      ["AWS.SimpleQueueService.NonExistentQueue", 400, "not-found", false],
      ["AccessDeniedException", 400, "access-denied", false],
      ["InvalidClientTokenId", 403, "auth", false],
      ["UnrecognizedClientException", 400, "auth", false],
      ["ThrottlingException", 400, "throttled", true],
      ["RequestThrottled", 400, "throttled", true],
      ["ServiceUnavailable", 503, "throttled", true],
      ["BadGateway", 502, "server", true],
      ["TooManyThings", 429, "throttled", true],
      ["Forbidden", 403, "access-denied", false],
      ["NotFound", 404, "not-found", false],
      ["InvalidParameterValue", 400, "invalid-request", false],
    ];

    const verdicts = cases.map(([name, status]) => {
      const verdict = classifyAwsError(serviceError(name, status));

      return [name, status, verdict.kind, verdict.retryable];
    });

    assert.deepEqual(verdicts, cases);
  });

  void test("the $retryable throttling trait marks an otherwise unknown error as throttled", () => {
    const error = serviceError("Weird", 400, { $retryable: { throttling: true } });

    assert.equal(classifyAwsError(error).kind, "throttled");
  });

  void test("an STS IDPCommunicationError is a retryable server-side failure", () => {
    const error = new STSServiceException({
      name: "IDPCommunicationErrorException",
      $fault: "client",
      $metadata: { httpStatusCode: 400 },
    });

    assert.deepEqual(
      [classifyAwsError(error).kind, classifyAwsError(error).retryable],
      ["server", true],
    );
  });

  void test("credentials errors are auth, retryable only when the platform or network failed", () => {
    const outage = new CredentialsError("token endpoint", "retried", {
      cause: new PlatformError("fetch OIDC token", 503, "unavailable"),
    });
    const refused = new CredentialsError("token endpoint", "fix the token", {
      cause: new PlatformError("fetch OIDC token", 401, "refused"),
    });
    const unreachable = new CredentialsError("token endpoint", "retried", {
      cause: new HttpRequestError("GET x: ECONNRESET", {}),
    });

    assert.deepEqual(
      [outage, refused, unreachable].map((e) => [
        classifyAwsError(e).kind,
        classifyAwsError(e).retryable,
      ]),
      [
        ["auth", true],
        ["auth", false],
        ["auth", true],
      ],
    );
  });

  void test("anything without AWS information is unknown and kept for a retry", () => {
    assert.deepEqual(classifyAwsError(new TypeError("boom")), {
      kind: "unknown",
      retryable: true,
      name: "TypeError",
    });
    assert.equal(classifyAwsError("text").kind, "unknown");
  });
});
