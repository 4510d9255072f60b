import { readFileSync } from "node:fs";

const KIB = 1024;

/**
 * Peak resident set size of a live process, in bytes: VmHWM of /proc/<pid>/status (Linux).
 * Undefined when it cannot be read (another system, or the process is gone).
 */
export function peakRssBytes(pid: number | undefined): number | undefined {
  if (pid === undefined) {
    return undefined;
  }
  try {
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    const match = /^VmHWM:\s+(\d+)\s+kB$/m.exec(status);

    return match?.[1] === undefined ? undefined : Number(match[1]) * KIB;
  } catch {
    return undefined;
  }
}
