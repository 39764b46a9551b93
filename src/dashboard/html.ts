/**
 * HTML built from templates whose every interpolated value is escaped unless it is itself HTML
 * made here: a page cannot print a merchant's or shopper's text as markup by mistake.
 *
 * @example html`<td>${payment.reference}</td>` // "<b>" in the reference prints as text
 */
export class Html {
  readonly text: string;
  constructor(text: string) { this.text = text; }
  toString(): string { return this.text; }
}

const escapes: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
export const escapeText = (s: string): string => s.replace(/[&<>"']/g, (c) => escapes[c]!);

type Value = Html | string | number | boolean | undefined | null | readonly Value[];

const render = (v: Value): string =>
  v instanceof Html ? v.text
    : Array.isArray(v) ? v.map(render).join('')
    : v === undefined || v === null || v === false ? ''
    : escapeText(String(v));

export function html(strings: TemplateStringsArray, ...values: Value[]): Html {
  let out = strings[0]!;
  values.forEach((v, i) => { out += render(v) + strings[i + 1]!; });
  return new Html(out);
}
