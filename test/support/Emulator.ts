import net from "node:net";

import { S3Client } from "@aws-sdk/client-s3";
import { SQSClient } from "@aws-sdk/client-sqs";
import { startFauxqs } from "fauxqs";

/** Region used by every emulator test unless a test says otherwise. */
export const TEST_REGION = "eu-west-1";

/** Credentials the emulator accepts; never real ones. */
export const TEST_CREDENTIALS = {
  accessKeyId: "AKIAEMULATOR000TEST",
  secretAccessKey: "emulator-secret-access-key-for-tests",
};

type FauxqsServer = Awaited<ReturnType<typeof startFauxqs>>;

/** An in-process fauxqs (S3 + SQS + STS) on a loopback port, with SDK clients aimed at it. */
export interface Emulator {
  readonly address: string;
  readonly server: FauxqsServer;
  /** Clients for the test's own set-up and assertions (not the trigger's). */
  readonly sqs: SQSClient;
  readonly s3: S3Client;
  /** The variables that point a trigger process at this emulator. */
  readonly env: Record<string, string>;
  stop(): Promise<void>;
}

/**
 * fauxqs 1.9 always listens on 0.0.0.0 (its `host` option only names queue URLs). An emulator
 * without authentication must not be reachable from the network: while it starts, listens asked
 * for 0.0.0.0 go to 127.0.0.1 instead.
 */
async function onLoopback<T>(start: () => Promise<T>): Promise<T> {
  // The original method, called below with the server as `this`.
  // eslint-disable-next-line @typescript-eslint/unbound-method
  const listen = net.Server.prototype.listen;
  net.Server.prototype.listen = function (this: net.Server, ...args: unknown[]) {
    const [options] = args;
    if (typeof options === "object" && options !== null && "host" in options) {
      const host = (options as net.ListenOptions).host;
      if (host === "0.0.0.0" || host === "::") {
        args[0] = { ...(options as net.ListenOptions), host: "127.0.0.1" };
      }
    }

    return listen.apply(this, args as Parameters<typeof listen>);
  } as typeof listen;
  try {
    return await start();
  } finally {
    net.Server.prototype.listen = listen;
  }
}

export async function startEmulator(region = TEST_REGION): Promise<Emulator> {
  const server = await onLoopback(() =>
    startFauxqs({
      port: 0,
      host: "127.0.0.1",
      logger: false,
      defaultRegion: region,
      messageSpies: { bufferSize: 20_000 },
    }),
  );
  const address = server.address;
  const sqs = new SQSClient({
    region,
    endpoint: address,
    credentials: TEST_CREDENTIALS,
    useQueueUrlAsEndpoint: false,
  });
  const s3 = new S3Client({
    region,
    endpoint: address,
    credentials: TEST_CREDENTIALS,
    forcePathStyle: true,
  });

  return {
    address,
    server,
    sqs,
    s3,
    env: { AWS_ENDPOINT_URL: address },
    async stop(): Promise<void> {
      sqs.destroy();
      s3.destroy();
      await server.stop();
    },
  };
}
