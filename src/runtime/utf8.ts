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
