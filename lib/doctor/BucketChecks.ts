import {
  GetBucketNotificationConfigurationCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  type _Object,
} from "@aws-sdk/client-s3";

import type { CallerIdentity } from "../aws/AwsAccountCheck.js";
import { classifyAwsError } from "../aws/classifyAwsError.js";
import { describeError } from "../errors/ModuleError.js";
import type { DoctorInputs } from "./DoctorChecks.js";
import { fail, pass, skip, type DoctorStep } from "./DoctorStep.js";
import { inspectNotification } from "./NotificationInspector.js";

const NOTIFICATION_STEP = "bucket notification";
const OBJECT_STEP = "object read";

/** Objects listed to find one worth a ranged read (a non-empty one). */
const MAX_LISTED_OBJECTS = 10;

/** Errors S3 answers when the bucket lives in another region than the client's. */
const WRONG_REGION_NAMES = new Set([
  "PermanentRedirect",
  "AuthorizationHeaderMalformed",
  "IllegalLocationConstraintException",
]);

const OPTIONAL_PERMISSION_REMEDY =
  "Optional: to check it, give these credentials the doctor policy printed by the setup " +
  "command (doctor-policy.json); the module itself does not need it.";

/** The bucket steps of the doctor: the notification configuration, and reading an object. */
export class BucketChecks {
  constructor(
    private readonly inputs: DoctorInputs,
    private readonly identity: CallerIdentity,
  ) {}

  async notification(bucket: string, queueArn: string): Promise<DoctorStep> {
    let configurations;
    try {
      const answer = await this.inputs.clients.s3.send(
        new GetBucketNotificationConfigurationCommand({ Bucket: bucket }),
      );
      configurations = answer.QueueConfigurations ?? [];
    } catch (error: unknown) {
      if (classifyAwsError(error).kind === "access-denied") {
        return skip(
          NOTIFICATION_STEP,
          `${this.identity.arn} may not read the notification configuration of bucket ` +
            `${bucket} (s3:GetBucketNotification)`,
          OPTIONAL_PERMISSION_REMEDY,
        );
      }

      return this.bucketFailure(NOTIFICATION_STEP, "s3:GetBucketNotification", bucket, error);
    }

    const verdict = inspectNotification(configurations, queueArn, bucket, this.keyPrefix);

    return verdict.ok
      ? pass(NOTIFICATION_STEP, verdict.detail)
      : fail(NOTIFICATION_STEP, verdict.problem, verdict.remedy);
  }

  async objectRead(bucket: string): Promise<DoctorStep> {
    let objects: _Object[];
    try {
      const answer = await this.inputs.clients.s3.send(
        new ListObjectsV2Command({
          Bucket: bucket,
          Prefix: this.keyPrefix,
          MaxKeys: MAX_LISTED_OBJECTS,
        }),
      );
      objects = answer.Contents ?? [];
    } catch (error: unknown) {
      if (classifyAwsError(error).kind === "access-denied") {
        return skip(
          OBJECT_STEP,
          `${this.identity.arn} may not list bucket ${bucket} under "${this.keyPrefix}" ` +
            "(s3:ListBucket), so no object could be picked",
          OPTIONAL_PERMISSION_REMEDY,
        );
      }

      return this.bucketFailure(OBJECT_STEP, "s3:ListBucket", bucket, error);
    }
    const object = objects.find((item) => (item.Size ?? 0) > 0) ?? objects[0];
    if (object?.Key === undefined) {
      return skip(
        OBJECT_STEP,
        `no object under "${this.keyPrefix}" in bucket ${bucket} yet`,
        "Umbrella uploads every 10 minutes, the first time up to 2 hours after it was set up; " +
          "if objects exist under another folder, set the trigger's key_prefix to it.",
      );
    }

    return this.readFirstByte(bucket, object.Key, object.Size ?? 0);
  }

  private async readFirstByte(bucket: string, key: string, size: number): Promise<DoctorStep> {
    try {
      const answer = await this.inputs.clients.s3.send(
        new GetObjectCommand({
          Bucket: bucket,
          Key: key,
          ...(size > 0 ? { Range: "bytes=0-0" } : {}),
        }),
      );
      const bytes = (await answer.Body?.transformToByteArray())?.length ?? 0;

      return pass(OBJECT_STEP, `read ${bytes} byte(s) of ${key} (${size} bytes)`);
    } catch (error: unknown) {
      if (classifyAwsError(error).kind !== "access-denied") {
        return this.bucketFailure(OBJECT_STEP, "s3:GetObject", bucket, error);
      }
      const kms = /kms/i.test(describeError(error));

      return fail(
        OBJECT_STEP,
        `${this.identity.arn} may not read s3://${bucket}/${key} (${kms ? "KMS " : ""}AccessDenied).`,
        kms
          ? "The object is encrypted with a customer managed KMS key: grant kms:Decrypt on it " +
              "(setup --kms-key-arn adds the statement) and allow it in the key policy."
          : `Grant s3:GetObject on arn:aws:s3:::${bucket}/${this.keyPrefix}* to ` +
              `${this.identity.arn} (the setup command prints the policy); check that the ` +
              "bucket policy does not deny it.",
      );
    }
  }

  private get keyPrefix(): string {
    return this.inputs.trigger.key_prefix;
  }

  private bucketFailure(step: string, action: string, bucket: string, error: unknown): DoctorStep {
    const { kind, name } = classifyAwsError(error);
    const region = this.inputs.configuration.aws_region_name;
    if (name === "NoSuchBucket") {
      return fail(
        step,
        `Bucket ${bucket} does not exist.`,
        "Check the bucket name (--bucket, or the queue policy's aws:SourceArn).",
      );
    }
    if (WRONG_REGION_NAMES.has(name)) {
      return fail(
        step,
        `Bucket ${bucket} is not in region ${region} (${name}).`,
        "The bucket, the queue and aws_region_name must be in the same region.",
      );
    }

    return fail(
      step,
      `${action} on bucket ${bucket} failed (${name}: ${describeError(error)}).`,
      kind === "network" || kind === "throttled" || kind === "server"
        ? "A transient AWS failure; run the doctor again."
        : `Check the bucket name and that ${this.identity.arn} may call ${action} on it.`,
    );
  }
}
