import { ConfigurationError } from "../errors/ConfigurationError.js";
import type { SecretRedactor } from "./SecretRedactor.js";
import type { SymphonyConfig } from "./SymphonyConfig.js";

/** The path segment of `url_callback` that the logs and secrets URLs are derived from. */
const CALLBACK_SEGMENT = "/callback";

/** Where the module reaches the platform, as far as the configuration tells (RUNTIME.md 2.2). */
export interface PlatformUrls {
  /** `url_callback`: playbook events and the account validator's status updates. */
  callback?: URL;
  /** `url_logs`, else `url_callback` with `/callback` replaced by `/logs`. */
  logs?: URL;
  /** `url_secrets`, else `url_callback` with `/callback` replaced by `/secrets`. */
  secrets?: URL;
  /** The bearer token of every platform call (`token`). */
  token?: string;
}

/**
 * Reads the platform endpoints and the token. The token is registered with `redactor` when
 * one is given, so that it can never reach a log line. A value that is not a URL is a
 * configuration error naming the setting.
 */
export function platformUrls(symphony: SymphonyConfig, redactor?: SecretRedactor): PlatformUrls {
  const callbackText = symphony.readString("url_callback");
  const logsText = symphony.readString("url_logs") ?? deriveFromCallback(callbackText, "/logs");
  const secretsText =
    symphony.readString("url_secrets") ?? deriveFromCallback(callbackText, "/secrets");
  const token = symphony.readString("token");
  redactor?.add(token);

  const urls: PlatformUrls = {};
  assignUrl(urls, "callback", "url_callback", callbackText);
  assignUrl(urls, "logs", "url_logs", logsText);
  assignUrl(urls, "secrets", "url_secrets", secretsText);
  if (token !== undefined) {
    urls.token = token;
  }

  return urls;
}

/** The same rule as the Python SDK: every `/callback` becomes the sibling endpoint. */
function deriveFromCallback(callback: string | undefined, segment: string): string | undefined {
  return callback?.replaceAll(CALLBACK_SEGMENT, segment);
}

function assignUrl(
  urls: PlatformUrls,
  field: "callback" | "logs" | "secrets",
  setting: string,
  text: string | undefined,
): void {
  if (text === undefined) {
    return;
  }
  if (!URL.canParse(text)) {
    throw new ConfigurationError(
      setting,
      [],
      `${setting} is not an absolute URL. The platform writes it; check the runtime configuration.`,
    );
  }
  urls[field] = new URL(text);
}
