/**
 * A merchant-page form the dashboard refuses says so at the box at fault, not only in the alert at
 * the page's top: the box is marked aria-invalid and described by the sentence (WCAG 3.3.1), and
 * every box of the form gives back what was typed to correct it (masked of card numbers), where the
 * page came back emptied and a keyboard or screen-reader user had to find the form and retype it.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { startGateway, type Gateway } from './support/harness.ts';
import { postForm, signIn, type DashboardSession } from './support/dashboard.ts';
import { newCanary } from './support/canary.ts';

const password = 'a long test password';
let gw: Gateway;
let s: DashboardSession;
before(async () => {
  gw = await startGateway();
  assert.ok((await gw.app.dashboard.addUser({ email: 'admin@example.com', role: 'admin', merchantId: undefined, password })).ok);
  s = await signIn(gw.url, 'admin@example.com', password);
});
after(async () => { await gw?.close(); });

/** The input with this id in the page: its value, whether it is marked invalid, and the text that describes it. */
function box(page: string, id: string) {
  const tag = new RegExp(`<input id="${id}"[^>]*>`).exec(page)?.[0] ?? '';
  const value = /value="([^"]*)"/.exec(tag)?.[1]?.replaceAll('&quot;', '"').replaceAll('&amp;', '&') ?? '';
  const describedBy = /aria-describedby="([^"]*)"/.exec(tag)?.[1];
  const described = describedBy ? new RegExp(`<p id="${describedBy}"[^>]*>([^<]*)</p>`).exec(page)?.[1] ?? '' : '';
  return { found: tag !== '', value, invalid: /aria-invalid="true"/.test(tag), described };
}

const cases: { form: string; path: string; fields: Record<string, string>; box: string; error: RegExp; kept?: Record<string, string> }[] = [
  { form: 'webhook endpoint', path: 'webhooks', fields: { url: 'ftp://shop.example/hooks', dialect: 'opp', types: '' }, box: 'h-url', error: /https/ },
  { form: 'browser origin', path: 'origins', fields: { origin: 'ftp://shop.example' }, box: 'o-origin', error: /An origin looks like/ },
  { form: 'PSP account settings', path: 'psp-accounts', fields: { name: 'acquirer-b', connector: 'simulator', settings: '{"apiKey": "k",}' }, box: 'a-settings', error: /Settings must be JSON/, kept: { 'a-name': 'acquirer-b' } },
  { form: 'PSP account name', path: 'psp-accounts', fields: { name: 'no spaces allowed', connector: 'simulator', settings: '{}' }, box: 'a-name', error: /account name/ },
  { form: 'cascade', path: 'workflow', fields: { accounts: 'nobody-here' }, box: 'w-accounts', error: /nobody-here/ },
];
for (const c of cases) {
  test(`a refused ${c.form} is marked and described at its box, which keeps what was typed`, async () => {
    const r = await postForm(gw.url, s, `/dashboard/merchants/${gw.merchant.merchantId}/${c.path}`, { _csrf: s.csrf, formKey: randomUUID(), ...c.fields });
    const page = await r.text();
    assert.equal(r.status, 400, page.slice(0, 300));
    const b = box(page, c.box);
    assert.ok(b.found, `#${c.box} on the page`);
    assert.equal(b.invalid, true, `#${c.box} is marked aria-invalid (the alert at the page's top names no box)`);
    assert.match(b.described, c.error, `#${c.box} is described by the refusal`);
    const typedHere = Object.entries(c.fields).find(([field]) => ({ 'h-url': 'url', 'o-origin': 'origin', 'a-settings': 'settings', 'a-name': 'name', 'w-accounts': 'accounts' })[c.box] === field)![1];
    assert.equal(b.value, typedHere, 'the box gives back what was typed');
    for (const [id, value] of Object.entries(c.kept ?? {})) assert.equal(box(page, id).value, value, `#${id} keeps what was typed`);
  });
}

test('a card number typed into a refused box is given back masked, never whole', async () => {
  const { pan } = newCanary();
  const r = await postForm(gw.url, s, `/dashboard/merchants/${gw.merchant.merchantId}/psp-accounts`, { _csrf: s.csrf, name: 'acquirer-c', connector: 'simulator', settings: `{"note": "${pan}",` });
  const page = await r.text();
  assert.equal(r.status, 400);
  assert.ok(!page.includes(pan), 'the card number is printed back');
  assert.equal(box(page, 'a-settings').invalid, true);
});

test('a URL refused for the card number it holds is not given back with that number, whatever its grouping', async () => {
  const grouped = '41.11.11.11.11.11.11.11'; // 4111111111111111, Luhn-valid
  const r = await postForm(gw.url, s, `/dashboard/merchants/${gw.merchant.merchantId}/webhooks`,
    { _csrf: s.csrf, formKey: randomUUID(), dialect: 'executions', types: '', url: `https://shop.example/hooks?ref=${grouped}` });
  const page = await r.text();
  assert.equal(r.status, 400);
  assert.match(page, /looks like a card number/, 'refused for the card number it holds');
  assert.ok(!page.includes(grouped), 'the refused card number is printed back in the URL box');
  assert.equal(box(page, 'h-url').invalid, true);
});

test('a refused form gives back its choices too: the endpoint\'s API, the cascade\'s decline kinds', async () => {
  const r = await postForm(gw.url, s, `/dashboard/merchants/${gw.merchant.merchantId}/webhooks`,
    { _csrf: s.csrf, formKey: randomUUID(), dialect: 'executions', types: 'executionCreated', url: 'ftp://shop.example/hooks' });
  const page = await r.text();
  assert.equal(r.status, 400);
  assert.equal(box(page, 'h-types').value, 'executionCreated');
  const select = /<select id="h-dialect"[^>]*>([\s\S]*?)<\/select>/.exec(page)?.[1] ?? '';
  assert.match(select, /<option value="executions"[^>]*selected/, 'the API chosen is given back with the types typed for it');
  const cascade = await postForm(gw.url, s, `/dashboard/merchants/${gw.merchant.merchantId}/workflow`,
    new URLSearchParams([['_csrf', s.csrf], ['accounts', 'nobody-here'], ['moveOn', 'soft'], ['moveOn', 'error']]) as unknown as Record<string, string>);
  const cascadePage = await cascade.text();
  assert.equal(cascade.status, 400);
  const checked = [...cascadePage.matchAll(/name="moveOn" value="([a-z_]+)" checked/g)].map((m) => m[1]);
  assert.deepEqual(checked.sort(), ['error', 'soft']);
});
