import type { AwsCredentialIdentityProvider } from "@smithy/types";

import type { HttpTransport } from "../http/HttpTransport.js";
import type { BackoffOptions } from "../runtime/Backoff.js";
import type { Logger } from "../runtime/createLogger.js";
import type { SecretRedactor } from "../runtime/SecretRedactor.js";
import type { SymphonyConfig } from "../runtime/SymphonyConfig.js";
import { readAwsEndpoints, type AwsEndpoints } from "./AwsEndpoints.js";
import { authMethodOf, type ModuleConfiguration } from "./ModuleConfiguration.js";
import { OidcCredentialProvider } from "./OidcCredentialProvider.js";

/** What building AWS credentials needs from the runtime. */
export interface AwsAccessServices {
  symphony: SymphonyConfig;
  http: HttpTransport;
  logger: Logger;
  redactor: SecretRedactor;
  /** Endpoint overrides; only `sts` matters here. Defaults to readAwsEndpoints(). */
  endpoints?: AwsEndpoints;
}

/** Tuning of the role credentials, for tests; production uses the defaults. */
export interface CredentialTuning {
  refreshMarginMs?: number;
  retryBackoff?: BackoffOptions;
  now?: () => number;
}

/**
 * The credentials of the configured authentication method: the static access key, or the
 * role assumed through the Sekoia.io OIDC token (OidcCredentialProvider). Always explicit:
 * the SDK default chain would pick up the platform's storage variables (RUNTIME.md 2.2).
 */
export function createCredentialProvider(
  configuration: ModuleConfiguration,
  services: AwsAccessServices,
  tuning: CredentialTuning = {},
): AwsCredentialIdentityProvider {
  const method = authMethodOf(configuration);
  if (method.kind === "keys") {
    services.redactor.add(method.secretAccessKey);
    const identity = {
      accessKeyId: method.accessKeyId,
      secretAccessKey: method.secretAccessKey,
    };

    return () => Promise.resolve(identity);
  }

  const stsEndpoint = (services.endpoints ?? readAwsEndpoints()).sts;
  const provider = new OidcCredentialProvider({
    roleArn: method.roleArn,
    region: configuration.aws_region_name,
    symphony: services.symphony,
    http: services.http,
    logger: services.logger,
    redactor: services.redactor,
    ...(stsEndpoint === undefined ? {} : { stsEndpoint }),
    ...tuning,
  });

  return provider.provide;
}
