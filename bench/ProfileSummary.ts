import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

/** The parts of a V8 .cpuprofile the summary reads. */
interface CpuProfile {
  nodes: { id: number; callFrame: { functionName: string; url: string; lineNumber: number } }[];
  startTime: number;
  endTime: number;
  samples: number[];
}

/** One function's share of the samples. */
export interface ProfileEntry {
  name: string;
  location: string;
  selfMs: number;
  share: number;
}

/** The functions of the newest .cpuprofile in `directory`, most self time first. */
export function topFunctions(directory: string, count: number): ProfileEntry[] {
  const newest = readdirSync(directory)
    .filter((name) => name.endsWith(".cpuprofile"))
    .sort()
    .pop();
  if (newest === undefined) {
    throw new Error(`no .cpuprofile in ${directory}`);
  }
  const profile = JSON.parse(readFileSync(join(directory, newest), "utf8")) as CpuProfile;
  const hits = new Map<number, number>();
  for (const id of profile.samples) {
    hits.set(id, (hits.get(id) ?? 0) + 1);
  }
  const sampleMs =
    (profile.endTime - profile.startTime) / 1000 / Math.max(1, profile.samples.length);
  const byFunction = new Map<string, ProfileEntry>();
  for (const node of profile.nodes) {
    const samples = hits.get(node.id) ?? 0;
    const { functionName, url, lineNumber } = node.callFrame;
    const name = functionName === "" ? "(anonymous)" : functionName;
    const location = url === "" ? "" : `${shortUrl(url)}:${lineNumber + 1}`;
    const entry = byFunction.get(`${name} ${location}`) ?? { name, location, selfMs: 0, share: 0 };
    entry.selfMs += samples * sampleMs;
    entry.share += samples / Math.max(1, profile.samples.length);
    byFunction.set(`${name} ${location}`, entry);
  }

  return [...byFunction.values()].sort((a, b) => b.selfMs - a.selfMs).slice(0, count);
}

/** `dist/lib/intake/ChunkBuilder.js` rather than the whole file URL. */
function shortUrl(url: string): string {
  const distAt = url.indexOf("/dist/");

  return distAt === -1 ? url.replace(/^file:\/\//, "") : url.slice(distAt + 1);
}
