import { GetQueueAttributesCommand, GetQueueUrlCommand } from "@aws-sdk/client-sqs";
import type { STSClient } from "@aws-sdk/client-sts";
import type { AwsCredentialIdentityProvider } from "@smithy/types";

import {
  callerIdentity,
  explainIdentityFailure,
  explainQueueFailure,
  queueArnOf,
  queueRegionMismatch,
  type CallerIdentity,
} from "../aws/AwsAccountCheck.js";
import type { AwsClients } from "../aws/AwsClientFactory.js";
import { authMethodOf, type ModuleConfiguration } from "../aws/ModuleConfiguration.js";
import { CredentialsError } from "../errors/CredentialsError.js";
import { describeError } from "../errors/ModuleError.js";
import { BucketChecks } from "./BucketChecks.js";
import { fail, pass, skip, type DoctorStep } from "./DoctorStep.js";
import { allowsBucket, bucketOfPolicy, inspectQueuePolicy } from "./QueuePolicyInspector.js";

/** The trigger settings the doctor looks at. */
export interface DoctorTriggerSettings {
  queue_name?: string;
  queue_url?: string;
  key_prefix: string;
}

export interface DoctorInputs {
  configuration: ModuleConfiguration;
  trigger: DoctorTriggerSettings;
  credentials: AwsCredentialIdentityProvider;
  clients: AwsClients;
  sts: STSClient;
  /** `--bucket`, when given. */
  bucket?: string;
}

export const STEPS = {
  credentials: "credentials",
  identity: "caller identity",
  queue: "queue",
  attributes: "queue attributes",
  policy: "queue policy",
  bucket: "bucket",
  notification: "bucket notification",
  object: "object read",
} as const;

const ORDER = Object.values(STEPS);

/** The SQS key AWS manages; its policy cannot be changed to admit S3. */
const AWS_MANAGED_SQS_KEY = "alias/aws/sqs";

/**
 * The doctor's checks, in order, each depending on what the previous ones found. Read-only:
 * it resolves and inspects the queue but never receives, deletes or re-times a message.
 */
export class DoctorChecks {
  private identity: CallerIdentity = { account: "", arn: "" };
  private queueUrl: string | undefined;
  private queueArn: string | undefined;
  private policyText: string | undefined;
  private readonly steps: DoctorStep[] = [];

  constructor(private readonly inputs: DoctorInputs) {}

  async run(): Promise<DoctorStep[]> {
    if (!this.record(await this.checkCredentials())) {
      return this.skipRest("needs credentials");
    }
    if (!this.record(await this.checkIdentity())) {
      return this.skipRest("needs the caller identity");
    }
    if (this.record(await this.checkQueue())) {
      if (this.record(await this.checkAttributes())) {
        this.record(this.checkPolicy());
      } else {
        this.record(skip(STEPS.policy, "needs the queue attributes"));
      }
    } else {
      this.record(skip(STEPS.attributes, "needs the queue"));
      this.record(skip(STEPS.policy, "needs the queue"));
    }

    const bucket = this.resolveBucket();
    this.record(bucket.step);
    const checks = new BucketChecks(this.inputs, this.identity);
    if (bucket.name === undefined) {
      this.record(skip(STEPS.notification, "needs the bucket name"));
      this.record(skip(STEPS.object, "needs the bucket name"));
    } else {
      this.record(
        this.queueArn === undefined
          ? skip(STEPS.notification, "needs the queue")
          : await checks.notification(bucket.name, this.queueArn),
      );
      this.record(await checks.objectRead(bucket.name));
    }

    return this.steps;
  }

  private record(step: DoctorStep): boolean {
    this.steps.push(step);

    return step.result === "PASS";
  }

  private skipRest(reason: string): DoctorStep[] {
    for (const name of ORDER.slice(this.steps.length)) {
      this.steps.push(skip(name, reason));
    }

    return this.steps;
  }

  private async checkCredentials(): Promise<DoctorStep> {
    const method = authMethodOf(this.inputs.configuration);
    try {
      await this.inputs.credentials();
    } catch (error: unknown) {
      return error instanceof CredentialsError
        ? fail(STEPS.credentials, error.message.replace(error.remedy, "").trim(), error.remedy)
        : fail(STEPS.credentials, describeError(error), "Check the module configuration.");
    }

    return pass(
      STEPS.credentials,
      method.kind === "keys"
        ? `access key ${method.accessKeyId} from the module configuration`
        : `role ${method.roleArn} assumed with the Sekoia.io OIDC token`,
    );
  }

  private async checkIdentity(): Promise<DoctorStep> {
    try {
      this.identity = await callerIdentity(this.inputs.sts);
    } catch (error: unknown) {
      const finding = explainIdentityFailure(error, this.inputs.configuration);

      return fail(STEPS.identity, finding.problem, finding.remedy);
    }

    return pass(STEPS.identity, `account ${this.identity.account}, ${this.identity.arn}`);
  }

  private async checkQueue(): Promise<DoctorStep> {
    const { queue_url: url, queue_name: name } = this.inputs.trigger;
    const region = this.inputs.configuration.aws_region_name;
    const label = url ?? name ?? "";
    if (url !== undefined) {
      const mismatch = queueRegionMismatch(url, region);
      if (mismatch !== undefined) {
        return fail(STEPS.queue, mismatch.problem, mismatch.remedy);
      }
    }
    const segments = (url ?? "").split("/").filter((part) => part !== "");
    const owner = url === undefined ? undefined : segments.at(-2);
    try {
      const answer = await this.inputs.clients.sqs.send(
        new GetQueueUrlCommand({
          QueueName: url === undefined ? name : segments.at(-1),
          ...(owner === undefined ? {} : { QueueOwnerAWSAccountId: owner }),
        }),
      );
      this.queueUrl = url ?? answer.QueueUrl ?? "";
    } catch (error: unknown) {
      const finding = explainQueueFailure(error, "sqs:GetQueueUrl", label, region, this.identity);

      return fail(STEPS.queue, finding.problem, finding.remedy);
    }
    this.queueArn = queueArnOf(this.queueUrl, region, this.identity.account);
    const foreign = owner !== undefined && owner !== this.identity.account;

    return pass(
      STEPS.queue,
      `${label} exists in ${region}: ${this.queueUrl}` +
        (foreign ? ` (owned by account ${owner}, not ${this.identity.account})` : ""),
    );
  }

  private async checkAttributes(): Promise<DoctorStep> {
    const region = this.inputs.configuration.aws_region_name;
    let attributes: Record<string, string>;
    try {
      const answer = await this.inputs.clients.sqs.send(
        new GetQueueAttributesCommand({ QueueUrl: this.queueUrl, AttributeNames: ["All"] }),
      );
      attributes = answer.Attributes ?? {};
    } catch (error: unknown) {
      const label = this.queueUrl ?? "";
      const finding = explainQueueFailure(
        error,
        "sqs:GetQueueAttributes",
        label,
        region,
        this.identity,
      );

      return fail(STEPS.attributes, finding.problem, finding.remedy);
    }
    this.queueArn = attributes["QueueArn"] ?? this.queueArn;
    this.policyText = attributes["Policy"];
    if (attributes["FifoQueue"] === "true") {
      return fail(
        STEPS.attributes,
        `Queue ${this.queueArn ?? ""} is a FIFO queue; S3 event notifications cannot target FIFO queues.`,
        "Create a standard queue for the notifications and point the trigger at it.",
      );
    }

    if (attributes["KmsMasterKeyId"] === AWS_MANAGED_SQS_KEY) {
      return fail(
        STEPS.attributes,
        `Queue ${this.queueArn ?? ""} is encrypted with the AWS managed key ${AWS_MANAGED_SQS_KEY}, ` +
          "whose key policy cannot let S3 encrypt: S3 cannot deliver notifications to it.",
        "Switch the queue to SQS-managed encryption (SSE-SQS), or to a customer managed KMS " +
          "key whose policy lets s3.amazonaws.com use kms:GenerateDataKey and kms:Decrypt.",
      );
    }

    return pass(STEPS.attributes, describeAttributes(this.queueArn ?? "", attributes));
  }

  private checkPolicy(): DoctorStep {
    const queueArn = this.queueArn ?? "";
    const remedy =
      `Paste the queue access policy printed by the setup command (queue-policy.json) in ` +
      `SQS > Queues > ${queueArn.split(":").at(-1) ?? ""} > Access policy > Edit.`;
    if (this.policyText === undefined || this.policyText === "") {
      return fail(
        STEPS.policy,
        `Queue ${queueArn} has no access policy, so S3 cannot send notifications to it.`,
        remedy,
      );
    }
    const verdict = inspectQueuePolicy(this.policyText, queueArn);
    if (verdict.deniesS3 || !verdict.allowsS3) {
      return fail(
        STEPS.policy,
        `The access policy of queue ${queueArn} does not let the S3 service ` +
          `(s3.amazonaws.com) call sqs:SendMessage on it${verdict.deniesS3 ? " (a Deny statement blocks it)" : ""}.`,
        remedy,
      );
    }
    const bucket = this.inputs.bucket;
    const bucketArn = `arn:aws:s3:::${bucket ?? ""}`;
    if (bucket !== undefined && !allowsBucket(verdict, bucketArn)) {
      return fail(
        STEPS.policy,
        `The access policy of queue ${queueArn} lets S3 send only for ` +
          `${verdict.sourceArns.join(", ")} (aws:SourceArn), not for ${bucketArn}.`,
        `Set the aws:SourceArn condition to ${bucketArn} (queue-policy.json of the setup command).`,
      );
    }
    const sources =
      verdict.sourceArns.length === 0
        ? "any bucket (no aws:SourceArn condition; limiting it to the bucket is safer)"
        : verdict.sourceArns.join(", ");
    const accounts =
      verdict.sourceAccounts.length === 0 ? "" : `, account ${verdict.sourceAccounts.join(", ")}`;

    return pass(STEPS.policy, `S3 may send notifications from ${sources}${accounts}`);
  }

  private resolveBucket(): { name: string | undefined; step: DoctorStep } {
    if (this.inputs.bucket !== undefined) {
      return {
        name: this.inputs.bucket,
        step: pass(STEPS.bucket, `${this.inputs.bucket} (from --bucket)`),
      };
    }
    const fromPolicy =
      this.policyText === undefined
        ? undefined
        : bucketOfPolicy(inspectQueuePolicy(this.policyText, this.queueArn ?? ""));
    if (fromPolicy !== undefined) {
      return {
        name: fromPolicy,
        step: pass(STEPS.bucket, `${fromPolicy} (from the queue policy's aws:SourceArn)`),
      };
    }

    return {
      name: undefined,
      step: skip(
        STEPS.bucket,
        "unknown: --bucket was not given and the queue policy names no single bucket",
        "Run the doctor again with --bucket <bucket name>.",
      ),
    };
  }
}

function describeAttributes(queueArn: string, attributes: Record<string, string>): string {
  const parts = [
    `ARN ${queueArn}`,
    `${attributes["ApproximateNumberOfMessages"] ?? "?"} messages waiting, ` +
      `${attributes["ApproximateNumberOfMessagesNotVisible"] ?? "?"} in flight`,
    `visibility timeout ${attributes["VisibilityTimeout"] ?? "?"} s`,
  ];
  const redrive = attributes["RedrivePolicy"];
  const deadLetter =
    redrive === undefined ? undefined : /"deadLetterTargetArn"\s*:\s*"([^"]+)"/.exec(redrive)?.[1];
  parts.push(deadLetter === undefined ? "no dead-letter queue" : `dead-letter queue ${deadLetter}`);
  const key = attributes["KmsMasterKeyId"];
  if (key !== undefined && key !== "") {
    parts.push(
      `encrypted with KMS key ${key}: its key policy must let s3.amazonaws.com use ` +
        "kms:GenerateDataKey and kms:Decrypt",
    );
  }

  return parts.join("; ");
}
