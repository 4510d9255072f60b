const UMBRELLA_TIMESTAMP = /^(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2})$/;

/**
 * Turns an Umbrella timestamp (`YYYY-MM-DD HH:MM:SS`, always UTC, no zone) into RFC 3339 UTC
 * (`YYYY-MM-DDTHH:MM:SSZ`). Returns undefined for any other shape and for impossible dates
 * (February 30th, hour 24, second 60): Umbrella never writes them, so they mean damage.
 */
export function parseUmbrellaTimestamp(text: string): string | undefined {
  const match = UMBRELLA_TIMESTAMP.exec(text);
  if (match === null) {
    return undefined;
  }

  const [year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0] = match
    .slice(1)
    .map(Number);
  const date = new Date(Date.UTC(year, month - 1, day, hour, minute, second));
  const isSameMoment =
    date.getUTCFullYear() === year &&
    date.getUTCMonth() === month - 1 &&
    date.getUTCDate() === day &&
    date.getUTCHours() === hour &&
    date.getUTCMinutes() === minute &&
    date.getUTCSeconds() === second;
  if (!isSameMoment) {
    return undefined;
  }

  return `${text.slice(0, 10)}T${text.slice(11)}Z`;
}
