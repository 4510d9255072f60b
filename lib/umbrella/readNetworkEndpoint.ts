import { isIP } from "node:net";

import { LineParseError } from "../errors/LineParseError.js";
import type { NetworkEndpoint } from "./IpLogEvent.js";

const PORT_PATTERN = /^\d{1,5}$/;
const MAX_PORT = 65535;
/** How much of a bad value an error message quotes, in characters. */
const SHOWN_VALUE_MAX_CHARS = 40;

/**
 * One end of a connection from its address and port columns (already trimmed). The address
 * is kept whole, IPv6 included, and is `ip` only when it parses as an IP. Returns undefined
 * when both columns are empty; throws LineParseError when the port is not 0 to 65535.
 */
export function readNetworkEndpoint(
  address: string,
  port: string,
  side: "source" | "destination",
  line: string,
): NetworkEndpoint | undefined {
  const endpoint: NetworkEndpoint = {};
  if (address !== "") {
    if (isIP(address) !== 0) {
      endpoint.ip = address;
    }
    endpoint.address = address;
  }
  if (port !== "") {
    endpoint.port = readPort(port, side, line);
  }

  return Object.keys(endpoint).length === 0 ? undefined : endpoint;
}

function readPort(text: string, side: "source" | "destination", line: string): number {
  const port = PORT_PATTERN.test(text) ? Number(text) : Number.NaN;
  if (!(port <= MAX_PORT)) {
    const shown = JSON.stringify(text.slice(0, SHOWN_VALUE_MAX_CHARS));
    throw new LineParseError(
      "port",
      `${side} port ${shown} is not an integer from 0 to ${MAX_PORT}`,
      line,
    );
  }

  return port;
}
