/**
 * The dashboard's focus ring is seen against the white page and the dark header alike: WCAG 2.1's
 * non-text contrast (1.4.11) asks 3:1 against both. Amber (#f0a800) was 2.0:1 on white, so a
 * keyboard user could not see where they were on the page's forms.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const css = readFileSync(join(import.meta.dirname, 'assets', 'dashboard.css'), 'utf8');

function luminance(color: string): number {
  const hex = color.length === 4 ? `#${[...color.slice(1)].map((c) => c + c).join('')}` : color;
  const [r, g, b] = [1, 3, 5].map((i) => Number.parseInt(hex.slice(i, i + 2), 16) / 255).map((v) => (v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4));
  return 0.2126 * r! + 0.7152 * g! + 0.0722 * b!;
}
const contrast = (a: string, b: string) => {
  const [hi, lo] = [luminance(a), luminance(b)].sort((x, y) => y - x);
  return (hi! + 0.05) / (lo! + 0.05);
};

test('the focus ring has 3:1 against the page and against the header', () => {
  const ring = /:focus-visible[^{]*\{[^}]*outline:\s*\d+px solid (#[0-9a-f]{6})/i.exec(css)?.[1];
  const header = /header\.top \{[^}]*background:\s*(#[0-9a-f]{6})/i.exec(css)?.[1];
  const page = /--bg:\s*(#[0-9a-f]{6}|#[0-9a-f]{3})\b/i.exec(css)?.[1];
  assert.ok(ring && header && page, 'the ring, header and page colours are read from the stylesheet');
  assert.ok(contrast(ring, page) >= 3, `ring ${ring} on the page ${page}: ${contrast(ring, page).toFixed(2)}:1`);
  assert.ok(contrast(ring, header) >= 3, `ring ${ring} on the header ${header}: ${contrast(ring, header).toFixed(2)}:1`);
});
