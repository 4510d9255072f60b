import type Transport from "winston-transport";

import type { HttpTransport } from "../http/HttpTransport.js";
import { PlatformLogTransport } from "./PlatformLogTransport.js";
import { platformUrls } from "./PlatformUrls.js";
import type { SecretRedactor } from "./SecretRedactor.js";
import type { SymphonyConfig } from "./SymphonyConfig.js";

/**
 * The log transports toward the platform, for ModuleRunner's `transports` option: the logs
 * API when both a logs URL and a token are configured, nothing otherwise (local runs).
 */
export function createPlatformTransports(services: {
  symphony: SymphonyConfig;
  http: HttpTransport;
  redactor: SecretRedactor;
}): Transport[] {
  const urls = platformUrls(services.symphony, services.redactor);
  if (urls.logs === undefined || urls.token === undefined) {
    return [];
  }

  return [
    new PlatformLogTransport({
      url: urls.logs,
      token: urls.token,
      http: services.http,
      redactor: services.redactor,
    }),
  ];
}
