import { scrubPans } from '../../runtime/scrub.ts';
import { clipText, undecodableFormParameter, utf8Text } from '../../runtime/utf8.ts';
/**
 * Form parameters as the /v1 dialect sends them: flat names with dots and brackets
 * (`card.number`, `customParameters[SHOPPER_id]`, `cart.items[0].name`). Kept flat in a
 * prototype-less map, so hostile names such as `__proto__` are plain keys and nothing else.
 */
export type FormParams = Readonly<Record<string, string>>;

export const formLimits = { maxParameters: 512, maxNameLength: 128, maxValueLength: 4096 } as const;

/** A form that cannot be read; `parameter` names the one at fault, where one is (masked of card numbers). */
export class FormError extends Error {
  readonly parameter: string | undefined;
  constructor(message: string, parameter?: string) {
    super(message);
    this.parameter = parameter;
  }
}

export function parseForm(body: string): FormParams {
  const out: Record<string, string> = Object.create(null);
  let count = 0;
  const pairs = [...new URLSearchParams(body)];
  // Percent-escapes of bytes that are not UTF-8 would be kept as U+FFFD (undecodableFormParameter).
  const undecodable = undecodableFormParameter(body, pairs);
  for (const [name, value] of pairs) {
    if (++count > formLimits.maxParameters) throw new FormError(`more than ${formLimits.maxParameters} parameters`);
    if (name.length > formLimits.maxNameLength) throw new FormError('parameter name too long');
    // Read before any authentication: the name is told only with card numbers in it masked.
    if (value.length > formLimits.maxValueLength) throw new FormError(`parameter ${scrubPans(clipText(name, 64))} too long`, scrubPans(clipText(name, 64)));
    // Empty values count as absent (decision 2: `amount=` is no amount).
    if (value === '') continue;
    // `amount=10.00&amount=1000.00` leaves no way to know which was meant: refused, not guessed. The
    // same value twice (a client library that repeats a field) is what was meant.
    if (name in out && out[name] !== value) throw new FormError(`parameter ${scrubPans(clipText(name, 64))} is given twice with different values`, scrubPans(clipText(name, 64)));
    out[name] = value;
  }
  if (undecodable !== undefined) {
    throw new FormError(`parameter ${scrubPans(clipText(undecodable, 64))} is not UTF-8: percent-encode the UTF-8 bytes of its text`, scrubPans(clipText(undecodable, 64)));
  }
  return out;
}

/** A body's text, refused when its bytes are not UTF-8 (decoding would replace them, altering what was sent). */
export function utf8Body(body: Buffer): string {
  const text = utf8Text(body);
  if (text === undefined) throw new FormError('the body is not UTF-8');
  return text;
}

const segment = /^[A-Za-z0-9_]{1,64}$/;
// Names that would reach an object's prototype chain when used as keys.
const forbidden = new Set(['__proto__', 'constructor', 'prototype']);

/**
 * Nests the parameters under `prefix` ("customer", "billing", "cart") into plain objects for
 * echoing: `customer.browser.language` → {browser: {language}}, `cart.items[1].name` → {items: [, {name}]}.
 * Names with unexpected segments are dropped; array indexes above `maxIndex` are refused by the validator.
 */
export function nest(params: FormParams, prefix: string, maxIndex = 99): Record<string, unknown> | undefined {
  let root: Record<string, unknown> | undefined;
  for (const name of Object.keys(params)) {
    if (!name.startsWith(prefix + '.')) continue;
    const path: (string | number)[] = [];
    let okName = true;
    for (const part of name.slice(prefix.length + 1).split('.')) {
      const m = /^([A-Za-z0-9_]{1,64})(?:\[([0-9]{1,3})\])?$/.exec(part);
      if (!m || !segment.test(m[1]!) || forbidden.has(m[1]!)) { okName = false; break; }
      path.push(m[1]!);
      if (m[2] !== undefined) {
        const i = Number(m[2]);
        if (i > maxIndex) { okName = false; break; }
        path.push(i);
      }
    }
    if (!okName) continue;
    root ??= {};
    let node: Record<string, unknown> | unknown[] = root;
    for (let i = 0; i < path.length - 1; i++) {
      const key = path[i]!;
      const nextIsIndex = typeof path[i + 1] === 'number';
      const existing = (node as Record<string | number, unknown>)[key];
      const child = existing && typeof existing === 'object' ? existing : (nextIsIndex ? [] : {});
      (node as Record<string | number, unknown>)[key] = child;
      node = child as Record<string, unknown> | unknown[];
    }
    (node as Record<string | number, unknown>)[path[path.length - 1]!] = params[name];
  }
  if (root && 'items' in root && Array.isArray(root.items)) root.items = root.items.filter((x) => x !== undefined);
  return root;
}

/** `customParameters[NAME]=value` pairs. */
export function customParameters(params: FormParams): Record<string, string> | undefined {
  let out: Record<string, string> | undefined;
  for (const name of Object.keys(params)) {
    const m = /^customParameters\[([^\]]*)\]$/.exec(name);
    if (!m) continue;
    out ??= Object.create(null) as Record<string, string>;
    out[m[1]!] = params[name]!;
  }
  return out ? { ...out } : undefined;
}
