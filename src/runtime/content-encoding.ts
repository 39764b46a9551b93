import { scrubPans } from './scrub.ts';
import { clipText } from './utf8.ts';

/**
 * Why a request's body is not read, when its `Content-Encoding` says it is compressed (anything but
 * `identity`): every surface takes bodies as they came only, so a gzip body would be read as garbage
 * and one labelled gzip that is not would be acted on. The words follow the header's name in each
 * surface's own refusal; undefined for a plain body.
 */
export function encodedBodyRefusal(header: string | string[] | undefined): string | undefined {
  if (header === undefined) return undefined;
  const value = String(header);
  if (value.trim().toLowerCase() === 'identity') return undefined;
  return `${clipText(scrubPans(value), 32)} is not accepted: send the body uncompressed`;
}
