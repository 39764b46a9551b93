import { spawn, spawnSync, type ChildProcess, type SpawnSyncReturns } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { MerchantCredentials } from '../../src/merchants/service.ts';

export interface GatewayProcess {
  readonly url: string;
  readonly child: ChildProcess;
  /** Everything the process wrote to stdout and stderr so far. */
  output(): string;
  /** Sends the signal and waits for the process to exit. */
  stop(signal?: NodeJS.Signals): Promise<void>;
}

/** Starts `npm start`'s entry point (`node src/main.ts`) as a real process and waits until it listens. */
export async function startGatewayProcess(env: Record<string, string>): Promise<GatewayProcess> {
  const child = spawn(process.execPath, ['src/main.ts'], {
    env: { ...process.env, PORT: '0', LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d) => { out += String(d); });
  child.stderr!.on('data', (d) => { out += String(d); });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const url = await new Promise<string>((resolve, reject) => {
    // A process that never says it listens is killed: left running, it would keep the test file alive.
    const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`gateway did not start:\n${out}`)); }, 20_000);
    const check = () => {
      const m = /Switchyard listening on (http:\/\/[^\s]+)/.exec(out);
      if (m) { clearTimeout(timer); resolve(m[1]!); }
    };
    child.stdout!.on('data', check);
    child.once('exit', (code) => { clearTimeout(timer); reject(new Error(`gateway exited with ${code}:\n${out}`)); });
  });
  return {
    url, child,
    output: () => out,
    async stop(signal = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      await exited;
    },
  };
}

/**
 * Reads the demo merchant's credentials the gateway saved on first start; the merchant id (not in
 * the file) from the first start's output when given.
 */
export function demoCredentials(dataDir: string, firstOutput = ''): MerchantCredentials {
  const text = readFileSync(join(dataDir, 'demo-merchant.env'), 'utf8');
  const get = (name: string) => new RegExp(`^export ${name}=(.*)$`, 'm').exec(text)![1]!;
  return {
    merchantId: /^\s+merchantId\s+([0-9a-f]{32})$/m.exec(firstOutput)?.[1] ?? '', entityId: get('ENTITY_ID'), accessToken: get('ACCESS_TOKEN'),
    userId: get('USER_ID'), password: get('PASSWORD'),
    clientId: get('CLIENT_ID'), apiKey: get('API_KEY'), workspaceId: get('WORKSPACE_ID'),
  };
}

/** The admin API's headers for a gateway whose admin token is the one generated into its data folder (or `configured`). */
export function adminHeaders(dataDir: string, configured?: string): Record<string, string> {
  return { authorization: `Bearer ${configured ?? readFileSync(join(dataDir, 'admin.token'), 'utf8').trim()}`, 'content-type': 'application/json' };
}

/** Runs the operator CLI (`npm run -s cli --`'s entry point) over a data folder; waits for it. */
export function runCli(dataDir: string, ...args: string[]): SpawnSyncReturns<string> {
  return spawnSync(process.execPath, ['src/cli/main.ts', ...args], { env: { ...process.env, SWITCHYARD_DATA_DIR: dataDir }, encoding: 'utf8' });
}
