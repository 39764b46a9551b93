/**
 * Reads a moment typed by a person (an operator's `since`, a search's `from`, an export's window):
 * an ISO 8601 date, a whole UTC day, or a date and time, UTC unless it names an offset.
 *
 * `Date.parse` alone is not enough. It moves a day that does not exist (2026-02-30 reads as 2 March,
 * so a window silently starts two days late), reads a date-time without an offset in the server's own
 * time zone (so a window moves with the host's TZ), and takes forms no one means as a date ("1",
 * "May 5", read as 2001 in local time).
 */
const dateOnly = /^(\d{4})-(\d{2})-(\d{2})$/;
// RFC 3339's forms: `T` or a space between date and time, `Z` in either case (or ` UTC`, as the
// dashboard writes times), an offset with or without its colon.
const dateTime = /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?)(?:([Zz]| UTC)|([+-]\d{2}):?(\d{2}))?$/;

/** Whether year, month and day name a real calendar day. */
function realDay(y: number, m: number, d: number): boolean {
  const day = new Date(Date.UTC(y, m - 1, d));
  return day.getUTCFullYear() === y && day.getUTCMonth() === m - 1 && day.getUTCDate() === d;
}

/**
 * Epoch milliseconds of `text`, or undefined when it is not such a moment. With `end`, a bare date
 * is the start of the next day (the end of a range that includes that whole day).
 */
export function readInstant(text: string, options: { end?: boolean } = {}): number | undefined {
  const day = dateOnly.exec(text);
  if (day) {
    const [y, m, d] = day.slice(1, 4).map(Number) as [number, number, number];
    if (!realDay(y, m, d)) return undefined;
    return Date.UTC(y, m - 1, d) + (options.end ? 86_400_000 : 0);
  }
  const at = dateTime.exec(text);
  if (!at) return undefined;
  const [y, m, d] = at.slice(1, 4).map(Number) as [number, number, number];
  if (!realDay(y, m, d)) return undefined;
  // Written out in the one form Date.parse reads the same everywhere; no zone named is UTC.
  const zone = at[6] !== undefined ? `${at[6]}:${at[7]}` : 'Z';
  const ms = Date.parse(`${at[1]}-${at[2]}-${at[3]}T${at[4]}${zone}`);
  return Number.isNaN(ms) ? undefined : ms;
}
