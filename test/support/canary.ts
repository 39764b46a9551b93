import assert from 'node:assert/strict';
import { randomInt } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { sql, type Kysely } from 'kysely';
import { luhnValid } from '../../src/runtime/scrub.ts';

/** A card no test data contains (a fresh Luhn-valid VISA number and CVV), so any hit in a scan is a leak. */
export interface Canary {
  readonly pan: string;
  readonly cvv: string;
}

export function newCanary(): Canary {
  for (;;) {
    // A plain Visa number: the 4-series also holds Visa Electron's and Elo's ranges, which the
    // flows would show under those brands (the widget's saved card reads "VISA •••• 1234").
    const body = '42' + Array.from({ length: 13 }, () => randomInt(10)).join('');
    for (let d = 0; d < 10; d++) if (luhnValid(body + d)) return { pan: body + d, cvv: String(randomInt(700, 800)) };
  }
}

/** Fails when `text` holds the canary's PAN (plain or spaced in fours) or its CVV as a named field. */
export function assertNoCardData(canary: Canary, where: string, text: string): void {
  const { pan, cvv } = canary;
  assert.ok(!text.includes(pan), `PAN found in ${where}`);
  assert.ok(!text.includes(`${pan.slice(0, 4)} ${pan.slice(4, 8)}`), `spaced PAN found in ${where}`);
  for (const needle of [`"securityCode":"${cvv}"`, `"cvv":"${cvv}"`, `card.cvv=${cvv}`, `"card.cvv":"${cvv}"`]) {
    assert.ok(!text.includes(needle), `CVV found in ${where}`);
  }
}

/** Scans every file of a SQLite data folder (the database, its -wal and -shm), as bytes and as UTF-16; returns their names. */
export function assertNoCardDataInFiles(canary: Canary, dataDir: string): string[] {
  const files = readdirSync(dataDir);
  assert.ok(files.some((f) => f.endsWith('-wal')) || files.includes('switchyard.sqlite'));
  for (const f of files) {
    const raw = readFileSync(join(dataDir, f));
    assertNoCardData(canary, `data file ${f}`, raw.toString('latin1'));
    assertNoCardData(canary, `data file ${f} (utf16)`, raw.toString('utf16le'));
  }
  return files;
}

/** Scans every row of every table of the PostgreSQL schema the connection uses. */
export async function assertNoCardDataInRows(canary: Canary, db: Kysely<any>): Promise<void> {
  const tables = await sql<{ table_name: string }>`select table_name from information_schema.tables where table_schema = current_schema()`.execute(db);
  assert.ok(tables.rows.length >= 8);
  for (const { table_name } of tables.rows) {
    const rows = await sql`select * from ${sql.table(table_name)}`.execute(db);
    assertNoCardData(canary, `table ${table_name}`, JSON.stringify(rows.rows));
  }
}
