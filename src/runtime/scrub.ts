/**
 * Backstop against card data in free text: 13–19 digits that pass the Luhn check, written whole or
 * in groups split by up to three spaces (tabs, line breaks and no-break spaces too), dashes, dots or
 * plus signs (`4111 1111…`, `4111.1111…`, a form-encoded `4111+1111…`), or those separators
 * percent-encoded as a URL carries them (`4111%201111…`, `4111%2D1111…`), are replaced; the decimal
 * digits of other scripts count as digits (full-width `４１１１…` as a Japanese input method types
 * them, Arabic-Indic `٤١١١…`, Devanagari `४१११…`, and every other script's of one UTF-16 unit). Structured fields are
 * redacted by name first; this catches what slips into messages, URLs and error strings.
 *
 * Where a find refuses or masks what someone typed (the free-text screen), a number written in
 * groups counts when its groups have three digits or more, as card numbers are printed (4-4-4-4,
 * 4-6-5), or when it is the whole run split by single spaces or dashes: dates and times
 * (`09.01.2026 10.00`) are two-digit groups and, taken together, would pass the Luhn check one time
 * in ten and get a shipping note refused as a card number. The scrubber of logs, URLs and error
 * strings (`scrubPans`) takes any grouping: there a false find costs a redacted number, a missed
 * one a card number in a log.
 */
// A run starts at a digit after no digit, or right after a complete percent-escape (`%204111…`,
// `%224111…` a quote, `%C2%B04111…` a degree sign: the escape's own hex digits are never the start
// of a number).
const run = /(?:(?<![0-9])|(?<=%[0-9A-Fa-f]{2}))(?<!%|%[0-9A-Fa-f])[0-9]+(?:(?:[\s.+-]|%2[0BbDdEe]|%0[9AaDd]|%[Cc]2%[Aa]0){1,3}[0-9]+)*(?![0-9])/g;
const group = /[0-9]+/g;
// A separator percent-encoded (a space, plus, dash or dot in a URL's query: `4111%201111…`), blanked
// to the same length before a run is cut into groups, so its hex digits never count as the number's.
const encodedInRun = /%2[0BbDdEe]|%0[9AaDd]|%[Cc]2%[Aa]0/g;
const blank = (m: string) => '_'.repeat(m.length);
const plainlySplit = /^[0-9]+(?:[ -][0-9]+)*$/;
/** A decimal digit of another script than ASCII, of one UTF-16 unit (each script's ten are consecutive). */
const otherDigit = /(?![0-9])[\p{Nd}--[\u{10000}-\u{10FFFF}]]/gv;
const hasOtherDigit = /(?![0-9])[\p{Nd}--[\u{10000}-\u{10FFFF}]]/v;
const isDigit = /^\p{Nd}$/u;
const digitValues = new Map<string, string>();
/** The ASCII digit a script's digit stands for: how far it lies from its script's zero. */
function asciiDigit(d: string): string {
  let v = digitValues.get(d);
  if (v === undefined) {
    const code = d.charCodeAt(0);
    let zero = code;
    while (code - zero < 9 && isDigit.test(String.fromCharCode(zero - 1))) zero--;
    v = String(code - zero);
    digitValues.set(d, v);
  }
  return v;
}

export function luhnValid(digits: string): boolean {
  let sum = 0;
  let double = false;
  for (let i = digits.length - 1; i >= 0; i--) {
    let d = digits.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return false;
    if (double) { d *= 2; if (d > 9) d -= 9; }
    sum += d;
    double = !double;
  }
  return digits.length > 0 && sum % 10 === 0;
}

/**
 * Replaces each card number in `text` with `replace(digits)`. A run of digit groups is searched
 * group by group, so that digits beside a card number ("05 4111 1111 1111 1111", an acquirer's
 * code before it) do not hide it: the longest Luhn-valid span of whole groups, 13–19 digits, from
 * the leftmost group on.
 */
export function replacePans(text: string, replace: (digits: string) => string, grouping: 'card' | 'any' = 'card'): string {
  // Other scripts' digits read as ASCII ones (one UTF-16 unit each, so every offset stays): the text
  // is returned with them so where a card number was found, as it is everywhere else.
  const source = hasOtherDigit.test(text) ? text.replace(otherDigit, asciiDigit) : text;
  const ids = uuidSpans(source);
  const replaced = source.replace(run, (m, offset: number) => {
    if (m.length < 13) return m;
    const cut = m.includes('%') ? m.replace(encodedInRun, blank) : m;
    const groups = [...cut.matchAll(group)].map((g) => ({ from: g.index, to: g.index + g[0].length, digits: g[0] }));
    const wholeRunPlain = plainlySplit.test(m);
    let out = '';
    let at = 0;
    for (let i = 0; i < groups.length; i++) {
      let found: { to: number; digits: string } | undefined;
      let digits = '';
      let short = 0;
      for (let j = i; j < groups.length && digits.length + groups[j]!.digits.length <= 19; j++) {
        digits += groups[j]!.digits;
        if (groups[j]!.digits.length < 3) short++;
        const shaped = grouping === 'any' || i === j || short === 0 || (wholeRunPlain && i === 0 && j === groups.length - 1);
        // A UUID's last groups can be 13+ dashed digits that pass Luhn by chance (about one id in
        // 10,000 has such a run); an id is not a card number, and redacting it breaks the log line.
        const [from, to] = [offset + groups[i]!.from, offset + groups[j]!.to];
        if (shaped && digits.length >= 13 && luhnValid(digits) && !ids.some(([a, b]) => from >= a && to <= b)) found = { to: groups[j]!.to, digits };
      }
      if (!found) continue;
      out += m.slice(at, groups[i]!.from) + replace(found.digits);
      at = found.to;
      while (i + 1 < groups.length && groups[i + 1]!.from < at) i++;
    }
    return at === 0 ? m : out + m.slice(at);
  });
  return replaced === source ? text : replaced;
}

const uuid = /(?<![0-9a-f])[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}(?![0-9a-f])/gi;
function uuidSpans(text: string): [number, number][] {
  if (!text.includes('-')) return [];
  return [...text.matchAll(uuid)].map((m) => [m.index, m.index + m[0].length]);
}

/** Whether `text` holds something that reads as a card number (`replacePans` would change it). */
export const holdsCardNumber = (text: string, grouping: 'card' | 'any' = 'card'): boolean => replacePans(text, () => '', grouping) !== text;

const redacted = () => '[PAN REDACTED]';

/** Every card number in `text`, in any grouping, replaced with `[PAN REDACTED]`: for logs, URLs and error strings. */
export const scrubPans = (text: string): string => replacePans(text, redacted, 'any');

// A `name=value` pair of a query string or form body; the name may be percent-encoded. A value
// already scrubbed of its card number holds a space (`[PAN REDACTED]`) and is taken whole. Pairs
// are split on `&`, as the request parsers split them, so a raw `;` is part of a value and goes
// with it; then on `;` too, for a client that separates pairs so (its password still goes).
const queryPair = /([?&]|^)([^=&?#;\s]+)=(\[PAN REDACTED\]|[^&#\s]*)/g;
const semicolonPair = /([?&;]|^)([^=&?#;\s]+)=(\[PAN REDACTED\]|[^&#;\s]*)/g;
// Passwords and bearer secrets (an operator token or API key sent as `?access_token=`, or the
// executions API key as `?x-api-key=` under its header's name: refused, but still logged with its
// URL; names joined by `.`, `_` or `-`), and card data sent as URL parameters by a client that
// should have posted a form: the security code (which may never be stored, logs included), the
// expiry and the holder's name; and the shopper's own details sent so (their e-mail, name, address,
// phone, IP: `customer.*`, `billing.*`, `shipping.*`), which an operator's log has no need of.
const secretName = /(^|[._-])(password|cvv|cvc|cvv2|security[_-]?code|token|api[_-]?key|client[_-]?secret|secret([_-]?key)?|authorization)$|^card\.(holder|exp(iry)?[_-]?(month|year)|number)$|^(customer\.(?!merchantCustomerId$)|billing\.|shipping\.)/i;

// The same words closing a camelCase name (`accessToken`, `xApiKey`, `clientSecret`): case tells
// where the word begins, so this one is read with case.
const camelSecretName = /[a-z0-9](Password|Token|ApiKey|Secret|SecretKey|Authorization)$/;
// A nested form name as PHP's and Stripe's encoders write it (`card[cvc]`, `card[number]`) is read
// as its dotted twin (`card.cvc`): the bracketed CVV reached the log in the clear.
const dotted = (name: string) => name.replace(/\[([^\]]*)\]/g, '.$1');
const isSecretName = (name: string) => { const n = dotted(name); return secretName.test(n) || camelSecretName.test(n); };

function decodedName(raw: string): string {
  try { return decodeURIComponent(raw.replace(/\+/g, ' ')); } catch { return raw; }
}

/**
 * Replaces the value of every password parameter in query-string-shaped text
 * (`?authentication.password=…`, however its name is percent-encoded) with `[REDACTED]`. Legacy
 * /v1 clients send their password in the URL of GET and DELETE calls, and URLs get logged. Card
 * fields in a URL (`card.cvv`, `card.expiryMonth`, `card.holder`, any `securityCode`) go the same way.
 *
 * @example scrubQuerySecrets('/v1/query?authentication.password=s3cret&x=1') === '/v1/query?authentication.password=[REDACTED]&x=1'
 */
export function scrubQuerySecrets(text: string): string {
  if (!text.includes('=')) return text;
  const redact = (m: string, sep: string, name: string) => (isSecretName(decodedName(name)) ? `${sep}${name}=[REDACTED]` : m);
  return text.replace(queryPair, redact).replace(semicolonPair, redact);
}

/**
 * A URL's userinfo (`//merchant:secret@host`, as an absolute-form request line or a webhook address
 * may carry it) is a credential: removed whole.
 */
const scrubUserinfo = (text: string) => (text.includes('@') ? text.replace(/(\/\/)[^/\s@"?#]+@/g, '$1[REDACTED]@') : text);

/** Free text with card numbers, password parameters and URL credentials removed. */
const scrubText = (text: string) => scrubUserinfo(scrubQuerySecrets(scrubPans(text)));
// Cheap pre-check for a line that might hold a password parameter (plainly or percent-encoded).
const maybeSecret = /passw|cvv|cvc|security[_-]?code|card[.[]|customer[.[]|billing[.[]|shipping[.[]|token|api[_-]?key|secret|authorization|%[0-9a-f]{2}|\/\/[^/\s@"]+@/i;

/**
 * The scrubber for one serialized JSON log line: strings are scrubbed as free text (card numbers
 * and password parameters), and a bare
 * number that looks like a PAN becomes the string "[PAN REDACTED]", so the line stays valid JSON
 * (replacing the digits of a number in place would leave `"x":[PAN REDACTED]`). A line that is not
 * JSON is scrubbed as text. Lines without a candidate are returned as they are, unparsed.
 */
export function scrubJsonLine(line: string): string {
  // A JSON escape (`\t`, `\n`, `\u0001`) splits or glues digits in the serialized line: such a line
  // is read as the strings it holds.
  if (!line.includes('\\') && scrubPans(line) === line && !maybeSecret.test(line)) return line;
  let parsed: unknown;
  try { parsed = JSON.parse(line); } catch { return scrubText(line); }
  const clean = (v: unknown): unknown => {
    if (typeof v === 'string') return scrubText(v);
    if (typeof v === 'number') return Number.isFinite(v) && scrubPans(String(v)) !== String(v) ? '[PAN REDACTED]' : v;
    if (Array.isArray(v)) return v.map(clean);
    if (v !== null && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [scrubPans(k), clean(x)]));
    return v;
  };
  return JSON.stringify(clean(parsed)) + (line.endsWith('\n') ? '\n' : '');
}
