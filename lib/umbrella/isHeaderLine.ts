const QUOTE = 0x22;
const SPACE = 0x20;
const TAB = 0x09;
const FIRST_HEADER_CELL = Buffer.from("timestamp");
const LOWER_CASE_BIT = 0x20;

/**
 * True for an Umbrella optional header row (v11+, "Include Optional Log Headers"): its first
 * cell, after blanks and an opening quote, is `Timestamp` in any case. Data rows start with a
 * date, so one byte usually decides.
 */
export function isUmbrellaHeaderLine(line: Buffer): boolean {
  let index = 0;
  while (index < line.length && (line[index] === SPACE || line[index] === TAB)) {
    index += 1;
  }
  if (line[index] === QUOTE) {
    index += 1;
  }
  if (index + FIRST_HEADER_CELL.length > line.length) {
    return false;
  }
  for (let offset = 0; offset < FIRST_HEADER_CELL.length; offset += 1) {
    if (((line[index + offset] ?? 0) | LOWER_CASE_BIT) !== FIRST_HEADER_CELL[offset]) {
      return false;
    }
  }

  return true;
}
