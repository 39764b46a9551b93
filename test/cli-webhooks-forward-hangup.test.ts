/**
 * `webhooks forward` disables the endpoint it registered when stopped with Ctrl-C (SIGINT) or
 * SIGTERM, but not when its terminal is closed (SIGHUP, the usual way a developer's session ends):
 * the process dies at once and the endpoint stays active, so the running gateway goes on sending
 * every new event of the merchant to a receiver that is gone, failing and retrying, until it gives
 * the endpoint up hours later.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { tempDir } from './support/harness.ts';
import { runCli as cli, startGatewayProcess } from './support/process.ts';

process.env.SWITCHYARD_MASTER_KEY = 'cd'.repeat(32);

test('webhooks forward disables its endpoint when its terminal closes (SIGHUP)', async () => {
  const dataDir = tempDir();
  const env = { SWITCHYARD_DATA_DIR: dataDir, SWITCHYARD_DEMO_PORT: '0', SWITCHYARD_WEBHOOK_ALLOW: '127.0.0.0/8,::1/128' };
  const proc = await startGatewayProcess(env);
  try {
    const m = JSON.parse(cli(dataDir, 'merchants', 'create', '--name', 'Acme Shop', '--json').stdout);
    const child = spawn(process.execPath, ['src/cli/main.ts', 'webhooks', 'forward', '--merchant', m.merchantId, '--forward-to', 'http://127.0.0.1:9/hook', '--json'],
      { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    const ready = new Promise<{ endpointId: string }>((resolve, reject) => {
      child.stdout!.on('data', (d) => {
        out += String(d);
        const line = out.split('\n').find((l) => l.includes('"ready"'));
        if (line) resolve(JSON.parse(line));
      });
      child.once('exit', (code) => reject(new Error(`forward exited ${code}: ${out}`)));
    });
    const { endpointId } = await ready;
    const exited = once(child, 'exit');
    child.kill('SIGHUP');
    await exited;

    const listed = JSON.parse(cli(dataDir, 'webhooks', 'list', '--merchant', m.merchantId, '--json').stdout);
    const endpoint = listed.find((e: { endpointId: string }) => e.endpointId === endpointId);
    assert.equal(endpoint.status, 'disabled', 'the forwarding endpoint outlives the closed terminal');
  } finally {
    await proc.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
});
