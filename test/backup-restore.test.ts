import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { DatabaseSync } from 'node:sqlite';
import { join } from 'node:path';
import { opp, tempDir, testCard } from './support/harness.ts';
import { demoCredentials, runCli, startGatewayProcess } from './support/process.ts';

// The gateways and the CLI runs of these tests share one master key, as an operator's would.
const masterKey = 'ab'.repeat(32);
process.env.SWITCHYARD_MASTER_KEY = masterKey;
const env = { SWITCHYARD_MASTER_KEY: masterKey };

/** The CLI as a process of its own, waited for without blocking this process: payments go on meanwhile. */
function cliAsync(dataDir: string, moreEnv: Record<string, string>, ...args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, ['src/cli/main.ts', ...args], { env: { ...process.env, ...moreEnv, SWITCHYARD_DATA_DIR: dataDir } });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => { stdout += String(d); });
  child.stderr.on('data', (d) => { stderr += String(d); });
  return new Promise((resolve) => child.once('close', (status) => resolve({ status, stdout, stderr })));
}

const storeFiles = (dir: string) => readdirSync(dir).filter((f) => f.startsWith('switchyard.sqlite'));

test('a backup taken while payments are made restores into a store a gateway starts on: every payment acknowledged before it, stored cards usable, books whole', async () => {
  const dataDir = tempDir();
  const restoredDir = tempDir();
  const backupDir = tempDir();
  const file = join(backupDir, 'switchyard-backup.sqlite');
  const gateway = await startGatewayProcess({ ...env, SWITCHYARD_DATA_DIR: dataDir });
  let restored: Awaited<ReturnType<typeof startGatewayProcess>> | undefined;
  try {
    const gw = { url: gateway.url, merchant: demoCredentials(dataDir) };
    const registration = await opp(gw, 'POST', '/v1/registrations', { ...testCard });
    assert.equal(registration.status, 200, JSON.stringify(registration.body));
    const registrationId = registration.body.id as string;

    // Payments go on, one after another from four shoppers, before, during and after the copy.
    const acknowledged: { id: string; at: number }[] = [];
    let paying = true;
    const shoppers = Array.from({ length: 4 }, async () => {
      while (paying) {
        const r = await opp(gw, 'POST', '/v1/payments', { amount: '12.34', currency: 'EUR', paymentType: 'DB', ...testCard });
        assert.equal(r.status, 200, JSON.stringify(r.body));
        acknowledged.push({ id: r.body.id as string, at: Date.now() });
      }
    });
    while (acknowledged.length < 40) await new Promise((r) => setTimeout(r, 20));
    const startedAt = Date.now();
    const backup = await cliAsync(dataDir, env, 'backup', file, '--json');
    const finishedAt = Date.now();
    while (acknowledged.filter((p) => p.at > finishedAt).length < 10) await new Promise((r) => setTimeout(r, 20));
    paying = false;
    await Promise.all(shoppers);
    assert.equal(backup.status, 0, backup.stderr);
    const summary = JSON.parse(backup.stdout);
    assert.equal(summary.file, file);
    assert.equal((statSync(file).mode & 0o777).toString(8), '600', 'the copy is the gateway user\'s alone');
    assert.deepEqual(readdirSync(backupDir), ['switchyard-backup.sqlite'], 'no temporary file is left beside it');

    const before = acknowledged.filter((p) => p.at < startedAt).map((p) => p.id);
    const after = acknowledged.filter((p) => p.at > finishedAt).map((p) => p.id);
    const copy = new DatabaseSync(file, { readOnly: true });
    const inCopy = new Set((copy.prepare('select id from payments').all() as { id: string }[]).map((r) => r.id));
    copy.close();
    assert.equal(summary.payments, inCopy.size, 'the summary counts what the copy holds');
    assert.deepEqual(before.filter((id) => !inCopy.has(id)), [], 'every payment acknowledged before the backup began is in it');
    assert.deepEqual(after.filter((id) => inCopy.has(id)), [], 'nothing acknowledged after it ended');
    await gateway.stop();

    const restore = runCli(restoredDir, 'restore', file, '--json');
    assert.equal(restore.status, 0, restore.stderr);
    assert.equal(JSON.parse(restore.stdout).payments, inCopy.size);
    const verify = runCli(restoredDir, 'ledger', 'verify');
    assert.equal(verify.status, 0, `the restored books balance: ${verify.stdout}${verify.stderr}`);

    restored = await startGatewayProcess({ ...env, SWITCHYARD_DATA_DIR: restoredDir });
    const back = { url: restored.url, merchant: gw.merchant };
    const read = await opp(back, 'GET', `/v1/payments/${before[0]}`);
    assert.equal(read.status, 200, JSON.stringify(read.body));
    assert.equal(read.body.amount, '12.34');
    // The stored card opens under the restored key ring: a charge with it reaches the PSP.
    const charged = await opp(back, 'POST', `/v1/registrations/${registrationId}/payments`, {
      amount: '9.99', currency: 'EUR', paymentType: 'DB', 'standingInstruction.mode': 'REPEATED', 'standingInstruction.type': 'UNSCHEDULED',
      'standingInstruction.source': 'MIT', recurringType: 'REPEATED',
    });
    assert.equal(charged.status, 200, JSON.stringify(charged.body));
    assert.match(charged.body.result.code, /^000\.[01]00\.1/);
  } finally {
    await gateway.stop();
    await restored?.stop();
    for (const d of [dataDir, restoredDir, backupDir]) rmSync(d, { recursive: true, force: true });
  }
});

test('backup and restore refuse what would lose or mix up a store, and change nothing', async () => {
  const dataDir = tempDir();
  const otherDir = tempDir();
  const backupDir = tempDir();
  const file = join(backupDir, 'copy.sqlite');
  const gateway = await startGatewayProcess({ ...env, SWITCHYARD_DATA_DIR: dataDir });
  try {
    await gateway.stop();
    const made = runCli(dataDir, 'backup', file);
    assert.equal(made.status, 0, made.stderr);
    assert.match(made.stdout, /backed up to .*copy\.sqlite: \d+ bytes, 1 merchants, 0 payments, 0 cards, 1 key versions/);
    assert.match(made.stdout, /keep it apart from the backups/);
    const kept = readFileSync(file);

    const again = runCli(dataDir, 'backup', file);
    assert.equal(again.status, 2);
    assert.match(again.stderr, /already exists; a backup never overwrites a file/);
    assert.deepEqual(readFileSync(file), kept);
    assert.equal(runCli(dataDir, 'backup').status, 2, 'FILE is required');
    assert.match(runCli(otherDir, 'backup', join(backupDir, 'none.sqlite')).stderr, /no store to back up/);
    assert.equal(runCli(dataDir, 'backup', join(backupDir, 'missing', 'x.sqlite')).status, 2);

    // Over a folder that holds a store: refused, the store left as it was.
    const live = readFileSync(join(dataDir, 'switchyard.sqlite'));
    const over = runCli(dataDir, 'restore', file);
    assert.equal(over.status, 1);
    assert.match(over.stderr, /already holds a store \(switchyard\.sqlite.*\): stop every gateway on it and move those files aside first/);
    assert.deepEqual(readFileSync(join(dataDir, 'switchyard.sqlite')), live);
    // A WAL left in a folder whose database was moved away would be replayed over the copy.
    writeFileSync(join(otherDir, 'switchyard.sqlite-wal'), '');
    assert.match(runCli(otherDir, 'restore', file).stderr, /already holds a store \(switchyard\.sqlite-wal\)/);
    rmSync(join(otherDir, 'switchyard.sqlite-wal'));

    // Without the master key, or with another one: nothing is put in place.
    const withoutKey: NodeJS.ProcessEnv = { ...process.env, SWITCHYARD_DATA_DIR: otherDir };
    delete withoutKey.SWITCHYARD_MASTER_KEY;
    const noKey = runCliEnv(withoutKey, 'restore', file);
    assert.equal(noKey.status, 1);
    assert.match(noKey.stderr, /no master key/);
    const wrongKey = runCliEnv({ ...withoutKey, SWITCHYARD_MASTER_KEY: 'cd'.repeat(32) }, 'restore', file);
    assert.equal(wrongKey.status, 1);
    assert.match(wrongKey.stderr, /does not open this copy's card keys \(key version 1/);
    assert.deepEqual(storeFiles(otherDir), []);
    assert.deepEqual(readdirSync(otherDir).filter((f) => f.endsWith('.tmp')), []);

    // Not a store, or a damaged copy: refused.
    const foreign = join(backupDir, 'foreign.sqlite');
    const db = new DatabaseSync(foreign);
    db.exec('create table t (x)');
    db.close();
    const notStore = runCli(otherDir, 'restore', foreign);
    assert.equal(notStore.status, 2);
    assert.match(notStore.stderr, /is not a Switchyard store/);
    const cut = join(backupDir, 'cut.sqlite');
    writeFileSync(cut, kept);
    truncateSync(cut, Math.floor(kept.length / 2));
    const damaged = runCli(otherDir, 'restore', cut);
    assert.equal(damaged.status, 1, damaged.stdout);
    assert.deepEqual(storeFiles(otherDir), []);
    assert.equal(runCli(otherDir, 'restore', join(backupDir, 'nothing.sqlite')).status, 2);

    // The right key: in place, and a gateway starts on it.
    const restored = runCli(otherDir, 'restore', file);
    assert.equal(restored.status, 0, restored.stderr);
    assert.deepEqual(storeFiles(otherDir), ['switchyard.sqlite']);
    const started = await startGatewayProcess({ ...env, SWITCHYARD_DATA_DIR: otherDir });
    await started.stop();

    // PostgreSQL keeps its own backups.
    const onPostgres = runCliEnv({ ...process.env, SWITCHYARD_DATA_DIR: dataDir, DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/test' }, 'backup', join(backupDir, 'pg.sqlite'));
    assert.equal(onPostgres.status, 2);
    assert.match(onPostgres.stderr, /pg_dump/);
    assert.ok(!existsSync(join(backupDir, 'pg.sqlite')));
  } finally {
    await gateway.stop();
    for (const d of [dataDir, otherDir, backupDir]) rmSync(d, { recursive: true, force: true });
  }
});

/** The CLI under an environment of the test's own (another master key, none, a PostgreSQL URL). */
function runCliEnv(environment: NodeJS.ProcessEnv, ...args: string[]) {
  return spawnSync(process.execPath, ['src/cli/main.ts', ...args], { env: environment, encoding: 'utf8' });
}
