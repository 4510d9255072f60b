/** One end of a connection, as ECS names it. */
export interface NetworkEndpoint {
  /** Set only when the column holds a valid IPv4 or IPv6 address. */
  ip?: string;
  /** The column as written, IP or not. */
  address?: string;
  port?: number;
}

/**
 * An Umbrella IP log line in ECS form: the fields the Sekoia.io intake derives from the line,
 * plus the Umbrella values ECS has no place for under `umbrella` (vendor fields). Empty
 * columns produce no key: no empty string, list or object appears.
 */
export interface IpLogEvent {
  /** The raw line, without a BOM and without its line terminator. */
  message: string;
  /** Event time, RFC 3339 UTC (`2020-06-12T14:31:52Z`). */
  "@timestamp": string;
  event: { outcome: "success" };
  /** IP logs record connections the IP-layer enforcement acted on: always a block. */
  action: { name: "block"; outcome: "success"; target: "network-traffic" };
  source?: NetworkEndpoint;
  destination?: NetworkEndpoint;
  /** The identity, when it is a computer (or of unknown type). */
  host?: { hostname: string; name: string };
  /** The identity, when its type says it is a user. */
  user?: { name: string };
  related?: { hosts?: string[]; user?: string[]; ip?: string[] };
  umbrella?: {
    /** The identity column as written, whatever its type. */
    identity?: string;
    /** Column 7, split on commas. */
    categories?: string[];
    /** Column 8 (schema v3 and later), split on commas. */
    identity_types?: string[];
  };
}
