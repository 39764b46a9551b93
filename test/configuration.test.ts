/**
 * The configuration reference and the start-up checks: docs/configuration.md is generated from the
 * settings table the gateway reads through, every variable the code reads is in it, each invalid
 * value stops the gateway with one sentence naming it, a wrong master key says so, and the launcher
 * behind `npm start`/`npm test` tells a user of an older Node what to do (or runs a Node 24).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, configurationMarkdown, loadConfig, namesBesideSettings, settings } from '../src/config.ts';
import { createApp } from '../src/app.ts';
import { createLogger } from '../src/runtime/logger.ts';

const root = join(import.meta.dirname, '..');

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? sources(p) : p.endsWith('.ts') && !p.endsWith('.test.ts') ? [p] : [];
  });
}

test('docs/configuration.md is the reference generated from the settings table', () => {
  const doc = readFileSync(join(root, 'docs/configuration.md'), 'utf8');
  assert.equal(doc, configurationMarkdown(), 'regenerate it: node scripts/configuration-doc.ts > docs/configuration.md');
  for (const s of settings) {
    assert.ok(s.description.length > 10, `${s.name} is described`);
    assert.ok(doc.includes(`| \`${s.name}\` |`), `${s.name} is in the reference`);
  }
});

test('every environment variable the code reads is declared (and so documented)', () => {
  const declared = new Set(settings.map((s) => s.name));
  const read = new Set<string>();
  for (const file of sources(join(root, 'src'))) {
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(/'(SWITCHYARD_[A-Z0-9_]+)'/g)) read.add(m[1]!);
    for (const m of text.matchAll(/process\.env\.([A-Z][A-Z0-9_]+)/g)) read.add(m[1]!);
  }
  assert.ok(read.size >= 20, `found ${read.size} names`);
  // The launcher's, the demo file's and the tests' own names are only listed there, never read in src.
  const missing = [...read].filter((n) => !declared.has(n) && !namesBesideSettings.has(n));
  assert.deepEqual(missing, [], 'declare these in src/config.ts settings');
});

test('every variable the launcher reads is in the reference, in its own section', () => {
  const doc = readFileSync(join(root, 'docs/configuration.md'), 'utf8');
  const launcher = doc.slice(doc.indexOf('## Launcher'));
  assert.ok(doc.includes('## Launcher'), 'the reference has a launcher section');
  const read = [...readFileSync(join(root, 'scripts/launch.mjs'), 'utf8').matchAll(/process\.env\.(SWITCHYARD_[A-Z0-9_]+)/g)].map((m) => m[1]!);
  assert.ok(read.length >= 3, `found ${read.length} names`);
  assert.deepEqual([...new Set(read)].filter((n) => !launcher.includes(`| \`${n}\` |`)), [], 'describe these under "Launcher"');
});

test('every number of days is held to ten years, a brand\'s expiry too, and the highest port leaves no demo port beyond it', () => {
  assert.throws(() => loadConfig({ SWITCHYARD_AUTHORIZATION_EXPIRY_DAYS: '3651' }), /at most 3650 days/);
  for (const days of ['3651', '99999999999999']) {
    assert.throws(() => loadConfig({ SWITCHYARD_AUTHORIZATION_EXPIRY_DAYS_BY_BRAND: `DINERS=${days}` }), /SWITCHYARD_AUTHORIZATION_EXPIRY_DAYS_BY_BRAND: "DINERS=\d+" is more than 3650 days/);
  }
  assert.equal(loadConfig({ SWITCHYARD_AUTHORIZATION_EXPIRY_DAYS_BY_BRAND: 'DINERS=3650' }).authorizationExpiryByBrandMs.DINERS, 3650 * 86_400_000);
  assert.equal(loadConfig({ PORT: '65535' }).demoPort, 0, 'no demo beside the highest port');
  assert.equal(loadConfig({ PORT: '65534' }).demoPort, 65_535);
});

test('every default the reference shows is what loadConfig uses', () => {
  const c = loadConfig({});
  assert.equal(c.port, 8080);
  assert.equal(c.pspTimeoutMs, settings.find((s) => s.name === 'SWITCHYARD_PSP_TIMEOUT_MS')!.default);
  assert.equal(c.webhooks.batchSize, 32);
  assert.equal(c.authorizationExpiryMs, 7 * 86_400_000);
  assert.equal(c.demoPort, 8081);
  assert.equal(c.logLevel, 'info');
});

test('each invalid value is refused with a sentence naming the variable, the value and what is expected', () => {
  const cases: [string, string, RegExp][] = [
    ['PORT', '70000', /PORT="70000" is not valid: a TCP port is at most 65535/],
    ['PORT', 'eighty', /PORT="eighty" is not valid: expected a whole number ≥ 0/],
    ['SWITCHYARD_PSP_TIMEOUT_MS', '10s', /SWITCHYARD_PSP_TIMEOUT_MS="10s" is not valid: expected a whole number ≥ 100 \(ms\)/],
    ['SWITCHYARD_PSP_TIMEOUT_MS', '-5', /expected a whole number ≥ 100/],
    // 0 reads as "no timeout" to many operators; here it would time every PSP call out at once.
    ['SWITCHYARD_PSP_TIMEOUT_MS', '0', /SWITCHYARD_PSP_TIMEOUT_MS="0" is not valid: expected a whole number ≥ 100 \(ms\)/],
    ['SWITCHYARD_WEBHOOK_TIMEOUT_MS', '0', /SWITCHYARD_WEBHOOK_TIMEOUT_MS="0" is not valid: expected a whole number ≥ 100 \(ms\)/],
    ['SWITCHYARD_SIM_ERROR_RATE', '1.5', /SWITCHYARD_SIM_ERROR_RATE="1.5" is not valid: expected a share between 0 and 1/],
    ['SWITCHYARD_KEY_REFRESH_MS', '10', /expected a whole number ≥ 100 \(ms\)/],
    ['SWITCHYARD_WEBHOOK_BATCH', '0', /expected a whole number ≥ 1 \(rows\)/],
    ['SWITCHYARD_WEBHOOK_DISABLE_AFTER_HOURS', 'soon', /expected a number ≥ 0 \(hours\)/],
    ['LOG_LEVEL', 'loud', /LOG_LEVEL="loud" is not valid: expected one of fatal, error, warn, info, debug, trace, silent/],
    ['SWITCHYARD_PUBLIC_URL', 'ftp://gw.example', /SWITCHYARD_PUBLIC_URL="ftp:\/\/gw.example" is not valid: expected an absolute http\(s\) URL/],
    // Published under a path, the hosted pages' own posts (a 3-D Secure answer) left it and reached no gateway.
    ['SWITCHYARD_PUBLIC_URL', 'https://shop.example/pay', /SWITCHYARD_PUBLIC_URL="https:\/\/shop.example\/pay" is not valid: expected the address alone \(scheme, host and port\), with no path/],
    ['SWITCHYARD_PUBLIC_URL', 'https://gw.example/?x=1', /with no path/],
    ['SWITCHYARD_WEBHOOK_ALLOW', '300.1.1.1/8', /SWITCHYARD_WEBHOOK_ALLOW="300.1.1.1\/8" is not valid: "300.1.1.1\/8" is not an IP address or CIDR range/],
    ['DATABASE_URL', 'mysql://root:hunter2@db/x', /DATABASE_URL is not valid: expected a postgres:\/\/ or postgresql:\/\/ URL, got one starting "mysql:"/],
    ['SWITCHYARD_MASTER_KEY', 'not-a-key', /SWITCHYARD_MASTER_KEY is not valid: expected 64 hex characters \(32 bytes\).*got 9 characters \(not all hex\)/],
  ];
  for (const [name, value, message] of cases) {
    assert.throws(() => loadConfig({ [name]: value }), (err: unknown) => {
      assert.ok(err instanceof ConfigError, `${name}=${value}: ${String(err)}`);
      assert.match(err.message, message);
      assert.ok(!err.message.includes('hunter2'), 'a URL\'s password is never echoed');
      return true;
    });
  }
  // Every numeric setting is checked, not just the ones above.
  for (const s of settings.filter((x) => ['integer', 'number', 'rate'].includes(x.type))) {
    assert.throws(() => loadConfig({ [s.name]: 'abc' }), new RegExp(`^ConfigError: ${s.name}="abc" is not valid`), s.name);
  }
});

function startMain(env: Record<string, string>) {
  return spawnSync(process.execPath, ['src/main.ts'], {
    cwd: root, encoding: 'utf8', timeout: 30_000,
    env: { ...process.env, PORT: '0', SWITCHYARD_DEMO_PORT: '0', DATABASE_URL: '', ...env },
  });
}

test('the gateway refuses to start on an invalid value with one line, no stack', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'sy-config-'));
  try {
    const r = startMain({ SWITCHYARD_DATA_DIR: dataDir, SWITCHYARD_WEBHOOK_TIMEOUT_MS: '30s' });
    assert.equal(r.status, 1);
    assert.match(r.stderr, /^switchyard failed to start: SWITCHYARD_WEBHOOK_TIMEOUT_MS="30s" is not valid: expected a whole number ≥ 100 \(ms\)\./);
    assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
});

test('a master key that does not open the store\'s keys says exactly that', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'sy-config-'));
  try {
    // The store's key ring is sealed under key A on first start...
    const app = await createApp(loadConfig({ SWITCHYARD_DATA_DIR: dataDir, SWITCHYARD_MASTER_KEY: 'a1'.repeat(32), PORT: '0' }),
      { logger: createLogger({ level: 'silent' }) });
    await app.close();
    // ...and the gateway is started with key B.
    const r = startMain({ SWITCHYARD_DATA_DIR: dataDir, SWITCHYARD_MASTER_KEY: 'b2'.repeat(32) });
    assert.equal(r.status, 1);
    assert.match(r.stderr, /switchyard failed to start: the master key does not open this store's card keys \(key version 1 was sealed under another master key\)\. Start with the master key this store was created with: SWITCHYARD_MASTER_KEY/);
    assert.doesNotMatch(r.stderr, /Unsupported state|unable to authenticate|\n\s+at /);
    assert.ok(!r.stderr.includes('b2b2b2'), 'the key is never printed');
    // Started with no key at all: a key is made, opens nothing, and must not be left behind as if it were the store's.
    const none = startMain({ SWITCHYARD_DATA_DIR: dataDir });
    assert.equal(none.status, 1);
    assert.match(none.stderr, /the master key does not open this store's card keys/);
    assert.ok(!existsSync(join(dataDir, 'master.key')), 'no master.key that opens nothing');
    // The right key still opens it.
    const ok = await createApp(loadConfig({ SWITCHYARD_DATA_DIR: dataDir, SWITCHYARD_MASTER_KEY: 'a1'.repeat(32), PORT: '0' }),
      { logger: createLogger({ level: 'silent' }) });
    await ok.close();
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
});

test('.nvmrc and package.json ask for Node 24; npm start, cli and test go through the launcher', () => {
  assert.equal(readFileSync(join(root, '.nvmrc'), 'utf8').trim(), '24');
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
  assert.equal(pkg.engines.node, '>=24');
  for (const script of ['start', 'cli', 'test']) assert.match(pkg.scripts[script], /^node scripts\/launch\.mjs /, script);
});

test('the launcher runs the program in place on Node 24, with its own arguments', () => {
  const r = spawnSync(process.execPath, ['scripts/launch.mjs', 'src/cli/main.ts', 'merchants', '--help'], { cwd: root, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout + r.stderr, /merchants create/);
});

test('the launcher caps the young generation at 8 MB per semi-space unless NODE_OPTIONS or node\'s own flags choose, and turns on the compile cache', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sy-launch-'));
  try {
    const program = join(dir, 'probe.ts');
    writeFileSync(program, `import module from 'node:module';
const argv: string[] = process.argv.slice(2);
console.log(JSON.stringify({ execArgv: process.execArgv, argv, cache: module.getCompileCacheDir() ?? null }));
`);
    const run = (args: string[], env: NodeJS.ProcessEnv) => {
      const r = spawnSync(process.execPath, [...args, 'scripts/launch.mjs', program, 'a b', '--c'], { cwd: root, encoding: 'utf8', env: { ...process.env, NODE_COMPILE_CACHE: join(dir, 'cache'), ...env } });
      assert.equal(r.status, 0, r.stderr);
      return JSON.parse(r.stdout) as { execArgv: string[]; argv: string[]; cache: string | null };
    };
    const plain = run([], { NODE_OPTIONS: '' });
    assert.deepEqual(plain.execArgv, ['--max-semi-space-size=8']);
    assert.deepEqual(plain.argv, ['a b', '--c'], 'the program sees its own arguments, once');
    assert.equal(plain.cache?.startsWith(join(dir, 'cache')), true);
    // Chosen by the operator: left as given, in NODE_OPTIONS or on node's command line.
    assert.deepEqual(run([], { NODE_OPTIONS: '--max-semi-space-size=0' }).execArgv, []);
    assert.deepEqual(run(['--max-semi-space-size=32'], { NODE_OPTIONS: '' }).execArgv, ['--max-semi-space-size=32']);
    assert.equal(run([], { NODE_OPTIONS: '', NODE_DISABLE_COMPILE_CACHE: '1' }).cache, null);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

// Debian's Node 20 on this machine stands in for a new user's older `node`.
const oldNode = ['/usr/bin/node', '/usr/local/bin/node'].find((p) => {
  if (!existsSync(p)) return false;
  const v = spawnSync(p, ['-p', 'process.versions.node'], { encoding: 'utf8' }).stdout.trim();
  return Number(v.split('.')[0]) < 24;
});

test('on an older Node the launcher says what is needed, what it found and how to get it', { skip: oldNode ? false : 'no Node older than 24 on this machine' }, () => {
  const home = mkdtempSync(join(tmpdir(), 'sy-home-'));
  try {
    const r = spawnSync(oldNode!, ['scripts/launch.mjs', 'src/main.ts'], {
      cwd: root, encoding: 'utf8',
      env: { PATH: process.env.PATH, HOME: home, SWITCHYARD_NODE_DOWNLOAD: '0', SWITCHYARD_NODE_CACHE: join(home, 'cache') },
    });
    assert.equal(r.status, 1);
    assert.match(r.stderr, /Switchyard needs Node\.js 24 or newer; this is Node\.js 2\d\./);
    assert.match(r.stderr, /nvm install/);
    assert.match(r.stderr, /npm install --prefix .* node@24/);
    assert.match(r.stderr, /https:\/\/nodejs\.org/);
    assert.doesNotMatch(r.stderr, /ERR_UNKNOWN_FILE_EXTENSION/);
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
});

test('on an older Node the launcher runs the program with a Node 24 it finds', { skip: oldNode ? false : 'no Node older than 24 on this machine' }, () => {
  const home = mkdtempSync(join(tmpdir(), 'sy-home-'));
  try {
    const r = spawnSync(oldNode!, ['scripts/launch.mjs', 'src/cli/main.ts', 'merchants', '--help'], {
      cwd: root, encoding: 'utf8',
      env: { PATH: process.env.PATH, HOME: home, SWITCHYARD_NODE_DOWNLOAD: '0', SWITCHYARD_NODE: process.execPath },
    });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stderr, /this is Node\.js 2\d\.[\d.]+; running with Node\.js v2[4-9]/);
    assert.match(r.stdout + r.stderr, /merchants create/);
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
});

test('SWITCHYARD_PUBLIC_URL is the address alone: a trailing slash or a default port is no path', () => {
  assert.equal(loadConfig({ SWITCHYARD_PUBLIC_URL: 'https://gw.example/' }).publicUrl, 'https://gw.example');
  assert.equal(loadConfig({ SWITCHYARD_PUBLIC_URL: 'https://gw.example:443' }).publicUrl, 'https://gw.example');
  assert.equal(loadConfig({ SWITCHYARD_PUBLIC_URL: 'http://127.0.0.1:8443' }).publicUrl, 'http://127.0.0.1:8443');
});
