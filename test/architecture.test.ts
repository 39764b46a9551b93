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
  ['executions', 'admin', 'hosted', 'dashboard'],
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
