/**
 * The operator CLI's lists, read as their users read them.
 *  - `ledger discrepancies` read every discrepancy in one query and printed it (no --limit, no
 *    --cursor, no end of page): after a large report it loaded the whole table, where the admin API
 *    pages at most 1000 with a `next`; and --limit (an option the CLI parses, for `webhooks log`) was
 *    taken and silently ignored. It now pages as the admin API does.
 *  - `webhooks log --limit` and `late-approvals list --limit` read the number with Number(): 0x10,
 *    1e1 and 1.0 were 16, 10 and 1. Digits only now, as every other list.
 *  - Output was written with process.stdout.write and the process then ended with process.exit: on
 *    a pipe, whatever the reader had not taken yet was dropped, under exit code 0 (`ledger
 *    discrepancies --json | jq` got a JSON document cut in the middle; on PostgreSQL even with a
 *    reader keeping up). The CLI now exits once its output has left the process.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { startGateway, type Gateway } from './support/harness.ts';
import { cliEnv } from './support/cli.ts';

function cli(gw: Gateway, ...args: string[]) {
  return spawnSync(process.execPath, ['src/cli/main.ts', ...args], { env: cliEnv(gw), encoding: 'utf8' });
}

/** Runs the CLI into a pipe whose reader starts a second late (`| less`, a busy `jq`, ssh), as a shell does. */
function cliSlowReader(gw: Gateway, ...args: string[]): { code: number | null; stdout: string } {
  const quoted = [process.execPath, 'src/cli/main.ts', ...args].map((a) => `'${a.replace(/'/g, "'\\''")}'`).join(' ');
  const r = spawnSync('bash', ['-c', `${quoted} | { sleep 1; cat; }; exit \${PIPESTATUS[0]}`], { env: cliEnv(gw), encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  return { code: r.status, stdout: r.stdout };
}

for (const store of ['sqlite', 'postgres'] as const) {
  describe(`CLI lists page (${store})`, () => {
    let gw: Gateway;
    const total = 1_205;
    before(async () => {
      gw = await startGateway({ store });
      const base = Date.now() - 3_600_000;
      const rows = Array.from({ length: total }, (_, n) => ({
        id: randomBytes(16).toString('hex'), report_id: 'report-big', psp_account_id: 'acct', merchant_id: gw.merchant.merchantId,
        kind: 'unknown_reference', reference: `line-${n}`, payment_id: null, operation_id: null, currency: 'EUR',
        expected_amount: null, reported_amount: 100, status: 'open', note: null, created_at: base + n, resolved_at: null,
      }));
      for (let i = 0; i < total; i += 500) await gw.app.storage.db.insertInto('settlement_discrepancies').values(rows.slice(i, i + 500) as never).execute();
    });
    after(async () => { await gw?.close(); });

    test('ledger discrepancies --limit 2 prints two and where to go on, not every one', () => {
      const r = cli(gw, 'ledger', 'discrepancies', '--status', 'open', '--limit', '2');
      assert.equal(r.status, 0, r.stderr);
      const rows = r.stdout.split('\n').filter((l) => /^[0-9a-f]{32}\s/.test(l));
      assert.equal(rows.length, 2, `--limit was ignored: ${rows.length} rows printed`);
      assert.match(r.stdout + r.stderr, /--cursor \S+/);
    });

    test('ledger discrepancies --json without --limit answers a bounded page (at most 1000) with next, as the admin API', () => {
      const r = cli(gw, 'ledger', 'discrepancies', '--status', 'open', '--json');
      assert.equal(r.status, 0, r.stderr);
      const body = JSON.parse(r.stdout);
      assert.ok(body.discrepancies.length <= 1000, `one unbounded read: ${body.discrepancies.length} rows in one answer`);
      assert.equal(typeof body.next, 'string', 'a cut list says where the next page starts');
    });

    test('webhooks log and late-approvals list refuse a --limit that is not digits', () => {
      for (const args of [['webhooks', 'log'], ['late-approvals', 'list']]) {
        for (const limit of ['0x10', '1e1', '1.0', '+5']) {
          const r = cli(gw, ...args, '--limit', limit);
          assert.equal(r.status, 2, `${args.join(' ')} --limit ${limit}: exit ${r.status}, ${r.stderr}`);
          assert.match(r.stderr, /--limit/);
        }
      }
    });

    test('ledger discrepancies --json exiting 0 has written the whole document', async () => {
      const r = cliSlowReader(gw, 'ledger', 'discrepancies', '--status', 'open', '--json');
      assert.equal(r.code, 0);
      let body: any;
      assert.doesNotThrow(() => { body = JSON.parse(r.stdout); }, `exit 0 with ${r.stdout.length} characters of a cut JSON document, starting ${JSON.stringify(r.stdout.slice(0, 80))}`);
      assert.equal(body.discrepancies.length, 1000, 'one whole page');
    });

    test('ledger discrepancies (text) exiting 0 has written every line', async () => {
      const r = cliSlowReader(gw, 'ledger', 'discrepancies', '--status', 'open');
      assert.equal(r.code, 0);
      assert.equal(r.stdout.split('\n').filter((l) => /^[0-9a-f]{32}\s/.test(l)).length, 1000, 'one whole page');
      assert.match(r.stdout, /^more: --cursor \S+$/m);
    });
  });
}
