/**
 * A `--limit` as the CLI's lists read it: digits only, from 1 to `max`; `fallback` when not given;
 * undefined when it is none. `Number()` also read 0x10, 1e1 and 1.0 as 16, 10 and 1.
 */
export function pageLimit(text: string | undefined, fallback: number, max: number): number | undefined {
  const n = text === undefined ? fallback : /^[0-9]{1,4}$/.test(text) ? Number(text) : NaN;
  return n >= 1 && n <= max ? n : undefined;
}
