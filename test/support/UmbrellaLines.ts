import { gzipSync } from "node:zlib";

/** Identities of the generated lines: hosts, and AD users whose names contain commas. */
const IDENTITIES = [
  ["LAPTOP-0001", "Roaming Computers"],
  ["WS-0042", "Anyconnect Roaming Client"],
  ["Doe, Jane (jane.doe@example.com)", "AD Users"],
  ["Martin, Paul (p.martin@example.com)", "AD Users"],
] as const;

const CATEGORIES = [
  "",
  "",
  "Malware",
  "Command and Control,Malware",
  "Unauthorized IP Tunnel Access",
];

/** A pseudo-random generator with a seed, so that generated data is reproducible. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0 || 1;

  return () => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;

    return (state >>> 0) / 4294967296;
  };
}

/**
 * Realistic Umbrella IP log lines (8 columns, v3+): IPv4 and IPv6, several identities, AD users
 * with commas, empty and non-empty categories. `tag` makes every line of a run unique.
 */
export function umbrellaIpLines(count: number, tag: string, seed = 1): string[] {
  const random = seededRandom(seed);
  const lines: string[] = [];
  for (let index = 0; index < count; index += 1) {
    const [identity, identityType] = IDENTITIES[index % IDENTITIES.length] as readonly [
      string,
      string,
    ];
    const ipv6 = random() < 0.2;
    const source = ipv6 ? `2001:db8:10::${(index % 65535).toString(16)}` : `192.0.2.${index % 250}`;
    const destination = ipv6 ? "2001:db8:ffff::1" : `198.51.100.${(index * 7) % 250}`;
    const category = CATEGORIES[Math.floor(random() * CATEGORIES.length)] ?? "";
    const second = String(index % 60).padStart(2, "0");
    lines.push(
      `"2024-05-01 10:20:${second}","${identity}","${source}","${1024 + (index % 60000)}",` +
        `"${destination}","443","${category}","${identityType}"` +
        (tag === "" ? "" : `,"${tag}-${index}"`),
    );
  }

  return lines;
}

/** The object body Umbrella would write: lines joined by LF, trailing LF, gzip by default. */
export function umbrellaObject(lines: readonly string[], gzip = true): Buffer {
  const text = Buffer.from(lines.map((line) => `${line}\n`).join(""), "utf8");

  return gzip ? gzipSync(text) : text;
}
