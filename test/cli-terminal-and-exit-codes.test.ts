/**
 * The operator's command line: text from merchants or PSPs never reaches the terminal raw (no forged
 * rows, no escape sequences), and a flag misspelt or missing its value is a usage error (exit 2),
 * told apart from a command that failed (exit 1).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { opp, tempDir, testCard } from './support/harness.ts';
import { runCli as cli, startGatewayProcess } from './support/process.ts';

// The text output of `payments list` must not hand a merchant's control characters (ESC
// sequences, newlines) to the operator's terminal, where they can forge rows or drive the terminal.
test('payments list (text) does not print a merchant reference\'s control characters raw', async () => {
  const dataDir = tempDir();
  const ref = 'order-1\u001b]0;owned\u0007\n2026-01-01T00:00:00.000Z  fake-payment  refunded';
  try {
    const m = JSON.parse(cli(dataDir, 'merchants', 'create', '--name', 'Shop', '--json').stdout);
    const proc = await startGatewayProcess({ SWITCHYARD_DATA_DIR: dataDir });
    try {
      const refused = await opp({ url: proc.url, merchant: m }, 'POST', '/v1/payments', { ...testCard, amount: '1.00', currency: 'EUR', paymentType: 'PA', merchantTransactionId: ref });
      assert.equal(refused.status, 400, 'the API refuses a reference with control characters');
      const r = await opp({ url: proc.url, merchant: m }, 'POST', '/v1/payments', { ...testCard, amount: '1.00', currency: 'EUR', paymentType: 'PA', merchantTransactionId: 'order-1' });
      assert.equal(r.body.merchantTransactionId, 'order-1');
    } finally {
      await proc.stop();
    }
    // A reference stored before the API refused them (or by any other way into the store): the
    // command line still never hands its control characters to the terminal.
    const store = new DatabaseSync(join(dataDir, 'switchyard.sqlite'));
    try { store.prepare('update transactions set merchant_transaction_id = ? where merchant_transaction_id = ?').run(ref, 'order-1'); } finally { store.close(); }
    const listed = cli(dataDir, 'payments', 'list');
    assert.equal(listed.status, 0, listed.stderr);
    assert.equal(listed.stdout.trim().split('\n').length, 1, `one payment, one line: ${JSON.stringify(listed.stdout)}`);
    assert.ok(!listed.stdout.includes('\u001b'), 'no ESC byte reaches the terminal');
    assert.match(listed.stdout, /order-1\\x1b\]0;owned\\x07\\x0a2026/, 'shown escaped, so the operator still sees what the merchant sent');
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
});

// main.ts: "`merchants rotate`: bad input exits 2 and changes nothing; an unknown merchant exits 1",
// and every other usage error (missing --name, unknown command) exits 2. An option given without
// its value, or an unknown option, is bad input too: a script must not read it as "no such merchant".
test('an option without its value or an unknown option is a usage error (exit 2), like the others', () => {
  const dataDir = tempDir();
  try {
    assert.equal(cli(dataDir, 'merchants', 'rotate').status, 2, 'missing --merchant');
    assert.equal(cli(dataDir, 'merchants', 'rotate', '--merchant', 'f'.repeat(32)).status, 1, 'unknown merchant');
    const noValue = cli(dataDir, 'merchants', 'rotate', '--merchant');
    assert.match(noValue.stderr, /--merchant/);
    assert.equal(noValue.status, 2, `--merchant without a value: ${noValue.stderr}`);
    const unknown = cli(dataDir, 'merchants', 'create', '--name', 'X', '--nmae', 'Y');
    assert.equal(unknown.status, 2, `unknown option: ${unknown.stderr}`);
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
});

test('an unknown origins, psp-accounts or workflows command is a usage error (exit 2), for a known merchant too', () => {
  const dataDir = tempDir();
  try {
    const m = JSON.parse(cli(dataDir, 'merchants', 'create', '--name', 'Shop', '--json').stdout);
    for (const group of ['origins', 'psp-accounts', 'workflows']) {
      const r = cli(dataDir, group, 'frobnicate', '--merchant', m.merchantId);
      assert.equal(r.status, 2, `${group} frobnicate: ${r.stderr}`);
      assert.match(r.stderr, /usage:/);
    }
    assert.equal(cli(dataDir, 'origins', 'list', '--merchant', m.merchantId).status, 0);
    assert.equal(cli(dataDir, 'origins', 'list', '--merchant', 'f'.repeat(32)).status, 1, 'an unknown merchant is a failed command');
    // An argument a command cannot do without, or one that is no number, is a usage error too.
    for (const [args, named] of [
      [['psp-accounts', 'put', '--merchant', m.merchantId], /--name is required/],
      [['origins', 'add', '--merchant', m.merchantId], /--origin is required/],
      [['origins', 'remove', '--merchant', m.merchantId], /--origin is required/],
      [['psp-accounts', 'put', '--merchant', m.merchantId, '--name', 'a', '--timeout-ms', 'abc'], /--timeout-ms must be a whole number/],
    ] as const) {
      const r = cli(dataDir, ...args);
      assert.equal(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, named);
    }
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
});
