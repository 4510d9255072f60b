import {
  AssumeRoleWithWebIdentityCommand,
  STSClient,
  type AssumeRoleWithWebIdentityCommandOutput,
} from "@aws-sdk/client-sts";
import { NodeHttpHandler } from "@smithy/node-http-handler";
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from "@smithy/types";

import { CredentialsError } from "../errors/CredentialsError.js";
import { describeError } from "../errors/ModuleError.js";
import type { HttpTransport } from "../http/HttpTransport.js";
import { Backoff, type BackoffOptions } from "../runtime/Backoff.js";
import type { Logger } from "../runtime/createLogger.js";
import type { SecretRedactor } from "../runtime/SecretRedactor.js";
import type { SymphonyConfig } from "../runtime/SymphonyConfig.js";
import { classifyAwsError } from "./classifyAwsError.js";
import { fetchWebIdentityToken, STS_AUDIENCE } from "./OidcTokenClient.js";

export { OIDC_TOKEN_TIMEOUT_MS, STS_AUDIENCE } from "./OidcTokenClient.js";

/** Session name of the assumed role, as in the Python module (visible in CloudTrail). */
export const OIDC_ROLE_SESSION_NAME = "sekoia-automation-session";

/** How long before expiry a refresh starts; leaves room for retries while the old ones serve. */
export const OIDC_REFRESH_MARGIN_MS = 10 * 60_000;

/**
 * How long before `expiration` an AWS SDK v3 client calls its credential provider again
 * (`EXPIRATION_MS` of `memoizeIdentityProvider` in @smithy/core).
 */
export const SDK_IDENTITY_REFRESH_WINDOW_MS = 5 * 60_000;

/** Waits between failed refreshes while the current credentials are still valid. */
export const OIDC_RETRY_BACKOFF: BackoffOptions = { initialDelayMs: 5_000, maxDelayMs: 60_000 };

const STS_MAX_ATTEMPTS = 3;
const STS_CONNECTION_TIMEOUT_MS = 10_000;
const STS_SOCKET_TIMEOUT_MS = 30_000;
const ROLE_ARN_PATTERN = /^arn:aws[a-z-]*:iam::(\d{12}):role\/[\w+=,.@/-]+$/;

/** The `sub` claim Sekoia.io puts in the token of one module configuration. */
export function oidcSubject(communityUuid: string, moduleConfigurationUuid: string): string {
  return `community:${communityUuid}:modconf:${moduleConfigurationUuid}`;
}

export interface OidcCredentialProviderOptions {
  /** `aws_role_arn` of the module configuration. */
  roleArn: string;
  /** `aws_region_name`: the STS region. */
  region: string;
  symphony: SymphonyConfig;
  http: HttpTransport;
  logger: Logger;
  redactor: SecretRedactor;
  /** STS endpoint override (`AWS_ENDPOINT_URL_STS`); the regional STS endpoint otherwise. */
  stsEndpoint?: string;
  /** Defaults to OIDC_REFRESH_MARGIN_MS. */
  refreshMarginMs?: number;
  /** Defaults to OIDC_RETRY_BACKOFF. */
  retryBackoff?: BackoffOptions;
  /** Clock, replaceable in tests. */
  now?: () => number;
}

interface HeldCredentials {
  identity: AwsCredentialIdentity;
  expiresAt: number;
  refreshAt: number;
}

/**
 * Credentials of an IAM role assumed with a web-identity token from the Sekoia.io platform
 * (RUNTIME.md 9.8): GET the token, then STS AssumeRoleWithWebIdentity. Every refresh fetches
 * a new token. Concurrent callers share one refresh; from `refreshAt` on, a refresh runs in
 * the background while the current credentials keep being served, and a failed refresh is
 * logged and retried with backoff; callers only see an error once the credentials expired.
 *
 * How SDK clients pick up refreshed credentials: each v3 client wraps `provide` in
 * `memoizeIdentityProvider` (@smithy/core) and calls it again only when the identity it holds
 * has an `expiration` less than SDK_IDENTITY_REFRESH_WINDOW_MS away. The `expiration` handed
 * to the SDK is therefore brought earlier so that this window opens at `refreshAt`; from then
 * on every request asks `provide`, which answers from memory until the new credentials are
 * there, and the client swaps them in on its next request. The true expiry stays here.
 */
export class OidcCredentialProvider {
  /** The function to give SDK clients as `credentials`. */
  readonly provide: AwsCredentialIdentityProvider = () => this.credentials();
  private current: HeldCredentials | undefined;
  private refreshing: Promise<AwsCredentialIdentity> | undefined;
  private lastFailure: { error: unknown; retryAt: number } | undefined;
  private readonly backoff: Backoff;
  private readonly now: () => number;

  constructor(private readonly options: OidcCredentialProviderOptions) {
    this.backoff = new Backoff(options.retryBackoff ?? OIDC_RETRY_BACKOFF);
    this.now = options.now ?? Date.now;
  }

  /** Valid credentials: from memory, or after a refresh when they expired. */
  async credentials(): Promise<AwsCredentialIdentity> {
    const now = this.now();
    const current = this.current;
    if (current !== undefined && now < current.expiresAt) {
      if (now >= current.refreshAt) {
        this.refreshInBackground(now);
      }

      return current.identity;
    }
    if (this.refreshing === undefined && this.lastFailure && now < this.lastFailure.retryAt) {
      throw this.lastFailure.error;
    }

    return this.refresh();
  }

  /** Resolves once no refresh is running; for orderly shutdowns and tests. */
  async settled(): Promise<void> {
    await this.refreshing?.catch(() => undefined);
  }

  private refreshInBackground(now: number): void {
    if (this.refreshing !== undefined || (this.lastFailure && now < this.lastFailure.retryAt)) {
      return;
    }
    // The failure is logged in refresh() and reported to callers once the credentials expire.
    this.refresh().catch(() => undefined);
  }

  private refresh(): Promise<AwsCredentialIdentity> {
    this.refreshing ??= this.assumeRole()
      .then(
        (fresh) => this.accept(fresh),
        (error: unknown) => this.reject(error),
      )
      .finally(() => {
        this.refreshing = undefined;
      });

    return this.refreshing;
  }

  private accept(fresh: HeldCredentials): AwsCredentialIdentity {
    this.current = fresh;
    this.lastFailure = undefined;
    this.backoff.reset();
    this.options.logger.info("role assumed", {
      roleArn: this.options.roleArn,
      expiresAt: new Date(fresh.expiresAt).toISOString(),
    });

    return fresh.identity;
  }

  private reject(error: unknown): never {
    const retryInMs = this.backoff.next();
    this.lastFailure = { error, retryAt: this.now() + retryInMs };
    const validForMs =
      this.current === undefined ? 0 : Math.max(0, this.current.expiresAt - this.now());
    this.options.logger.log("warning", "role credentials refresh failed", {
      roleArn: this.options.roleArn,
      error,
      retryInMs,
      currentValidForMs: validForMs,
    });
    throw error;
  }

  private async assumeRole(): Promise<HeldCredentials> {
    const roleArn = this.options.roleArn;
    if (!ROLE_ARN_PATTERN.test(roleArn)) {
      throw invalidRoleArn(roleArn);
    }
    const token = await fetchWebIdentityToken(this.options);
    this.options.redactor.add(token);
    const answer = await callSts(this.options, token);
    const credentials = answer.Credentials;
    if (
      credentials?.AccessKeyId === undefined ||
      credentials.SecretAccessKey === undefined ||
      credentials.Expiration === undefined
    ) {
      throw new CredentialsError(
        `AWS STS answered AssumeRoleWithWebIdentity for ${roleArn} without credentials.`,
        "Retried automatically; if it persists, check the STS endpoint in use.",
      );
    }
    this.options.redactor.add(credentials.SecretAccessKey);
    this.options.redactor.add(credentials.SessionToken);

    return this.hold(credentials.AccessKeyId, credentials, credentials.Expiration.getTime());
  }

  private hold(
    accessKeyId: string,
    credentials: { SecretAccessKey?: string | undefined; SessionToken?: string | undefined },
    expiresAt: number,
  ): HeldCredentials {
    const now = this.now();
    const margin = this.options.refreshMarginMs ?? OIDC_REFRESH_MARGIN_MS;
    // Never before half the lifetime, so a margin longer than the lifetime cannot loop.
    const refreshAt = Math.max(expiresAt - margin, now + (expiresAt - now) / 2);
    const reported = Math.min(expiresAt, refreshAt + SDK_IDENTITY_REFRESH_WINDOW_MS);

    return {
      identity: {
        accessKeyId,
        secretAccessKey: credentials.SecretAccessKey ?? "",
        ...(credentials.SessionToken === undefined
          ? {}
          : { sessionToken: credentials.SessionToken }),
        expiration: new Date(reported),
      },
      expiresAt,
      refreshAt,
    };
  }
}

async function callSts(
  options: OidcCredentialProviderOptions,
  token: string,
): Promise<AssumeRoleWithWebIdentityCommandOutput> {
  const client = new STSClient({
    region: options.region,
    maxAttempts: STS_MAX_ATTEMPTS,
    // AssumeRoleWithWebIdentity is unsigned; explicit credentials keep the default chain out.
    credentials: () => Promise.reject(new Error("AssumeRoleWithWebIdentity is not signed")),
    requestHandler: new NodeHttpHandler({
      connectionTimeout: STS_CONNECTION_TIMEOUT_MS,
      socketTimeout: STS_SOCKET_TIMEOUT_MS,
    }),
    ...(options.stsEndpoint === undefined ? {} : { endpoint: options.stsEndpoint }),
  });
  try {
    return await client.send(
      new AssumeRoleWithWebIdentityCommand({
        RoleArn: options.roleArn,
        RoleSessionName: OIDC_ROLE_SESSION_NAME,
        WebIdentityToken: token,
      }),
    );
  } catch (error: unknown) {
    throw stsRefused(options, error);
  } finally {
    client.destroy();
  }
}

function stsRefused(options: OidcCredentialProviderOptions, error: unknown): CredentialsError {
  const { name, kind } = classifyAwsError(error);
  // The SDK names modelled STS errors after their classes: InvalidIdentityTokenException.
  const code = name.replace(/Exception$/, "");
  const roleArn = options.roleArn;
  const detail = options.redactor.redactText(describeError(error));
  const message = `AWS STS refused AssumeRoleWithWebIdentity for role ${roleArn} (${name}: ${detail}).`;
  if (code === "AccessDenied" || code === "IDPRejectedClaim") {
    return new CredentialsError(message, trustPolicyRemedy(options), { cause: error });
  }
  if (code === "InvalidIdentityToken") {
    const account = ROLE_ARN_PATTERN.exec(roleArn)?.[1] ?? "<role account>";
    return new CredentialsError(
      message,
      `Create the IAM OpenID Connect identity provider in account ${account}: provider URL = ` +
        `the Sekoia.io OIDC issuer (https://...), audience ${STS_AUDIENCE}. The issuer must ` +
        `match the token's exactly.`,
      { cause: error },
    );
  }
  if (code === "ValidationError" || code === "MalformedPolicyDocument") {
    return invalidRoleArn(roleArn, error);
  }
  if (code === "RegionDisabled") {
    return new CredentialsError(
      message,
      `Activate STS in region ${options.region} (IAM > Account settings), or use another region.`,
      { cause: error },
    );
  }
  const transient = kind === "network" || kind === "throttled" || kind === "server";

  return new CredentialsError(
    message,
    transient
      ? "Retried automatically."
      : "Check aws_role_arn and the role's trust policy (the setup command prints it).",
    { cause: error },
  );
}

function invalidRoleArn(roleArn: string, cause?: unknown): CredentialsError {
  return new CredentialsError(
    `aws_role_arn "${roleArn}" is not a valid IAM role ARN.`,
    "Set it to the role's ARN, of the form arn:aws:iam::<12-digit account id>:role/<role name> " +
      "(IAM > Roles > the role > ARN).",
    cause === undefined ? {} : { cause },
  );
}

/** The trust policy the role needs, with every value filled in that the platform gave. */
function trustPolicyRemedy(options: OidcCredentialProviderOptions): string {
  const account = ROLE_ARN_PATTERN.exec(options.roleArn)?.[1] ?? "<role account>";
  const community =
    options.symphony.readString("community_uuid") ??
    "<your community UUID (Sekoia.io settings; the community_uuid file is not set)>";
  const moduleConfiguration =
    options.symphony.readString("module_configuration_uuid") ??
    "<the UUID of this AWS module configuration: open it in Sekoia.io, or ask Sekoia.io " +
      "support; the module_configuration_uuid file is not set>";

  return (
    `The role's trust policy must allow sts:AssumeRoleWithWebIdentity to the federated ` +
    `principal arn:aws:iam::${account}:oidc-provider/<Sekoia.io OIDC issuer>, with the ` +
    `conditions "<issuer>:aud" = "${STS_AUDIENCE}" and "<issuer>:sub" = ` +
    `"${oidcSubject(community, moduleConfiguration)}". The setup command prints this policy.`
  );
}
