/**
 * Payment list and search on a store of a million payments: seeds the SQLite store directly (no
 * engine: this measures reading), then times the dashboard's queries (the same module the
 * dashboard, the admin API and the CLI use). Target: every query under 200 ms.
 *
 *   node bench/dashboard-search.ts [--payments 1000000] [--runs 20] [--keep DIR]
 *   With --keep, the seeded folder is kept and reused by the next run with the same --keep.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { randomBytes } from 'node:crypto';
import { DatabaseSync } from 'node:sqlite';
import { openStorage } from '../src/storage/database.ts';
import { createPaymentSearch } from '../src/search/kysely-store.ts';
import { parseFilter, type PaymentFilter } from '../src/search/model.ts';

const { values } = parseArgs({ options: { payments: { type: 'string' }, runs: { type: 'string' }, keep: { type: 'string' } } });
const total = Number(values.payments ?? 1_000_000);
const runs = Number(values.runs ?? 20);
const dataDir = values.keep ?? mkdtempSync(join(tmpdir(), 'switchyard-bench-search-'));
const file = join(dataDir, 'switchyard.sqlite');
const seeded = values.keep !== undefined && existsSync(file);
const targetMs = 200;

const hex = (n = 16) => randomBytes(n).toString('hex');
const merchants = Array.from({ length: 5 }, (_, i) => ({ id: hex(), name: `Merchant ${i + 1}`, accounts: [hex(), hex(), hex()], entity: hex() }));
const start = Date.parse('2026-01-01T00:00:00Z');
const span = 90 * 86_400_000;
const statuses = [['captured', 60], ['authorized', 15], ['declined', 10], ['refunded', 10], ['reversed', 4.9], ['unknown', 0.1]] as const;
const pick = <T>(weighted: readonly (readonly [T, number])[]): T => {
  let r = Math.random() * 100;
  for (const [v, w] of weighted) { r -= w; if (r <= 0) return v; }
  return weighted[0]![0];
};

/** Keys of a few seeded payments, to search for afterwards. */
const probes: { id: string; reference: string; psp: string; last4: string }[] = [];

function seed() {
  const db = new DatabaseSync(file);
  db.exec('pragma journal_mode = wal; pragma synchronous = off; pragma cache_size = -262144; pragma temp_store = memory;');
  // Rows first, indexes after: building an index over sorted keys once is far faster than a
  // million random inserts into each (the store's own indexes, exactly as migrated).
  const indexes = db.prepare(`select name, sql from sqlite_master where type = 'index' and sql is not null and tbl_name in ('payments', 'transactions', 'cards')`).all() as { name: string; sql: string }[];
  for (const i of indexes) db.exec(`drop index "${i.name}"`);
  const now = Date.now();
  const m = db.prepare('insert into merchants (id, name, live, client_id, workspace_id, created_at) values (?, ?, 0, ?, ?, ?)');
  const a = db.prepare('insert into psp_accounts (id, merchant_id, name, connector, settings, created_at, updated_at) values (?, ?, ?, ?, ?, ?, ?)');
  const e = db.prepare('insert into entities (id, merchant_id, channel_name, unique_merchant_tx, created_at) values (?, ?, ?, 0, ?)');
  for (const x of merchants) {
    m.run(x.id, x.name, hex(), hex(), now);
    e.run(x.entity, x.id, x.name, now);
    x.accounts.forEach((id, i) => a.run(id, x.id, `acct-${i + 1}`, 'simulator', '{}', now, now));
  }
  const cardCount = Math.max(1, Math.floor(total / 5));
  const card = db.prepare(`insert into cards (id, merchant_id, fingerprint, fingerprint_scope, key_version, wrapped_key, pan_ciphertext, brand, bin, last4, holder, expiry_month, expiry_year, created_at)
    values (?, ?, ?, 1, 1, 'x', 'x', 'VISA', '420000', ?, null, '05', '2034', ?)`);
  const pay = db.prepare(`insert into payments (id, merchant_id, entity_id, channel, psp_account_id, workflow_code, initial_type, status, currency, amount, card_id, method, mode, version, created_at, updated_at)
    values (?, ?, ?, 'opp', ?, null, 'authorize', ?, ?, ?, ?, 'card', 'test', 1, ?, ?)`);
  const tx = db.prepare(`insert into transactions (id, payment_id, seq, merchant_id, entity_id, type, status, amount, currency, result_code, psp_reference, referenced_id, merchant_transaction_id, short_id, echo, details, created_at, updated_at)
    values (?, ?, 0, ?, ?, 'authorize', ?, ?, ?, '000.100.110', ?, null, ?, '1234.5678.9012', '{}', '{}', ?, ?)`);
  const cards: { id: string; merchant: number; last4: string }[] = [];
  const batch = 50_000;
  let t0 = performance.now();
  db.exec('begin');
  for (let i = 0; i < cardCount; i++) {
    const c = { id: hex(), merchant: i % merchants.length, last4: String(Math.floor(Math.random() * 10_000)).padStart(4, '0') };
    cards.push(c);
    card.run(c.id, merchants[c.merchant]!.id, hex(32), c.last4, start);
  }
  db.exec('commit');
  for (let i = 0; i < total; i += batch) {
    db.exec('begin');
    for (let j = i; j < Math.min(total, i + batch); j++) {
      const c = cards[j % cards.length]!;
      const mm = merchants[c.merchant]!;
      const id = hex();
      const created = start + Math.floor((j / total) * span);
      const currency = pick([['EUR', 70], ['USD', 20], ['GBP', 10]] as const);
      const amount = 100 + Math.floor(Math.random() * 50_000);
      const status = pick(statuses);
      const psp = hex(8).toUpperCase();
      const reference = `order-${j}`;
      pay.run(id, mm.id, mm.entity, status === 'declined' ? null : mm.accounts[j % 3]!, status, currency, amount, c.id, created, created);
      tx.run(id, id, mm.id, mm.entity, status === 'declined' ? 'failed' : 'succeeded', amount, currency, psp, reference, created, created);
      if (j % Math.floor(total / 10) === 7) probes.push({ id, reference, psp, last4: c.last4 });
    }
    db.exec('commit');
    process.stderr.write(`\rseeded ${Math.min(total, i + batch)} payments`);
  }
  process.stderr.write('\nbuilding indexes\n');
  for (const i of indexes) db.exec(i.sql);
  // No ANALYZE: the planner works without statistics, as on a store nobody analyzed.
  db.close();
  process.stderr.write(`\rseeded ${total} payments in ${((performance.now() - t0) / 1000).toFixed(1)} s\n`);
  t0 = performance.now();
}

function percentile(xs: number[], p: number) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
}

// Migrations first (the schema and its indexes), then the rows.
const storage0 = await openStorage({ kind: 'sqlite', dataDir });
await storage0.close();
if (!seeded) seed();
const storage = await openStorage({ kind: 'sqlite', dataDir });
const search = createPaymentSearch(storage.db);
if (probes.length === 0) {
  // A reused store: read a few probes back from it.
  const rows = await storage.db.selectFrom('payments as p').innerJoin('transactions as t', 't.payment_id', 'p.id').innerJoin('cards as c', 'c.id', 'p.card_id')
    .select(['p.id', 't.merchant_transaction_id', 't.psp_reference', 'c.last4']).where('t.seq', '=', 0).limit(10).execute();
  for (const r of rows) probes.push({ id: r.id, reference: r.merchant_transaction_id!, psp: r.psp_reference!, last4: r.last4 });
}
const count = await storage.db.selectFrom('payments').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
const m0 = (await storage.db.selectFrom('merchants').select('id').orderBy('id').executeTakeFirstOrThrow()).id;
const acct = (await storage.db.selectFrom('psp_accounts').select('id').where('merchant_id', '=', m0).executeTakeFirstOrThrow()).id;
const q = (query: Record<string, string>): PaymentFilter => {
  const r = parseFilter(query);
  if (!r.ok) throw new Error(JSON.stringify(r.error));
  return r.value;
};

const cases: [string, () => PaymentFilter][] = [
  ['newest page (50)', () => q({})],
  ['one merchant', () => q({ merchant: m0 })],
  ['status declined', () => q({ status: 'declined' })],
  ['status unknown (rare)', () => q({ status: 'unknown' })],
  ['merchant + USD + 7 days', () => q({ merchant: m0, currency: 'USD', from: '2026-02-01', to: '2026-02-07' })],
  ['PSP account', () => q({ account: acct })],
  ['amount 100.00–100.50 EUR', () => q({ currency: 'EUR', min: '100.00', max: '100.50' })],
  ['search: payment id', () => q({ q: probes[0]!.id })],
  ['search: order reference', () => q({ q: probes[1]!.reference })],
  ['search: PSP reference', () => q({ q: probes[2]!.psp })],
  ['search: last 4', () => q({ q: probes[3]!.last4 })],
  ['search: last 4 + merchant', () => q({ q: probes[3]!.last4, merchant: m0 })],
  ['search: no match', () => q({ q: 'no-such-reference' })],
];

console.log(`payments in store: ${count.n}; ${runs} runs per query; target < ${targetMs} ms\n`);
console.log('query'.padEnd(30), 'p50 ms'.padStart(8), 'p95 ms'.padStart(8), 'max ms'.padStart(8), 'rows'.padStart(6));
let worst = 0;
const measure = async (name: string, make: () => PaymentFilter | Promise<PaymentFilter>) => {
  const times: number[] = [];
  let rows = 0;
  for (let i = 0; i < runs; i++) {
    const f = await make();
    const t = performance.now();
    rows = (await search.list(f)).payments.length;
    times.push(performance.now() - t);
  }
  const p95 = percentile(times, 95);
  worst = Math.max(worst, p95);
  console.log(name.padEnd(30), percentile(times, 50).toFixed(1).padStart(8), p95.toFixed(1).padStart(8), Math.max(...times).toFixed(1).padStart(8), String(rows).padStart(6));
};
for (const [name, make] of cases) await measure(name, make);
// Deep pagination: the 200th page by cursor costs what the first does.
let cursor: string | undefined;
for (let i = 0; i < 200; i++) cursor = (await search.list({ ...q({}), ...(cursor ? q({ cursor }) : {}) })).next;
await measure('page 201 by cursor', () => q({ cursor: cursor! }));
let mcursor: string | undefined;
for (let i = 0; i < 50; i++) mcursor = (await search.list(q({ merchant: m0, ...(mcursor ? { cursor: mcursor } : {}) }))).next;
await measure('merchant page 51 by cursor', () => q({ merchant: m0, cursor: mcursor! }));

console.log(`\nworst p95: ${worst.toFixed(1)} ms (${worst < targetMs ? 'within' : 'OVER'} the ${targetMs} ms target)`);
await storage.close();
if (values.keep === undefined) rmSync(dataDir, { recursive: true, force: true });
