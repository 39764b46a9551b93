/**
 * Housekeeping a new user or contributor meets first: the licence file package.json names, docs
 * that cite only what is in this repository, per-command CLI help, and the executions list showing
 * each execution as GET does (its attempts included).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, normalize } from 'node:path';
import { spawnSync } from 'node:child_process';
import { startGateway, type Gateway } from './support/harness.ts';
import { authorizeBody, call, configureCascade, execution, instrument, poll, tokenOf, wf } from './support/executions.ts';

const root = join(import.meta.dirname, '..');
const read = (p: string) => readFileSync(join(root, p), 'utf8');

test('LICENSE is the Apache License 2.0 text that package.json names', () => {
  assert.equal(JSON.parse(read('package.json')).license, 'Apache-2.0');
  const text = read('LICENSE');
  assert.match(text, /Apache License\s+Version 2\.0, January 2004/);
  assert.match(text, /TERMS AND CONDITIONS FOR USE, REPRODUCTION, AND DISTRIBUTION/);
  assert.match(text, /END OF TERMS AND CONDITIONS/);
});

test('README and docs cite only what is in this repository', () => {
  const docs = ['README.md', ...readdirSync(join(root, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)];
  for (const file of docs) {
    const text = read(file);
    // Section numbers, numbered decisions and file names of documents kept elsewhere.
    assert.doesNotMatch(text, /§|\.\.\/shared|\b[Dd]ecision \d|\b[Oo]pen question \d|\b(opp|executions)(-reference)?\.md\b|\breliability\.md\b/, file);
    for (const m of text.matchAll(/\]\(([^)#\s]+)(#[^)]*)?\)/g)) {
      if (/^(https?|mailto):/.test(m[1]!)) continue;
      assert.ok(existsSync(normalize(join(root, dirname(file), m[1]!))), `${file} links to ${m[1]}, which is not in the repository`);
    }
    for (const m of text.matchAll(/`((?:src|test|examples|scripts|docs|bench)\/[A-Za-z0-9_./-]+)`/g)) {
      assert.ok(existsSync(join(root, m[1]!)), `${file} names ${m[1]}, which is not in the repository`);
    }
  }
});

const cli = (...args: string[]) => spawnSync(process.execPath, ['src/cli/main.ts', ...args], { cwd: root, encoding: 'utf8' });

test('the CLI has per-command help: `help X [Y]` and `X [Y] --help`', () => {
  const overview = cli('help');
  assert.equal(overview.status, 0);
  assert.match(overview.stdout, /switchyard merchants create/);
  assert.match(overview.stdout, /switchyard help <command>/);
  for (const args of [['help', 'webhooks', 'forward'], ['webhooks', 'forward', '--help']]) {
    const r = cli(...args);
    assert.equal(r.status, 0, args.join(' '));
    assert.match(r.stdout, /^usage:\n {2}switchyard webhooks forward --merchant MERCHANT_ID --forward-to URL/);
    assert.match(r.stdout, /Ctrl-C disables the endpoint/);
    assert.doesNotMatch(r.stdout, /webhooks add|merchants create/, 'only that command');
  }
  const group = cli('ledger', '--help');
  assert.equal(group.status, 0);
  assert.match(group.stdout, /ledger verify/);
  assert.match(group.stdout, /ledger balances/);
  assert.doesNotMatch(group.stdout, /webhooks/);
  const unknown = cli('help', 'teleport');
  assert.equal(unknown.status, 2);
  assert.match(unknown.stderr, /no command "teleport"/);
});

let gw: Gateway;
before(async () => { gw = await startGateway(); });
after(() => gw?.close());

test('the executions list shows each execution\'s attempts and totals as GET does', async () => {
  // A soft decline at psp-a, then approval at psp-b: two attempts.
  await configureCascade(gw, { 'psp-a': { declines: [{ cardSuffixes: ['1111'], category: 'soft' }] }, 'psp-b': {} }, ['psp-a', 'psp-b']);
  const token = await tokenOf(gw);
  const inst = await instrument(gw, token, '4111111111111111', 'list-holder');
  const id = await execution(gw, token, 'list-holder', 'list-attempts-1');
  assert.equal((await call(gw, 'POST', `${wf}/${id}/authorize`, { token, body: authorizeBody(inst) })).status, 200);
  const one = await poll(gw, token, id, ['created', 'authorizeRequested']);
  assert.equal(one.status, 'authorized');
  assert.deepEqual(one.paymentComposition[0].attempts.map((a: { pspAccount: string }) => a.pspAccount), ['psp-a', 'psp-b']);
  const list = await call(gw, 'GET', `${wf}?filter[merchantReference]=list-attempts-1`, { token });
  assert.equal(list.status, 200);
  assert.equal(list.body.results.length, 1);
  assert.deepEqual(list.body.results[0], one, 'the list item is the execution as GET shows it');
});
