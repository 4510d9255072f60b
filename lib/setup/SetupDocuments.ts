import type { SetupOptions } from "./SetupArguments.js";
import {
  bucketNotification,
  doctorPermissionPolicy,
  moduleConfiguration,
  modulePermissionPolicy,
  oidcProviderSettings,
  queueAccessPolicy,
  roleTrustPolicy,
  setupArns,
  triggerConfiguration,
} from "./SetupPolicies.js";

/** One JSON document to paste somewhere, with where it goes. */
export interface SetupDocument {
  /** File name used with --output-dir. */
  file: string;
  title: string;
  /** Where to paste it: console path, and the CLI command that takes the file. */
  where: string;
  content: object;
}

/** Every document for these options, in the order the customer applies them. */
export function setupDocuments(options: SetupOptions): SetupDocument[] {
  const arns = setupArns(options);
  const access =
    options.auth === "role"
      ? roleDocuments(options)
      : [
          {
            file: "user-policy.json",
            title: `Permission policy of IAM user ${options.userName}`,
            where:
              `IAM > Users > ${options.userName} > Add permissions > Create inline policy > JSON; ` +
              "then Security credentials > Create access key. CLI: aws iam put-user-policy " +
              `--user-name ${options.userName} --policy-name sekoia-umbrella-s3 ` +
              "--policy-document file://user-policy.json",
            content: modulePermissionPolicy(options),
          },
        ];
  const principal =
    options.auth === "role" ? `role ${options.roleName}` : `user ${options.userName}`;

  return [
    {
      file: "queue-policy.json",
      title: `Access policy of SQS queue ${options.queue}`,
      where:
        `SQS > Queues > ${options.queue} > Access policy > Edit (the queue must be a standard ` +
        `queue in ${options.region}, the bucket's region)`,
      content: queueAccessPolicy(options),
    },
    {
      file: "bucket-notification.json",
      title: `Event notification of S3 bucket ${options.bucket}`,
      where:
        `S3 > ${options.bucket} > Properties > Event notifications > Create event notification ` +
        "(prefix, All object create events, destination SQS queue). CLI: aws s3api " +
        `put-bucket-notification-configuration --bucket ${options.bucket} ` +
        "--notification-configuration file://bucket-notification.json (this replaces the " +
        "bucket's whole notification configuration: merge existing entries first)",
      content: bucketNotification(options),
    },
    ...access,
    {
      file: "doctor-policy.json",
      title: `Optional: what the doctor command needs to inspect the set-up (${principal})`,
      where:
        `Add it to ${principal} only if you run the doctor command with these credentials; ` +
        "the module does not need it",
      content: doctorPermissionPolicy(options),
    },
    {
      file: "module-configuration.json",
      title: "Module configuration in Sekoia.io",
      where: "Sekoia.io > the Cisco Umbrella (Amazon S3) module > configuration (account)",
      content: moduleConfiguration(options),
    },
    {
      file: "trigger-configuration.json",
      title: "Trigger configuration in the playbook",
      where: `Sekoia.io > playbook > trigger "Cisco Umbrella IP logs" (queue ARN ${arns.queue})`,
      content: triggerConfiguration(options),
    },
  ];
}

function roleDocuments(options: SetupOptions): SetupDocument[] {
  return [
    {
      file: "oidc-provider.json",
      title: "IAM OpenID Connect identity provider for Sekoia.io (once per AWS account)",
      where:
        "IAM > Identity providers > Add provider > OpenID Connect: Provider URL and Audience " +
        "below. CLI: aws iam create-open-id-connect-provider --cli-input-json " +
        "file://oidc-provider.json",
      content: oidcProviderSettings(options),
    },
    {
      file: "role-trust-policy.json",
      title: `Trust policy of IAM role ${options.roleName}`,
      where:
        "IAM > Roles > Create role > Custom trust policy. CLI: aws iam create-role " +
        `--role-name ${options.roleName} --assume-role-policy-document file://role-trust-policy.json`,
      content: roleTrustPolicy(options),
    },
    {
      file: "role-permission-policy.json",
      title: `Permission policy of IAM role ${options.roleName}`,
      where:
        `IAM > Roles > ${options.roleName} > Add permissions > Create inline policy > JSON. ` +
        `CLI: aws iam put-role-policy --role-name ${options.roleName} --policy-name ` +
        "sekoia-umbrella-s3 --policy-document file://role-permission-policy.json",
      content: modulePermissionPolicy(options),
    },
  ];
}

/** What the customer must know besides the documents. */
export function setupNotes(options: SetupOptions): string[] {
  const notes = [
    `The bucket ${options.bucket} and the queue ${options.queue} must be in the same region ` +
      `(${options.region}): S3 only notifies queues of its own region.`,
    "If the bucket uses SSE-KMS with a customer managed key, the module also needs " +
      "kms:Decrypt on that key (pass --kms-key-arn to add the statement) and the key policy " +
      "must allow it. With SSE-S3 (the default) nothing more is needed.",
    "If the queue is encrypted with a customer managed KMS key, that key's policy must let " +
      "the service principal s3.amazonaws.com use kms:GenerateDataKey and kms:Decrypt, or " +
      "S3 cannot deliver notifications. The AWS managed key alias/aws/sqs cannot be used, as " +
      "its policy cannot admit S3. SQS-managed encryption (SSE-SQS) needs nothing.",
    `Umbrella writes its IP logs under ${options.prefix || "the bucket root"}; the trigger's ` +
      "key_prefix and the notification prefix must both match where the objects really are " +
      "(some set-ups add an <orgId>_<hash>/ folder above iplogs/).",
  ];
  if (options.auth === "role") {
    notes.unshift(
      `The OIDC issuer ${options.oidcIssuer ?? ""} is the one you gave; the role trusts only ` +
        `tokens of module configuration ${options.moduleConfigurationUuid ?? ""} in community ` +
        `${options.communityUuid ?? ""}.`,
    );
  } else {
    notes.unshift(
      `Create an access key for IAM user ${options.userName} and put it in the module ` +
        "configuration; rotate it regularly. A role (--auth role) needs no stored secret.",
    );
  }
  if (options.bucket.includes(".")) {
    notes.push("Umbrella does not support bucket names containing periods: choose another name.");
  }

  return notes;
}
