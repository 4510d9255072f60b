import { seededRandom } from "../test/support/UmbrellaLines.js";

/** Identities and the identity types Umbrella lists first for them; AD users hold commas. */
const IDENTITIES = [
  ["LAPTOP-0001", "Roaming Computers"],
  ["LAPTOP-0173", "Roaming Computers"],
  ["WS-0042", "Anyconnect Roaming Client"],
  ["WS-1290", "Anyconnect Roaming Client"],
  ["Head Office Network", "Networks"],
  ["Doe, Jane (jane.doe@example.com)", "AD Users,Roaming Computers"],
  ["Martin, Paul (p.martin@example.com)", "AD Users"],
  ["Nguyen, Thi Mai (t.nguyen@example.com)", "AD Users,Anyconnect Roaming Client"],
] as const;

/** About half of the rows have no category, as in real exports. */
const CATEGORIES = [
  "",
  "",
  "",
  "",
  "Malware",
  "Command and Control,Malware",
  "Unauthorized IP Tunnel Access",
  "Cryptomining",
];

const IPV6_SHARE = 0.2;
/** Rows Umbrella writes per second of log time, on average. */
const LINES_PER_LOG_SECOND = 40;
const FIRST_LOG_TIME_MS = Date.UTC(2024, 4, 1, 10, 0, 0);
const EPHEMERAL_PORT_FIRST = 1024;
const EPHEMERAL_PORT_COUNT = 64_511;
const WELL_KNOWN_PORTS = ["443", "443", "443", "80", "53", "22", "8443", "3389"];

/**
 * An endless, reproducible supply of realistic Umbrella IP log lines (8 columns): several
 * identities, IPv4 and IPv6, AD users whose names hold commas, empty and non-empty
 * categories, log time moving forward. Text comes in blocks of whole lines, each ending in LF,
 * so that a benchmark can stream gigabytes without holding them.
 */
export class UmbrellaLineSource {
  private readonly random: () => number;
  private index = 0;
  private timestampSecond = -1;
  private timestampText = "";

  constructor(seed: number) {
    this.random = seededRandom(seed);
  }

  /** Whole lines, LF-terminated, of at least `minBytes` bytes together (one line past it). */
  nextBlock(minBytes: number): { text: Buffer; lines: number } {
    const lines: string[] = [];
    let size = 0;
    while (size < minBytes) {
      const line = `${this.nextLine()}\n`;
      lines.push(line);
      size += line.length;
    }

    return { text: Buffer.from(lines.join(""), "latin1"), lines: lines.length };
  }

  /** One line, without its terminator (ASCII only, so length is its size in bytes). */
  nextLine(): string {
    const [identity, identityType] = this.pick(IDENTITIES);
    const ipv6 = this.random() < IPV6_SHARE;
    const source = ipv6 ? this.internalIpv6() : this.internalIpv4();
    const destination = ipv6 ? this.externalIpv6() : this.externalIpv4();
    const sourcePort = EPHEMERAL_PORT_FIRST + Math.floor(this.random() * EPHEMERAL_PORT_COUNT);
    const line =
      `"${this.timestamp()}","${identity}","${source}","${sourcePort}",` +
      `"${destination}","${this.pick(WELL_KNOWN_PORTS)}","${this.pick(CATEGORIES)}",` +
      `"${identityType}"`;
    this.index += 1;

    return line;
  }

  private timestamp(): string {
    const second = Math.floor(this.index / LINES_PER_LOG_SECOND);
    if (second !== this.timestampSecond) {
      this.timestampSecond = second;
      const iso = new Date(FIRST_LOG_TIME_MS + second * 1000).toISOString();
      this.timestampText = `${iso.slice(0, 10)} ${iso.slice(11, 19)}`;
    }

    return this.timestampText;
  }

  private internalIpv4(): string {
    return `10.${this.byte() & 0x0f}.${this.byte()}.${this.byte()}`;
  }

  private externalIpv4(): string {
    return `${this.pick(["198.51.100", "203.0.113", "192.0.2"])}.${this.byte()}`;
  }

  private internalIpv6(): string {
    return `2001:db8:10:${this.hex()}::${this.hex()}`;
  }

  private externalIpv6(): string {
    return `2001:db8:ff${this.byte() & 0x0f}::${this.hex()}`;
  }

  private byte(): number {
    return Math.floor(this.random() * 256);
  }

  private hex(): string {
    return Math.floor(this.random() * 65_536).toString(16);
  }

  private pick<T>(values: readonly T[]): T {
    return values[Math.floor(this.random() * values.length)] as T;
  }
}
