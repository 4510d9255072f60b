/**
 * Splits a list cell (categories, identity types) on commas, trims each item and drops blank
 * ones: Umbrella writes `a,b` and sometimes `a, b`, and an empty cell is an empty list.
 */
export function splitUmbrellaList(text: string): string[] {
  if (text === "") {
    return [];
  }

  return text
    .split(",")
    .map((item) => item.trim())
    .filter((item) => item !== "");
}
