/**
 * The layering of docs/architecture.md, checked on the source: every concern imports only the
 * layers below it (type imports included), and no module imports itself through others.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

const src = join(import.meta.dirname, '..', 'src');

/** Lowest first: a concern may import any concern of a lower layer, none of its own layer or above. */
export const layers: readonly (readonly string[])[] = [
  ['runtime', 'money'],
  ['storage'],
  ['merchants', 'jobs', 'idempotency', 'throttle'],
  ['webhooks'],
  // Typed settings of the concerns below; everything above reads them.
  ['config'],
  ['vault'],
  ['processors', 'threeds'],
  ['workflows'],
  ['payments'],
  // The books: told of every payment change by the engine, read by the admin API and the CLI.
  ['ledger'],
  // COPYandPAY checkouts: paid by engine payments, framed by the hosted fields, served by /v1.
  ['checkouts'],
  ['executions'],
  // The operators' search over payments: reads what every concern below writes of a payment.
  ['search'],
  ['admin', 'hosted', 'dashboard'],
  ['dialects/opp', 'dialects/executions'],
  ['http'],
  // The composition root, and the two programs built on it.
  ['app'],
  ['cli', 'main'],
];

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? sources(p) : p.endsWith('.ts') && !p.endsWith('.test.ts') ? [p] : [];
  });
}

const concernOf = (file: string): string => {
  const parts = relative(src, file).replace(/\.ts$/, '').split('/');
  return parts[0] === 'dialects' ? `dialects/${parts[1]}` : parts[0]!;
};

const layerOf = (concern: string): number => {
  const i = layers.findIndex((l) => l.includes(concern));
  if (i < 0) throw new Error(`concern ${concern} has no layer in docs/architecture.md's table`);
  return i;
};

function importsOf(file: string): { target: string; typeOnly: boolean }[] {
  const text = readFileSync(file, 'utf8');
  return [...text.matchAll(/^(import|export)\s+(type\s+)?[^'";]*?from\s+'(\.[^']+)'/gm)]
    .map((m) => ({ target: resolve(dirname(file), m[3]!), typeOnly: m[2] !== undefined }));
}

const files = sources(src);

test('every concern imports only the layers below it', () => {
  const wrong: string[] = [];
  for (const file of files) {
    const from = concernOf(file);
    for (const { target } of importsOf(file)) {
      const to = concernOf(target);
      if (to === from) continue;
      if (layerOf(to) >= layerOf(from)) wrong.push(`${relative(src, file)} → ${relative(src, target)}`);
    }
  }
  assert.deepEqual(wrong, []);
});

test('no import cycle between modules, type imports included', () => {
  const graph = new Map(files.map((f) => [f, importsOf(f).map((i) => i.target).filter((t) => files.includes(t))]));
  const state = new Map<string, 'open' | 'done'>();
  const cycles: string[] = [];
  const visit = (f: string, path: string[]) => {
    if (state.get(f) === 'done') return;
    if (state.get(f) === 'open') { cycles.push([...path.slice(path.indexOf(f)), f].map((p) => relative(src, p)).join(' → ')); return; }
    state.set(f, 'open');
    for (const t of graph.get(f) ?? []) visit(t, [...path, f]);
    state.set(f, 'done');
  };
  for (const f of files) visit(f, []);
  assert.deepEqual(cycles, []);
});

test('only storage/ begins a database transaction', () => {
  const offenders = files.filter((f) => !f.startsWith(join(src, 'storage')) && /\.transaction\(\)\s*\.execute/.test(readFileSync(f, 'utf8')));
  assert.deepEqual(offenders.map((f) => relative(src, f)), []);
});

test('no code changes or removes an entity row once written (the merchant store keeps the entities it has read)', () => {
  // Kysely's builders and raw SQL alike, migrations included: a statement that changed an entity
  // would leave every node's kept copy stale.
  const changes = /(updateTable|deleteFrom)\(\s*['"]entities['"]|\b(update|delete\s+from)\s+"?entities"?\s/i;
  const offenders = files.filter((f) => changes.test(readFileSync(f, 'utf8')));
  assert.deepEqual(offenders.map((f) => relative(src, f)), []);
  assert.ok(changes.test(`db.updateTable('entities')`) && changes.test('DELETE FROM entities WHERE') && changes.test('update "entities" set'), 'the pattern finds such statements');
});

test('each table is written by one concern and read only by it and the concerns above it', () => {
  // A lower concern that read a higher one's table would know of it as surely as by an import (the
  // vault asking whether a payment charged a card); the higher concern answers through a function
  // it is handed instead. Its owner is the concern that inserts into it; storage/ (migrations) aside.
  const texts = files.filter((f) => concernOf(f) !== 'storage').map((f) => ({ file: f, concern: concernOf(f), text: readFileSync(f, 'utf8') }));
  const owners = new Map<string, Set<string>>();
  for (const { concern, text } of texts) {
    for (const m of text.matchAll(/insertInto\(\s*'([a-z_]+)'/g)) owners.set(m[1]!, (owners.get(m[1]!) ?? new Set()).add(concern));
  }
  assert.ok(owners.size >= 30 && owners.get('payments')?.has('payments') && owners.get('instruments')?.has('vault'), 'the owners are found');
  const wrong: string[] = [...owners].filter(([, by]) => by.size > 1).map(([table, by]) => `${table} inserted by ${[...by].join(', ')}`);
  const writes = /(?:updateTable|deleteFrom|insertInto)\(\s*'([a-z_]+)'|\b(?:update|insert\s+into|delete\s+from)\s+"?([a-z_]+)"?/gi;
  const reads = /(?:selectFrom|innerJoin|leftJoin)\(\s*'([a-z_]+)|\b(?:from|join)\s+"?([a-z_]+)"?/gi;
  for (const { file, concern, text } of texts) {
    for (const m of text.matchAll(writes)) {
      const table = m[1] ?? m[2]!;
      const owner = owners.get(table);
      if (owner && !owner.has(concern)) wrong.push(`${relative(src, file)} writes ${table} (${[...owner].join()}'s)`);
    }
    for (const m of text.matchAll(reads)) {
      const table = m[1] ?? m[2]!;
      const owner = [...owners.get(table) ?? []][0];
      if (owner && layerOf(owner) > layerOf(concern)) wrong.push(`${relative(src, file)} reads ${table} (${owner}'s, a layer above)`);
    }
  }
  assert.deepEqual(wrong, []);
});
