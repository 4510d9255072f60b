import { S3Client } from "@aws-sdk/client-s3";
import { SQSClient } from "@aws-sdk/client-sqs";
import { NodeHttpHandler } from "@smithy/node-http-handler";
import type { AwsCredentialIdentityProvider } from "@smithy/types";

import { readAwsEndpoints, type AwsEndpoints } from "./AwsEndpoints.js";

/** Attempts per AWS call, first one included; the SDK backs off between them. */
export const AWS_MAX_ATTEMPTS = 5;

/** Idle time after which an SQS socket is dropped; above the 20 s long-poll wait. */
const SQS_SOCKET_TIMEOUT_MS = 45_000;

/** Idle time after which an S3 download is considered stuck. */
const S3_SOCKET_TIMEOUT_MS = 60_000;

const CONNECTION_TIMEOUT_MS = 10_000;

/** Sockets per client; above the largest object concurrency. */
const MAX_SOCKETS = 128;

export interface AwsClientSettings {
  region: string;
  /** Always explicit: the default chain would pick up the platform's storage variables. */
  credentials: AwsCredentialIdentityProvider;
  endpoints?: AwsEndpoints;
}

/** The SQS and S3 clients of one trigger, created once and shared by every component. */
export interface AwsClients {
  readonly sqs: SQSClient;
  readonly s3: S3Client;
  readonly region: string;
  readonly endpoints: AwsEndpoints;
  destroy(): void;
}

/**
 * Builds the SQS and S3 clients. With an endpoint override (the emulator), S3 uses path-style
 * addressing and SQS keeps calling the configured endpoint instead of the host in the queue
 * URL, which an emulator may not make resolvable.
 */
export function createAwsClients(settings: AwsClientSettings): AwsClients {
  const endpoints = settings.endpoints ?? readAwsEndpoints();
  const sqs = new SQSClient({
    region: settings.region,
    credentials: settings.credentials,
    maxAttempts: AWS_MAX_ATTEMPTS,
    requestHandler: new NodeHttpHandler({
      connectionTimeout: CONNECTION_TIMEOUT_MS,
      socketTimeout: SQS_SOCKET_TIMEOUT_MS,
      httpsAgent: { keepAlive: true, maxSockets: MAX_SOCKETS },
      httpAgent: { keepAlive: true, maxSockets: MAX_SOCKETS },
    }),
    ...(endpoints.sqs === undefined
      ? {}
      : { endpoint: endpoints.sqs, useQueueUrlAsEndpoint: false }),
  });
  const s3 = new S3Client({
    region: settings.region,
    credentials: settings.credentials,
    maxAttempts: AWS_MAX_ATTEMPTS,
    requestHandler: new NodeHttpHandler({
      connectionTimeout: CONNECTION_TIMEOUT_MS,
      socketTimeout: S3_SOCKET_TIMEOUT_MS,
      httpsAgent: { keepAlive: true, maxSockets: MAX_SOCKETS },
      httpAgent: { keepAlive: true, maxSockets: MAX_SOCKETS },
    }),
    ...(endpoints.s3 === undefined ? {} : { endpoint: endpoints.s3, forcePathStyle: true }),
  });

  return {
    sqs,
    s3,
    region: settings.region,
    endpoints,
    destroy(): void {
      sqs.destroy();
      s3.destroy();
    },
  };
}
