import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";

import { ConfigurationError } from "../errors/ConfigurationError.js";
import type { ModuleCommand, RuntimeContext } from "../runtime/RuntimeContext.js";
import { parseSetupArguments, type SetupOptions } from "./SetupArguments.js";
import { setupDocuments, type SetupDocument } from "./SetupDocuments.js";
import { renderSetupText } from "./renderSetupText.js";

/** Exit code of a command-line usage error. */
export const USAGE_EXIT_CODE = 2;

export const SETUP_USAGE = [
  "Usage: setup --account-id <12 digits> --region <region> --bucket <bucket> --queue <queue>",
  "             --auth role|keys [--prefix iplogs/] [--kms-key-arn <arn>] [--output-dir <dir>]",
  "  role:      --community-uuid <uuid> --module-configuration-uuid <uuid>",
  "             --oidc-issuer <host/path of the Sekoia.io OIDC provider> [--role-name <name>]",
  "  keys:      [--user-name <name>]",
].join("\n");

/**
 * The setup assistant: prints, for the customer's names, every policy and configuration the
 * AWS side needs (OIDC provider, role trust and permissions or user policy, queue access
 * policy, bucket notification) and the module and trigger configuration, ready to paste; or
 * writes one file each into --output-dir. It calls nothing and changes nothing.
 */
export class SetupCommand implements ModuleCommand {
  private readonly out: NodeJS.WritableStream;
  private readonly err: NodeJS.WritableStream;

  constructor(streams: { out?: NodeJS.WritableStream; err?: NodeJS.WritableStream } = {}) {
    this.out = streams.out ?? process.stdout;
    this.err = streams.err ?? process.stderr;
  }

  run(context: Pick<RuntimeContext, "args">): Promise<number> {
    let options: SetupOptions;
    try {
      options = parseSetupArguments(context.args);
    } catch (error: unknown) {
      if (error instanceof ConfigurationError) {
        this.err.write(`setup: ${error.message}\n${SETUP_USAGE}\n`);

        return Promise.resolve(USAGE_EXIT_CODE);
      }
      throw error;
    }

    const documents = setupDocuments(options);
    const written =
      options.outputDir === undefined ? undefined : writeAll(options.outputDir, documents);
    this.out.write(renderSetupText(options, documents, written));

    return Promise.resolve(0);
  }
}

function writeAll(directory: string, documents: SetupDocument[]): Map<string, string> {
  mkdirSync(directory, { recursive: true });
  const written = new Map<string, string>();
  for (const document of documents) {
    const path = join(directory, document.file);
    writeFileSync(path, `${JSON.stringify(document.content, null, 2)}\n`);
    written.set(document.file, path);
  }

  return written;
}
