/**
 * Text as the bytes say, or nothing: decoding bytes that are not UTF-8 would replace them with
 * U+FFFD, and two different references sent that way (a Latin-1 `é` and `è`) would read as one.
 */
const strict = new TextDecoder('utf-8', { fatal: true });

/** The body's text, or undefined when its bytes are not UTF-8. */
export function utf8Text(bytes: Uint8Array): string | undefined {
  try {
    return strict.decode(bytes);
  } catch {
    return undefined;
  }
}

/** Unicode characters (code points) in `text`: an emoji is one, where `length` counts two UTF-16 units. */
export function characterCount(text: string): number {
  let n = 0;
  for (const _ of text) n++;
  return n;
}

/**
 * At most `max` UTF-16 units of `text`, never ending in half a character. A plain `slice` can cut
 * between the two halves of a surrogate pair (an emoji, a rarer CJK character): the half left over
 * is not Unicode, JSON.stringify writes it as a bare `\ud83d`, and strict JSON readers (.NET's,
 * Rust's serde_json) refuse the whole body, so a merchant could not even read the error naming it.
 * Any other lone half (`text` itself not well formed) becomes U+FFFD.
 */
export function clipText(text: string, max: number): string {
  let cut = text.length > max ? text.slice(0, max) : text;
  if (cut.length < text.length && /[\uD800-\uDBFF]$/.test(cut)) cut = cut.slice(0, -1);
  return cut.toWellFormed();
}

/** The replacement character as a form writes it: literally, or percent-encoded as its UTF-8 bytes. */
const writtenReplacement = /\uFFFD|%EF%BF%BD/gi;

/**
 * The name of the first parameter of a form body whose percent-escapes are not UTF-8 (`caf%E9`
 * from a Latin-1 client), or undefined. URLSearchParams decodes such bytes to U+FFFD: kept, two
 * different references would read as one (a false duplicate, two holders sharing their cards) and
 * a name would be stored altered. A U+FFFD the client wrote itself is its own text.
 */
export function undecodableFormParameter(body: string, pairs: Iterable<readonly [string, string]>): string | undefined {
  let replaced = 0;
  let first: string | undefined;
  for (const [name, value] of pairs) {
    if (!name.includes('\uFFFD') && !value.includes('\uFFFD')) continue;
    replaced += name.split('\uFFFD').length + value.split('\uFFFD').length - 2;
    first ??= name;
  }
  return first !== undefined && replaced > (body.match(writtenReplacement)?.length ?? 0) ? first : undefined;
}
