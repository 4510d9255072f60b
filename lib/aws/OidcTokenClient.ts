import { CredentialsError } from "../errors/CredentialsError.js";
import { describeError } from "../errors/ModuleError.js";
import { PlatformError } from "../errors/PlatformError.js";
import type { HttpTransport } from "../http/HttpTransport.js";
import type { SecretRedactor } from "../runtime/SecretRedactor.js";
import type { SymphonyConfig } from "../runtime/SymphonyConfig.js";

/** Audience of the web-identity token, and the client ID the IAM OIDC provider must list. */
export const STS_AUDIENCE = "sts.amazonaws.com";

/** Time allowed for the platform's token endpoint (RUNTIME.md 9.8). */
export const OIDC_TOKEN_TIMEOUT_MS = 60_000;

const TOKEN_PATH = "api/v1/symphony/oidc/token";
const BODY_EXCERPT_CHARS = 200;

/** What the token request needs from the runtime. */
export interface WebIdentityTokenOptions {
  symphony: SymphonyConfig;
  http: HttpTransport;
  redactor: SecretRedactor;
}

/** Where the token request goes and who it is for (RUNTIME.md 9.8). */
interface TokenRequest {
  url: URL;
  nodeType: "trigger" | "connector" | "action";
  /** The platform file the node UUID came from. */
  nodeSource: string;
}

function tokenRequest(symphony: SymphonyConfig): TokenRequest {
  const callback = symphony.readString("url_callback");
  const logs = symphony.readString("url_logs") ?? callback?.replaceAll("/callback", "/logs");
  if (logs === undefined) {
    throw new CredentialsError(
      "Cannot request the OIDC token: neither url_logs nor url_callback is set.",
      "The platform writes these files in /symphony (or the URL_LOGS / URL_CALLBACK " +
        "variables); for a local run, set url_logs to https://<Sekoia.io API host>/api/v1/logs.",
    );
  }
  const cut = logs.lastIndexOf("/api/");
  const base = cut === -1 ? logs : logs.slice(0, cut);
  const identity = nodeIdentity(symphony, callback);
  const query = `node_type=${identity.nodeType}&node_uuid=${identity.nodeUuid}&audience=${STS_AUDIENCE}`;
  if (!URL.canParse(`${TOKEN_PATH}?${query}`, base)) {
    throw new CredentialsError(
      `Cannot request the OIDC token: url_logs / url_callback ("${logs}") is not a URL.`,
      "Check the url_logs (or url_callback) file the platform wrote.",
    );
  }

  return {
    url: new URL(`${TOKEN_PATH}?${query}`, base),
    nodeType: identity.nodeType,
    nodeSource: identity.source,
  };
}

function nodeIdentity(
  symphony: SymphonyConfig,
  callback: string | undefined,
): { nodeType: TokenRequest["nodeType"]; nodeUuid: string; source: string } {
  const trigger = symphony.readString("trigger_configuration_uuid");
  if (trigger !== undefined) {
    return { nodeType: "trigger", nodeUuid: trigger, source: "trigger_configuration_uuid" };
  }
  const connector = symphony.readString("connector_configuration_uuid");
  if (connector !== undefined) {
    return { nodeType: "connector", nodeUuid: connector, source: "connector_configuration_uuid" };
  }
  const segments = callback?.split("/") ?? [];
  const nodeUuid = segments.length >= 2 ? (segments[segments.length - 2] ?? "") : "";

  return { nodeType: "action", nodeUuid: nodeUuid || "unknown", source: "url_callback" };
}

/**
 * Fetches a web-identity token for this node from the platform (RUNTIME.md 9.8): GET
 * `<platform>/api/v1/symphony/oidc/token?node_type=..&node_uuid=..&audience=sts.amazonaws.com`
 * with the platform token. Every failure says which platform file to check.
 */
export async function fetchWebIdentityToken(options: WebIdentityTokenOptions): Promise<string> {
  const request = tokenRequest(options.symphony);
  const bearer = options.symphony.readString("token");
  const where = `${request.url.origin}${request.url.pathname}`;
  if (bearer === undefined) {
    throw new CredentialsError(
      `Cannot request the OIDC token from ${where}: the platform token is missing.`,
      "The platform writes it in the `token` file (or the TOKEN variable); restart the trigger.",
    );
  }
  options.redactor.add(bearer);

  let response;
  try {
    response = await options.http.request({
      method: "GET",
      url: request.url,
      headers: { authorization: `Bearer ${bearer}`, accept: "application/json" },
      timeoutMs: OIDC_TOKEN_TIMEOUT_MS,
    });
  } catch (error: unknown) {
    throw new CredentialsError(
      `Could not reach the Sekoia.io OIDC token endpoint ${where}: ${describeError(error)}.`,
      "Retried automatically; check the network path to the platform if it persists.",
      { cause: error },
    );
  }
  if (response.status < 200 || response.status >= 300) {
    throw tokenRefused(request, where, response.status, options.redactor.redactText(response.body));
  }

  const token = readToken(response.body);
  if (token === undefined) {
    throw new CredentialsError(
      `The Sekoia.io OIDC token endpoint ${where} answered without a token.`,
      "Check that url_logs (or url_callback) points at the Sekoia.io API.",
    );
  }

  return token;
}

function readToken(body: string): string | undefined {
  try {
    const parsed = JSON.parse(body) as unknown;
    if (typeof parsed === "object" && parsed !== null && "token" in parsed) {
      const token = parsed.token;

      return typeof token === "string" && token !== "" ? token : undefined;
    }
  } catch {
    // Not JSON: reported like a missing token.
  }

  return undefined;
}

function tokenRefused(
  request: TokenRequest,
  where: string,
  status: number,
  body: string,
): CredentialsError {
  const excerpt = body.slice(0, BODY_EXCERPT_CHARS);
  const message = `The Sekoia.io OIDC token endpoint ${where} refused the request (HTTP ${status}: ${excerpt}).`;
  const cause = new PlatformError("fetch OIDC token", status, message);
  if (status === 401 || status === 403) {
    return new CredentialsError(
      message,
      "The platform token (the `token` file) is missing, expired or wrong; restart the " +
        "trigger so that the platform writes a fresh one.",
      { cause },
    );
  }
  if (status === 404 || status === 400 || status === 422) {
    return new CredentialsError(
      message,
      `Check url_logs / url_callback (the token URL is derived from them) and the ` +
        `${request.nodeSource} file, which names this ${request.nodeType} to the platform.`,
      { cause },
    );
  }

  return new CredentialsError(message, "The platform is unavailable; retried automatically.", {
    cause,
  });
}
