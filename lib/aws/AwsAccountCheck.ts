import { GetQueueAttributesCommand, GetQueueUrlCommand, type SQSClient } from "@aws-sdk/client-sqs";
import { GetCallerIdentityCommand, STSClient } from "@aws-sdk/client-sts";
import type { AwsCredentialIdentityProvider } from "@smithy/types";

import { describeError } from "../errors/ModuleError.js";
import { createAwsClients, AWS_MAX_ATTEMPTS } from "./AwsClientFactory.js";
import { readAwsEndpoints } from "./AwsEndpoints.js";
import { classifyAwsError } from "./classifyAwsError.js";
import { createCredentialProvider, type AwsAccessServices } from "./createCredentialProvider.js";
import { authMethodOf, type ModuleConfiguration } from "./ModuleConfiguration.js";

/** The actions the trigger needs on its queue, for remedies. */
export const QUEUE_ACTIONS = [
  "sqs:ReceiveMessage",
  "sqs:DeleteMessage",
  "sqs:ChangeMessageVisibility",
  "sqs:GetQueueUrl",
  "sqs:GetQueueAttributes",
] as const;

/** A failure explained: what is wrong, and what to do about it. */
export interface Finding {
  problem: string;
  remedy: string;
}

/** Who the credentials belong to (STS GetCallerIdentity). */
export interface CallerIdentity {
  account: string;
  arn: string;
}

/** The queue to check: by name (resolved in the module's region) or by URL. */
export interface QueueReference {
  name?: string;
  url?: string;
}

/**
 * Checks the module configuration against AWS, as the account validator does: credentials
 * (role assumption included), STS GetCallerIdentity, and, when a queue is given,
 * GetQueueUrl and GetQueueAttributes on it. The error says what is wrong and what to do.
 */
export async function checkAwsAccount(
  configuration: ModuleConfiguration,
  services: AwsAccessServices,
  queue?: QueueReference,
): Promise<{ success: boolean; error?: string }> {
  const endpoints = services.endpoints ?? readAwsEndpoints();
  const region = configuration.aws_region_name;
  const credentials = createCredentialProvider(configuration, { ...services, endpoints });
  try {
    await credentials();
  } catch (error: unknown) {
    return { success: false, error: services.redactor.redactText(describeError(error)) };
  }

  const sts = createStsClient(region, credentials, endpoints.sts);
  let identity: CallerIdentity;
  try {
    identity = await callerIdentity(sts);
  } catch (error: unknown) {
    return failure(services, explainIdentityFailure(error, configuration));
  } finally {
    sts.destroy();
  }
  if (queue?.name === undefined && queue?.url === undefined) {
    return { success: true };
  }

  const clients = createAwsClients({ region, credentials, endpoints });
  try {
    const found = await inspectQueue(clients.sqs, queue, region, identity);

    return "problem" in found ? failure(services, found) : { success: true };
  } finally {
    clients.destroy();
  }
}

async function inspectQueue(
  sqs: SQSClient,
  queue: QueueReference,
  region: string,
  identity: CallerIdentity,
): Promise<Finding | { url: string }> {
  const label = queue.url ?? queue.name ?? "";
  if (queue.url !== undefined) {
    const mismatch = queueRegionMismatch(queue.url, region);
    if (mismatch !== undefined) {
      return mismatch;
    }
  }
  let url = queue.url;
  try {
    url ??= (await sqs.send(new GetQueueUrlCommand({ QueueName: queue.name }))).QueueUrl ?? "";
  } catch (error: unknown) {
    return explainQueueFailure(error, "sqs:GetQueueUrl", label, region, identity);
  }
  try {
    await sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ["QueueArn"] }));
  } catch (error: unknown) {
    return explainQueueFailure(error, "sqs:GetQueueAttributes", label, region, identity);
  }

  return { url };
}

function failure(services: AwsAccessServices, finding: Finding): { success: false; error: string } {
  return {
    success: false,
    error: services.redactor.redactText(`${finding.problem} ${finding.remedy}`),
  };
}

/** An STS client with explicit credentials, for GetCallerIdentity. Destroy it after use. */
export function createStsClient(
  region: string,
  credentials: AwsCredentialIdentityProvider,
  endpoint: string | undefined,
): STSClient {
  return new STSClient({
    region,
    credentials,
    maxAttempts: AWS_MAX_ATTEMPTS,
    ...(endpoint === undefined ? {} : { endpoint }),
  });
}

export async function callerIdentity(sts: STSClient): Promise<CallerIdentity> {
  const answer = await sts.send(new GetCallerIdentityCommand({}));

  return { account: answer.Account ?? "", arn: answer.Arn ?? "" };
}

/** Why GetCallerIdentity failed, in the words of the configuration fields. */
export function explainIdentityFailure(
  error: unknown,
  configuration: ModuleConfiguration,
): Finding {
  const { kind, name } = classifyAwsError(error);
  const method = authMethodOf(configuration);
  const who = method.kind === "keys" ? `access key ${method.accessKeyId}` : `role credentials`;
  const problem = `AWS STS GetCallerIdentity failed for the ${who} (${name}: ${describeError(error)}).`;
  if (name === "InvalidClientTokenId" && method.kind === "keys") {
    return {
      problem,
      remedy:
        "AWS does not know this access key: check aws_access_key; the key may have been " +
        "deleted or deactivated (IAM > Users > Security credentials). Create a new one if needed.",
    };
  }
  if (name === "SignatureDoesNotMatch") {
    return {
      problem,
      remedy:
        "aws_secret_access_key does not belong to aws_access_key: paste the secret shown when " +
        "the key was created (create a new key if it is lost).",
    };
  }
  if (kind === "network" || kind === "throttled" || kind === "server") {
    return {
      problem,
      remedy: `Check aws_region_name (${configuration.aws_region_name}) and the network path to AWS; then retry.`,
    };
  }

  return {
    problem,
    remedy: "Check the credentials in the module configuration; then retry.",
  };
}

/** Why a call on the queue failed; `operation` is the IAM action that was refused. */
export function explainQueueFailure(
  error: unknown,
  operation: string,
  queue: string,
  region: string,
  identity: CallerIdentity,
): Finding {
  const { kind, name } = classifyAwsError(error);
  const problem = `${operation} on queue "${queue}" failed (${name}: ${describeError(error)}).`;
  if (kind === "not-found") {
    return {
      problem: `The SQS queue "${queue}" does not exist in region ${region} (account ${identity.account}).`,
      remedy:
        `Check the queue name or URL, and aws_region_name: the queue must be in ${region}, ` +
        "the region of the bucket. If the queue is in another region, set aws_region_name " +
        "to it (bucket and queue must share it) or create the queue in this one.",
    };
  }
  if (kind === "access-denied") {
    const arn = queueArnOf(queue, region, identity.account);
    return {
      problem: `${identity.arn} is not allowed to call ${operation} on queue "${queue}".`,
      remedy:
        `Grant ${QUEUE_ACTIONS.join(", ")} on ${arn} to ${identity.arn} ` +
        "(the setup command prints the policy); for a queue of another account, its queue " +
        "policy must grant them too.",
    };
  }

  return {
    problem,
    remedy:
      kind === "network" || kind === "throttled" || kind === "server"
        ? "A transient AWS failure; retry."
        : "Check the queue settings in the trigger configuration.",
  };
}

/** The region named by a queue URL (`sqs.<region>.amazonaws.com`, `<region>.queue...`). */
export function queueUrlRegion(url: string): string | undefined {
  // Read the host from the text: emulator hosts such as sqs.eu-west-1.127.0.0.1 are not
  // valid WHATWG hosts.
  const host = /^[a-z]+:\/\/([^/:?#]+)/i.exec(url)?.[1]?.toLowerCase();
  if (host === undefined) {
    return undefined;
  }
  const match =
    /^sqs\.([a-z0-9-]+)\./.exec(host) ?? /^([a-z]{2}(?:-[a-z]+)+-\d+)\.queue\./.exec(host);
  if (match !== null) {
    return match[1];
  }

  return host === "queue.amazonaws.com" ? "us-east-1" : undefined;
}

/** A finding when the queue URL names another region than the module's. */
export function queueRegionMismatch(url: string, region: string): Finding | undefined {
  const named = queueUrlRegion(url);
  if (named === undefined || named === region) {
    return undefined;
  }

  return {
    problem: `The queue URL ${url} is in region ${named}, but aws_region_name is ${region}.`,
    remedy:
      `Set aws_region_name to ${named} if the bucket is there too, or use a queue in ${region}: ` +
      "S3 only notifies queues of the bucket's region.",
  };
}

/** `arn:aws:sqs:<region>:<account>:<name>` for a queue name or URL. */
export function queueArnOf(queue: string, region: string, account: string): string {
  const isUrl = /^[a-z]+:\/\//i.test(queue);
  const segments = queue.split("/").filter((part) => part !== "");
  const name = segments.at(-1) ?? queue;
  const owner = isUrl && segments.length >= 3 ? segments.at(-2) : undefined;

  return `arn:aws:sqs:${queueUrlRegion(queue) ?? region}:${owner ?? account}:${name}`;
}
