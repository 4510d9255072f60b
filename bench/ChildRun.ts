import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";

/** The compiled bench script `name` (e.g. "worker.js"), next to this file. */
export function benchScript(name: string): string {
  return fileURLToPath(new URL(`./${name}`, import.meta.url));
}

/**
 * Runs `node [nodeOptions] <script> [args]` to its end and returns the JSON document of its
 * last stdout line; stderr goes through. Fails when the process fails.
 */
export async function runNodeJson<T>(
  script: string,
  args: readonly string[],
  options: { nodeOptions?: readonly string[]; env?: Record<string, string> } = {},
): Promise<T> {
  const child = spawn(process.execPath, [...(options.nodeOptions ?? []), script, ...args], {
    env: { PATH: process.env["PATH"] ?? "", ...options.env },
    stdio: ["ignore", "pipe", "inherit"],
  });
  let output = "";
  child.stdout.setEncoding("utf8");
  child.stdout.on("data", (text: string) => {
    output += text;
  });
  const code = await new Promise<number | null>((resolve, reject) => {
    child.on("error", reject);
    child.on("exit", resolve);
  });
  const last = output.trim().split("\n").pop() ?? "";
  if (code !== 0) {
    throw new Error(`${script} ${args.join(" ")} exited with ${String(code)}: ${last}`);
  }

  return JSON.parse(last) as T;
}
