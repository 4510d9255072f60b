/**
 * Decodes an object key as S3 writes it in event notifications: form encoding, where `+` is
 * a space and `%2B` a plus sign. A key with a malformed escape is returned with only the `+`
 * replaced, since S3 never produces one; the read then fails visibly with that key.
 */
export function decodeS3Key(encoded: string): string {
  const spaced = encoded.replaceAll("+", " ");
  try {
    return decodeURIComponent(spaced);
  } catch {
    return spaced;
  }
}
