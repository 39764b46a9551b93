/**
 * Settings refused at start with one line naming the variable (a demo port that is no TCP port, a
 * duration too long to be stored as a time), and what a first start leaves behind: a demo
 * credentials file that cannot be written is found before the demo merchant is made, so its
 * credentials are not lost; with PORT=0 the file names the port the gateway listens on.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfig } from '../src/config.ts';
import { pay, postgresAvailable, startGateway, tempDir } from './support/harness.ts';

const pgUp = await postgresAvailable();

function start(env: Record<string, string>, dataDir = tempDir(), timeout = 15_000) {
  return spawnSync(process.execPath, ['src/main.ts'], {
    env: { ...process.env, PORT: '0', SWITCHYARD_DATA_DIR: dataDir, ...env }, encoding: 'utf8', timeout, killSignal: 'SIGKILL',
  });
}
/** Starts the gateway on `dataDir` until it listens, stops it, and gives what it wrote to stderr. */
async function startedAndStopped(dataDir: string): Promise<string> {
  const child = spawn(process.execPath, ['src/main.ts'], { env: { ...process.env, PORT: '0', SWITCHYARD_DATA_DIR: dataDir }, stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  child.stderr.on('data', (d) => { err += d; });
  const deadline = Date.now() + 20_000;
  while (!/listening on/.test(err) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  child.kill('SIGTERM');
  await new Promise((r) => child.on('exit', r));
  return err;
}
const failureLine = (stderr: string) => stderr.slice(stderr.indexOf('switchyard failed to start'));

test('SWITCHYARD_DEMO_PORT=70000 (no TCP port) stops the gateway at start naming the variable, as PORT=70000 does', () => {
  const dataDir = tempDir();
  try {
    const r = start({ SWITCHYARD_DEMO_PORT: '70000' }, dataDir, 10_000);
    assert.equal(r.status, 1, `the gateway started (killed after 10 s; status ${r.status})`);
    assert.match(failureLine(r.stderr), /failed to start: SWITCHYARD_DEMO_PORT/);
  } finally { rmSync(dataDir, { recursive: true, force: true }); }
});

test('a SWITCHYARD_DEMO_FILE that cannot be written is told in one line naming it, and the demo merchant\'s credentials are not lost for good', () => {
  const dataDir = tempDir();
  try {
    const r = start({ SWITCHYARD_DEMO_FILE: join(dataDir, 'no-such-folder', 'demo.env') }, dataDir);
    assert.equal(r.status, 1);
    const told = failureLine(r.stderr);
    assert.equal(told.trim().split('\n').length, 1, `one line expected, got a stack trace:\n${told}`);
    assert.match(told, /SWITCHYARD_DEMO_FILE/);
  } finally { rmSync(dataDir, { recursive: true, force: true }); }
});

test('after a first start that could not write SWITCHYARD_DEMO_FILE, the next start (folder fixed) still gives the demo merchant\'s credentials', async () => {
  const dataDir = tempDir();
  try {
    const first = start({ SWITCHYARD_DEMO_FILE: join(dataDir, 'no-such-folder', 'demo.env') }, dataDir);
    assert.equal(first.status, 1);
    assert.doesNotMatch(first.stderr, /accessToken/, 'the first start showed the credentials');
    // The operator fixes the setting (back to the default) and starts again.
    const err = await startedAndStopped(dataDir);
    assert.match(err, /listening on/, err);
    const shown = /accessToken/.test(err);
    const saved = existsSync(join(dataDir, 'demo-merchant.env'));
    assert.ok(shown || saved, 'the demo merchant exists in the store (created by the failed start) but its credentials were never shown nor saved: data/demo-merchant.env, which the README sources, never appears');
  } finally { rmSync(dataDir, { recursive: true, force: true }); }
});

test('with PORT=0 the demo credentials file names the port the gateway listens on, not :0', async () => {
  const dataDir = tempDir();
  try {
    const err = await startedAndStopped(dataDir);
    const url = /^export SWITCHYARD_URL=(.*)$/m.exec(readFileSync(join(dataDir, 'demo-merchant.env'), 'utf8'))![1]!;
    const listening = /listening on (http:\/\/\S+)/.exec(err)![1]!;
    assert.equal(url, listening, 'sourcing demo-merchant.env points curl at port 0');
  } finally { rmSync(dataDir, { recursive: true, force: true }); }
});

test('SWITCHYARD_ASYNC_TIMEOUT_MS too large for a timestamp column is refused at start, naming the variable', () => {
  assert.throws(() => loadConfig({ PORT: '0', SWITCHYARD_DATA_DIR: tempDir(), SWITCHYARD_ASYNC_TIMEOUT_MS: '99999999999999999999' }), /SWITCHYARD_ASYNC_TIMEOUT_MS/);
});

test('the longest SWITCHYARD_ASYNC_TIMEOUT_MS accepted (ten years) is stored as a 3-D Secure payment\'s expiry on PostgreSQL', { skip: pgUp ? false : 'PostgreSQL unreachable' }, async () => {
  const gw = await startGateway({ store: 'postgres', env: { SWITCHYARD_ASYNC_TIMEOUT_MS: String(10 * 365 * 86_400_000) } });
  try {
    const r = await pay(gw, { 'card.number': '4200000000000042', shopperResultUrl: 'https://shop.example/return' });
    assert.equal(r.status, 200, `answered ${r.status} ${JSON.stringify(r.body?.result)}`);
    assert.equal(r.body.result.code, '000.200.000');
  } finally { await gw.close(); }
});
