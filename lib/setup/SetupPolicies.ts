import { QUEUE_ACTIONS } from "../aws/AwsAccountCheck.js";
import { oidcSubject, STS_AUDIENCE } from "../aws/OidcCredentialProvider.js";
import type { SetupOptions } from "./SetupArguments.js";

/** Version of the IAM policy language every policy below is written in. */
export const POLICY_VERSION = "2012-10-17";

/** The events that announce new Umbrella objects (PUT, POST, copy, multipart upload). */
export const OBJECT_CREATED_EVENTS = ["s3:ObjectCreated:*"];

/** The partition of a region, for ARNs: China and GovCloud have their own. */
export function partitionOf(region: string): string {
  if (region.startsWith("cn-")) {
    return "aws-cn";
  }

  return region.startsWith("us-gov-") ? "aws-us-gov" : "aws";
}

/** The ARNs every document refers to. */
export interface SetupArns {
  queue: string;
  bucket: string;
  objects: string;
  role: string;
  oidcProvider: string | undefined;
}

export function setupArns(options: SetupOptions): SetupArns {
  const partition = partitionOf(options.region);

  return {
    queue: `arn:${partition}:sqs:${options.region}:${options.accountId}:${options.queue}`,
    bucket: `arn:${partition}:s3:::${options.bucket}`,
    objects: `arn:${partition}:s3:::${options.bucket}/${options.prefix}*`,
    role: `arn:${partition}:iam::${options.accountId}:role/${options.roleName}`,
    oidcProvider:
      options.oidcIssuer === undefined
        ? undefined
        : `arn:${partition}:iam::${options.accountId}:oidc-provider/${options.oidcIssuer}`,
  };
}

/** What the module itself calls, and nothing more: the role's or the user's policy. */
export function modulePermissionPolicy(options: SetupOptions): object {
  const arns = setupArns(options);
  const statements: object[] = [
    {
      Sid: "ReceiveUmbrellaNotifications",
      Effect: "Allow",
      Action: [...QUEUE_ACTIONS],
      Resource: arns.queue,
    },
    {
      Sid: "ReadUmbrellaLogObjects",
      Effect: "Allow",
      Action: "s3:GetObject",
      Resource: arns.objects,
    },
  ];
  if (options.kmsKeyArn !== undefined) {
    statements.push({
      Sid: "DecryptUmbrellaLogObjects",
      Effect: "Allow",
      Action: "kms:Decrypt",
      Resource: options.kmsKeyArn,
      Condition: { StringEquals: { "kms:ViaService": `s3.${options.region}.amazonaws.com` } },
    });
  }

  return { Version: POLICY_VERSION, Statement: statements };
}

/** Optional: what the doctor command needs on top, to inspect the set-up. */
export function doctorPermissionPolicy(options: SetupOptions): object {
  const arns = setupArns(options);

  return {
    Version: POLICY_VERSION,
    Statement: [
      {
        Sid: "DoctorListUmbrellaPrefix",
        Effect: "Allow",
        Action: "s3:ListBucket",
        Resource: arns.bucket,
        Condition: { StringLike: { "s3:prefix": `${options.prefix}*` } },
      },
      {
        Sid: "DoctorReadBucketNotification",
        Effect: "Allow",
        Action: "s3:GetBucketNotification",
        Resource: arns.bucket,
      },
    ],
  };
}

/** Who may assume the role: tokens of this one Sekoia.io module configuration. */
export function roleTrustPolicy(options: SetupOptions): object {
  const issuer = options.oidcIssuer ?? "";
  const subject = oidcSubject(options.communityUuid ?? "", options.moduleConfigurationUuid ?? "");

  return {
    Version: POLICY_VERSION,
    Statement: [
      {
        Sid: "SekoiaIoModuleConfiguration",
        Effect: "Allow",
        Principal: { Federated: setupArns(options).oidcProvider },
        Action: "sts:AssumeRoleWithWebIdentity",
        Condition: {
          StringEquals: { [`${issuer}:aud`]: STS_AUDIENCE, [`${issuer}:sub`]: subject },
        },
      },
    ],
  };
}

/** The IAM OpenID Connect provider, in the CreateOpenIDConnectProvider input shape. */
export function oidcProviderSettings(options: SetupOptions): object {
  return { Url: `https://${options.oidcIssuer ?? ""}`, ClientIDList: [STS_AUDIENCE] };
}

/** The queue's access policy: only this bucket of this account may send to it. */
export function queueAccessPolicy(options: SetupOptions): object {
  const arns = setupArns(options);

  return {
    Version: POLICY_VERSION,
    Id: `${options.queue}-s3-notifications`,
    Statement: [
      {
        Sid: "AllowUmbrellaBucketNotifications",
        Effect: "Allow",
        Principal: { Service: "s3.amazonaws.com" },
        Action: "sqs:SendMessage",
        Resource: arns.queue,
        Condition: {
          ArnEquals: { "aws:SourceArn": arns.bucket },
          StringEquals: { "aws:SourceAccount": options.accountId },
        },
      },
    ],
  };
}

/** The bucket's event notification, in the PutBucketNotificationConfiguration shape. */
export function bucketNotification(options: SetupOptions): object {
  const id = `sekoia-umbrella-${options.prefix.replace(/[^A-Za-z0-9-]+/g, "-").replace(/-+$/, "")}`;

  return {
    QueueConfigurations: [
      {
        Id: id === "sekoia-umbrella-" ? "sekoia-umbrella" : id,
        QueueArn: setupArns(options).queue,
        Events: OBJECT_CREATED_EVENTS,
        ...(options.prefix === ""
          ? {}
          : { Filter: { Key: { FilterRules: [{ Name: "prefix", Value: options.prefix }] } } }),
      },
    ],
  };
}

/** The module configuration to enter in Sekoia.io. */
export function moduleConfiguration(options: SetupOptions): object {
  if (options.auth === "role") {
    return { aws_region_name: options.region, aws_role_arn: setupArns(options).role };
  }

  return {
    aws_region_name: options.region,
    aws_access_key: `<access key ID of IAM user ${options.userName}>`,
    aws_secret_access_key: "<its secret access key>",
  };
}

/** The trigger configuration to enter in the playbook. */
export function triggerConfiguration(options: SetupOptions): object {
  return {
    queue_name: options.queue,
    key_prefix: options.prefix,
    intake_key: "<intake key of your Cisco Umbrella IP intake>",
  };
}
