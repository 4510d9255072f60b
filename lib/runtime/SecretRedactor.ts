/** Shortest value treated as a secret; shorter strings would mask ordinary words. */
const MIN_SECRET_LENGTH = 6;

/** Characters of an intake key kept visible so that operators can tell keys apart. */
const INTAKE_KEY_VISIBLE_CHARS = 4;

/**
 * Remembers every secret value the process learns (AWS secret key, session tokens, OIDC
 * token, platform token, intake key) and replaces them in any text or structure before it
 * leaves the process: log lines, error messages, metric labels.
 */
export class SecretRedactor {
  private readonly secrets = new Map<string, string>();

  /** Registers a value to hide; `replacement` defaults to a fixed mask. */
  add(value: string | undefined, replacement = "[redacted]"): void {
    if (value === undefined || value.length < MIN_SECRET_LENGTH) {
      return;
    }
    this.secrets.set(value, replacement);
    // Longest first, so that a secret containing another one is replaced whole.
    const sorted = [...this.secrets].sort(([a], [b]) => b.length - a.length);
    this.secrets.clear();
    for (const [secret, mask] of sorted) {
      this.secrets.set(secret, mask);
    }
  }

  /** Registers an intake key, which is shown masked rather than removed. */
  addIntakeKey(key: string): void {
    this.add(key, maskIntakeKey(key));
  }

  redactText(text: string): string {
    let result = text;
    for (const [secret, replacement] of this.secrets) {
      if (result.includes(secret)) {
        result = result.split(secret).join(replacement);
      }
    }

    return result;
  }

  /** Returns a copy of `value` with every registered secret replaced, at any depth. */
  redact(value: unknown, depth = 0): unknown {
    if (typeof value === "string") {
      return this.redactText(value);
    }
    if (depth > 8 || value === null || typeof value !== "object") {
      return value;
    }
    if (Array.isArray(value)) {
      return value.map((item) => this.redact(item, depth + 1));
    }
    if (value instanceof Error) {
      return this.redactText(value.message);
    }
    const copy: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) {
      copy[key] = this.redact(item, depth + 1);
    }

    return copy;
  }
}

/** `abcd****`: enough to recognise a key, not enough to use it. */
export function maskIntakeKey(key: string): string {
  if (key.length <= INTAKE_KEY_VISIBLE_CHARS * 2) {
    return "****";
  }

  return `${key.slice(0, INTAKE_KEY_VISIBLE_CHARS)}****`;
}
