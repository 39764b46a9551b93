import { scrubPans } from '../runtime/scrub.ts';

/** Longer than any dashboard address with its search filters. */
const maxLength = 1024;

/** A dashboard path and query; its two parts cannot both take a run of "?" (see safeNext). */
export const dashboardAddress = /^\/dashboard(?:\/[^\s\\?]*)?(?:\?[^\s\\]*)?$/;

/**
 * Where sign-in sends the operator afterwards: a dashboard page, and none whose address holds a
 * card number (it would sit in the sign-in page); anything else is the overview. Read before
 * sign-in, from anyone: bounded, and matched by a pattern whose two parts cannot both take a run of
 * "?" (one that could made a crafted value cost time growing with the square of its length).
 */
export function safeNext(next: unknown): string {
  const safe = typeof next === 'string' && next.length <= maxLength && dashboardAddress.test(next)
    && !next.startsWith('//') && scrubPans(next) === next;
  // A character beyond ASCII is sent percent-encoded, as a browser would have: raw in the Location
  // header, Node refuses it, and the operator who typed the right password was answered 500.
  return safe ? next.replace(/[^\x00-\x7f]/gu, (c) => encodeURIComponent(c)) : '/dashboard';
}
