/**
 * The operator CLI before the server's first start, and against what the admin API refuses: each
 * test spawns the CLI as a child process.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from './support/harness.ts';
import { runCli as cli, startGatewayProcess } from './support/process.ts';

// A store's first card keys are sealed under the server's master key, by the server's first start: a
// command run before it, from a shell without the server's SWITCHYARD_MASTER_KEY, would seal them
// under another key (a master.key it made up), and the server could then never start on the store.
test('webhooks, psp-accounts and workflows commands before the server\'s first start make no key ring and say so, and the server then starts with its configured master key', async () => {
  const dataDir = tempDir();
  try {
    const m = JSON.parse(cli(dataDir, 'merchants', 'create', '--name', 'Shop', '--json').stdout);
    for (const args of [['webhooks', 'list'], ['psp-accounts', 'list', '--merchant', m.merchantId], ['workflows', 'show', '--merchant', m.merchantId]]) {
      const r = cli(dataDir, ...args);
      assert.equal(r.status, 1, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, /start the server once/);
      assert.doesNotMatch(r.stderr, /\n\s+at /, 'one line, no stack');
    }
    assert.equal(existsSync(join(dataDir, 'master.key')), false, 'the CLI made up a master.key');
    assert.match(cli(dataDir, 'keys', 'status').stdout, /no key ring yet/, 'the CLI sealed the key ring under its own key');
    const proc = await startGatewayProcess({ SWITCHYARD_DATA_DIR: dataDir, SWITCHYARD_MASTER_KEY: 'ab'.repeat(32) });
    await proc.stop();
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
});

// The admin API refuses a discrepancy note over 2000 characters (note_required, 400); so does the CLI
// (the note is sent in the settlementDiscrepancyResolved webhook).
test('ledger resolve refuses a note the admin API refuses (over 2000 characters), as a usage error', () => {
  const dataDir = tempDir();
  try {
    const r = cli(dataDir, 'ledger', 'resolve', '--id', 'f'.repeat(32), '--note', 'x'.repeat(2001));
    assert.equal(r.status, 2, `exit ${r.status}: ${r.stderr}`);
    assert.match(r.stderr, /--note/);
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
});

// The admin API refuses an origin over 255 characters (POST /admin/merchants/:id/origins, 400); so
// does `origins add` (an origin lands in every frame-ancestors header of the merchant).
test('origins add refuses an origin the admin API refuses (over 255 characters)', () => {
  const dataDir = tempDir();
  try {
    const m = JSON.parse(cli(dataDir, 'merchants', 'create', '--name', 'Shop', '--json').stdout);
    const origin = `https://${'a'.repeat(250)}.example`;
    const r = cli(dataDir, 'origins', 'add', '--merchant', m.merchantId, '--origin', origin);
    assert.notEqual(r.status, 0, `registered: ${r.stdout}`);
    assert.deepEqual(JSON.parse(cli(dataDir, 'origins', 'list', '--merchant', m.merchantId).stdout), []);
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
});
