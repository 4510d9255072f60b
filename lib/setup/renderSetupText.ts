import type { SetupOptions } from "./SetupArguments.js";
import { setupNotes, type SetupDocument } from "./SetupDocuments.js";

/**
 * The assistant's output: a heading, each document with where it goes (its JSON, or the
 * file it was written to), then the notes.
 */
export function renderSetupText(
  options: SetupOptions,
  documents: SetupDocument[],
  written?: Map<string, string>,
): string {
  const method =
    options.auth === "role"
      ? `IAM role ${options.roleName} (OIDC)`
      : `IAM user ${options.userName} (access key)`;
  const lines = [
    `# AWS set-up for Cisco Umbrella logs: bucket ${options.bucket}, queue ${options.queue}, ` +
      `prefix "${options.prefix}", region ${options.region}, account ${options.accountId}, ` +
      `access by ${method}`,
    "",
  ];
  documents.forEach((document, index) => {
    lines.push(
      `## ${index + 1}. ${document.title} [${document.file}]`,
      "",
      `Where: ${document.where}`,
      "",
    );
    const path = written?.get(document.file);
    lines.push(
      path === undefined ? JSON.stringify(document.content, null, 2) : `Written to ${path}`,
      "",
    );
  });
  lines.push("## Notes", "", ...setupNotes(options).map((note) => `- ${note}`), "");

  return lines.join("\n");
}
