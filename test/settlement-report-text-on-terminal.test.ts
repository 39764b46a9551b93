/**
 * A settlement report is the PSP's text. Its `pspAccount` and `merchantId` may be echoed by a
 * refusal that `switchyard reconcile` writes to stderr: control characters in them never reach the
 * operator's terminal raw (a fake result line, a cleared screen, a retitled window).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { manualClock } from '../src/runtime/clock.ts';
import { startGateway, type Gateway } from './support/harness.ts';

function cli(gw: Gateway, ...args: string[]) {
  const env: Record<string, string> = { ...process.env as Record<string, string>, SWITCHYARD_DATA_DIR: gw.dataDir };
  delete env.DATABASE_URL;
  return spawnSync(process.execPath, ['src/cli/main.ts', ...args], { env, encoding: 'utf8' });
}

describe('reconcile: a report\'s own text on the terminal', () => {
  let gw: Gateway;
  before(async () => {
    gw = await startGateway({ clock: manualClock(Date.UTC(2026, 2, 10, 0, 1)), store: 'sqlite' });
    assert.ok((await gw.app.workflows.putAccount(gw.merchant.merchantId, 'acq', { connector: 'simulator', settings: {} })).ok);
  });
  after(async () => { await gw?.close(); });

  test('a report whose pspAccount or merchantId holds control characters is refused, its text never printed raw', () => {
    const report = {
      format: 'switchyard-settlement-report/1',
      pspAccount: 'acq\u001b]0;owned\u0007\u001b[2J\nimported: report 0 of 2026-03-09, 0 lines, 0 matched, 0 discrepancies',
      merchantId: 'm\u001b[31mRED\u001b[0m\r',
      day: '2026-03-09', lines: [], payouts: [],
    };
    const file = join(gw.dataDir, 'other-account.json');
    writeFileSync(file, JSON.stringify(report));
    const r = cli(gw, 'reconcile', '--psp-account', 'acq', '--file', file);
    assert.notEqual(r.status, 0, r.stdout);
    assert.match(r.stderr, /pspAccount must be a name/);
    assert.ok(!(r.stdout + r.stderr).includes('\u001b'), `ESC reached the terminal: ${JSON.stringify(r.stderr)}`);
    assert.equal(r.stderr.trim().split('\n').length, 1, `one refusal, one line: ${JSON.stringify(r.stderr)}`);
  });
});
