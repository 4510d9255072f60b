import type { Message } from "@aws-sdk/client-sqs";

/** A queue message between its receipt and its deletion or release. */
export class InFlightMessage {
  readonly messageId: string;
  readonly receiptHandle: string;
  readonly body: string | undefined;
  readonly receiveCount: number;
  /** When the message was sent to the queue, epoch milliseconds, when known. */
  readonly sentAt: number | undefined;
  /** When our current lease on it (its visibility timeout) runs out, epoch milliseconds. */
  leaseExpiresAt: number;
  /** False once deleted or released: nothing may extend it any more. */
  held = true;

  constructor(message: Message, receivedAt: number, visibilityTimeoutSeconds: number) {
    this.messageId = message.MessageId ?? "unknown";
    this.receiptHandle = message.ReceiptHandle ?? "";
    this.body = message.Body;
    this.receiveCount = Number(message.Attributes?.ApproximateReceiveCount ?? "1") || 1;
    const sent = Number(message.Attributes?.SentTimestamp);
    this.sentAt = Number.isFinite(sent) && sent > 0 ? sent : undefined;
    this.leaseExpiresAt = receivedAt + visibilityTimeoutSeconds * 1000;
  }
}
