/**
 * A merchant's statement text fitted to a PSP's rules: accents taken off their letters (schemes
 * print Latin letters only: "Café" → "Cafe"), every other character the PSP refuses dropped, runs
 * of spaces made one, and the result cut to what a statement line shows. Undefined when nothing
 * printable is left, or (`needsLetter`) no letter: such a text is refused or worthless, and a
 * payment is never failed over its statement text, which the PSP then takes from the account.
 */
export function statementTextFor(text: string, rules: { readonly allowed: RegExp; readonly max: number; readonly needsLetter?: boolean }): string | undefined {
  const kept = [...text.normalize('NFD').replace(/\p{M}/gu, '')].filter((c) => rules.allowed.test(c)).join('')
    .replace(/\s+/g, ' ').trim().slice(0, rules.max).trim();
  if (kept === '' || (rules.needsLetter && !/[A-Za-z]/.test(kept))) return undefined;
  return kept;
}
