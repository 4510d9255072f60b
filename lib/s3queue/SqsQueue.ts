import {
  ChangeMessageVisibilityBatchCommand,
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  ReceiveMessageCommand,
  type BatchResultErrorEntry,
  type Message,
  type SQSClient,
} from "@aws-sdk/client-sqs";

import { classifyAwsError } from "../aws/classifyAwsError.js";
import { QueueError } from "../errors/QueueError.js";
import { describeError } from "../errors/ModuleError.js";

/** SQS accepts at most this many entries per batch call and messages per receive. */
export const SQS_BATCH_LIMIT = 10;

/** The queue's dead-letter settings, when it has some. */
export interface RedrivePolicy {
  deadLetterTargetArn: string;
  maxReceiveCount: number;
}

/** One entry of a batch call that SQS did not apply. */
export interface BatchFailure {
  receiptHandle: string;
  code: string;
  message: string;
}

/**
 * The SQS queue a trigger consumes, with the calls the pipeline makes on it. Errors become
 * QueueError naming the operation and the queue, flagged as configuration problems when they
 * can only be fixed by the customer (missing queue, no permission, bad credentials).
 */
export class SqsQueue {
  private constructor(
    private readonly sqs: SQSClient,
    readonly url: string,
    readonly name: string,
  ) {}

  /** Uses `url` when given, else resolves `name` with GetQueueUrl. */
  static async locate(sqs: SQSClient, where: { url?: string; name?: string }): Promise<SqsQueue> {
    if (where.url !== undefined) {
      return new SqsQueue(sqs, where.url, where.url.split("/").pop() ?? where.url);
    }
    const name = where.name ?? "";
    try {
      const response = await sqs.send(new GetQueueUrlCommand({ QueueName: name }));

      return new SqsQueue(sqs, response.QueueUrl ?? "", name);
    } catch (error: unknown) {
      throw queueError("resolve the queue URL of", name, error);
    }
  }

  async receive(
    maxMessages: number,
    visibilityTimeoutSeconds: number,
    waitTimeSeconds: number,
  ): Promise<Message[]> {
    try {
      const response = await this.sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: this.url,
          MaxNumberOfMessages: Math.min(maxMessages, SQS_BATCH_LIMIT),
          VisibilityTimeout: visibilityTimeoutSeconds,
          WaitTimeSeconds: waitTimeSeconds,
          MessageSystemAttributeNames: ["ApproximateReceiveCount", "SentTimestamp"],
        }),
      );

      return response.Messages ?? [];
    } catch (error: unknown) {
      throw queueError("receive messages from", this.name, error);
    }
  }

  /** Deletes up to ten messages; returns the entries SQS refused. */
  async deleteBatch(receiptHandles: readonly string[]): Promise<BatchFailure[]> {
    const entries = receiptHandles.map((handle, index) => ({
      Id: String(index),
      ReceiptHandle: handle,
    }));
    try {
      const response = await this.sqs.send(
        new DeleteMessageBatchCommand({ QueueUrl: this.url, Entries: entries }),
      );

      return batchFailures(receiptHandles, response.Failed);
    } catch (error: unknown) {
      throw queueError("delete messages from", this.name, error);
    }
  }

  /** Sets the visibility timeout of up to ten messages; returns the entries SQS refused. */
  async changeVisibilityBatch(
    changes: readonly { receiptHandle: string; seconds: number }[],
  ): Promise<BatchFailure[]> {
    const entries = changes.map((change, index) => ({
      Id: String(index),
      ReceiptHandle: change.receiptHandle,
      VisibilityTimeout: change.seconds,
    }));
    try {
      const response = await this.sqs.send(
        new ChangeMessageVisibilityBatchCommand({ QueueUrl: this.url, Entries: entries }),
      );

      return batchFailures(
        changes.map((change) => change.receiptHandle),
        response.Failed,
      );
    } catch (error: unknown) {
      throw queueError("change the visibility of messages in", this.name, error);
    }
  }

  /** The queue's redrive policy, or undefined when it has no dead-letter queue. */
  async redrivePolicy(): Promise<RedrivePolicy | undefined> {
    try {
      const response = await this.sqs.send(
        new GetQueueAttributesCommand({ QueueUrl: this.url, AttributeNames: ["RedrivePolicy"] }),
      );
      const raw = response.Attributes?.RedrivePolicy;
      if (raw === undefined || raw === "") {
        return undefined;
      }
      const parsed = JSON.parse(raw) as { deadLetterTargetArn?: string; maxReceiveCount?: unknown };

      return {
        deadLetterTargetArn: parsed.deadLetterTargetArn ?? "",
        maxReceiveCount: Number(parsed.maxReceiveCount),
      };
    } catch (error: unknown) {
      throw queueError("read the attributes of", this.name, error);
    }
  }
}

function batchFailures(
  handles: readonly string[],
  failed: BatchResultErrorEntry[] | undefined,
): BatchFailure[] {
  return (failed ?? []).map((entry) => ({
    receiptHandle: handles[Number(entry.Id)] ?? "",
    code: entry.Code ?? "Unknown",
    message: entry.Message ?? "",
  }));
}

const REMEDIES: Record<string, string> = {
  "not-found":
    "the queue does not exist in this region: check queue_name / queue_url and aws_region_name",
  "access-denied":
    "access denied: the credentials need sqs:ReceiveMessage, sqs:DeleteMessage, " +
    "sqs:ChangeMessageVisibility, sqs:GetQueueUrl and sqs:GetQueueAttributes on the queue",
  auth: "AWS refuses the credentials: check the access key, or the role and its trust policy",
};

function queueError(operation: string, queue: string, error: unknown): QueueError {
  const verdict = classifyAwsError(error);
  const remedy = REMEDIES[verdict.kind];
  const detail = remedy ?? `${verdict.name}: ${describeError(error)}`;

  return new QueueError(
    operation,
    queue,
    remedy !== undefined,
    `Cannot ${operation} queue ${queue}: ${detail}.`,
    { cause: error },
  );
}
