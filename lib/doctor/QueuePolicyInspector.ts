const SEND_ACTION = "sqs:sendmessage";
const S3_SERVICE = "s3.amazonaws.com";

/** What a queue access policy says about S3 sending to the queue. */
export interface QueuePolicyVerdict {
  /** An Allow statement lets S3 (or anyone) call sqs:SendMessage on the queue. */
  allowsS3: boolean;
  /** A Deny statement without conditions blocks it. */
  deniesS3: boolean;
  /** `aws:SourceArn` values of the allowing statements; empty means any bucket. */
  sourceArns: string[];
  /** `aws:SourceAccount` values of the allowing statements; empty means any account. */
  sourceAccounts: string[];
}

interface Statement {
  Effect?: unknown;
  Principal?: unknown;
  Action?: unknown;
  Resource?: unknown;
  Condition?: unknown;
}

/**
 * Reads the SQS access policy (the queue's `Policy` attribute) as far as S3 notifications
 * need: which statements let the S3 service send to this queue, and from which buckets and
 * accounts. Wildcards in actions, resources and ARNs are honoured.
 */
export function inspectQueuePolicy(policyText: string, queueArn: string): QueuePolicyVerdict {
  const verdict: QueuePolicyVerdict = {
    allowsS3: false,
    deniesS3: false,
    sourceArns: [],
    sourceAccounts: [],
  };
  for (const statement of statementsOf(policyText)) {
    if (!admitsS3(statement.Principal) || !coversSend(statement.Action)) {
      continue;
    }
    const resources = listOf(statement.Resource);
    if (resources.length === 0 || resources.some((resource) => matchesGlob(resource, queueArn))) {
      const conditions = conditionValues(statement.Condition);
      if (statement.Effect === "Allow") {
        verdict.allowsS3 = true;
        verdict.sourceArns.push(...conditions.sourceArns);
        verdict.sourceAccounts.push(...conditions.sourceAccounts);
      } else if (statement.Effect === "Deny" && statement.Condition === undefined) {
        verdict.deniesS3 = true;
      }
    }
  }

  return verdict;
}

/** Whether `bucketArn` is among the allowed sources (no condition allows every bucket). */
export function allowsBucket(verdict: QueuePolicyVerdict, bucketArn: string): boolean {
  return (
    verdict.sourceArns.length === 0 ||
    verdict.sourceArns.some((pattern) => matchesGlob(pattern, bucketArn))
  );
}

/** The single bucket named by `aws:SourceArn`, when there is exactly one without wildcard. */
export function bucketOfPolicy(verdict: QueuePolicyVerdict): string | undefined {
  const buckets = [...new Set(verdict.sourceArns)];
  const only = buckets.length === 1 ? buckets[0] : undefined;
  const match = only === undefined ? null : /^arn:aws[a-z-]*:s3:::([^*?/]+)$/.exec(only);

  return match?.[1];
}

/** An IAM glob (`*`, `?`), case-sensitive as ARNs are. */
export function matchesGlob(pattern: string, value: string): boolean {
  const source = pattern
    .split("")
    .map((char) =>
      char === "*" ? ".*" : char === "?" ? "." : char.replace(/[.+^${}()|[\]\\]/g, "\\$&"),
    )
    .join("");

  return new RegExp(`^${source}$`).test(value);
}

function statementsOf(policyText: string): Statement[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(policyText);
  } catch {
    return [];
  }
  const statements = (parsed as { Statement?: unknown } | null)?.Statement;
  // A policy may hold one statement object instead of a list.
  const items: unknown[] = Array.isArray(statements) ? statements : [statements];

  return items.filter((item): item is Statement => typeof item === "object" && item !== null);
}

function admitsS3(principal: unknown): boolean {
  if (principal === "*") {
    return true;
  }
  if (typeof principal !== "object" || principal === null) {
    return false;
  }
  const record = principal as Record<string, unknown>;

  return listOf(record["Service"]).includes(S3_SERVICE) || listOf(record["AWS"]).includes("*");
}

function coversSend(action: unknown): boolean {
  return listOf(action).some((item) => matchesGlob(item.toLowerCase(), SEND_ACTION));
}

function conditionValues(condition: unknown): { sourceArns: string[]; sourceAccounts: string[] } {
  const found = { sourceArns: [] as string[], sourceAccounts: [] as string[] };
  if (typeof condition !== "object" || condition === null) {
    return found;
  }
  for (const operands of Object.values(condition as Record<string, unknown>)) {
    if (typeof operands !== "object" || operands === null) {
      continue;
    }
    for (const [key, value] of Object.entries(operands as Record<string, unknown>)) {
      if (key.toLowerCase() === "aws:sourcearn") {
        found.sourceArns.push(...listOf(value));
      } else if (key.toLowerCase() === "aws:sourceaccount") {
        found.sourceAccounts.push(...listOf(value));
      }
    }
  }

  return found;
}

function listOf(value: unknown): string[] {
  if (typeof value === "string") {
    return [value];
  }

  return Array.isArray(value)
    ? value.filter((item): item is string => typeof item === "string")
    : [];
}
