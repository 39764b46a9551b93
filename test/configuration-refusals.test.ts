/**
 * Settings an operator gets wrong are refused at start in one sentence naming the variable: a
 * millisecond value longer than a timer can wait, a number written as 0x10 or 1e3, a database that
 * cannot be reached (no stack trace, never its password).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { loadConfig } from '../src/config.ts';
import { postgresAvailable, tempDir, testPostgresUrl } from './support/harness.ts';
import { startGatewayProcess } from './support/process.ts';

const pgUp = await postgresAvailable();

/** Runs `node src/main.ts` and expects it to refuse to start; returns what it said. */
function refusedStart(env: Record<string, string>): { status: number | null; stderr: string; stdout: string } {
  const dataDir = tempDir();
  try {
    const r = spawnSync(process.execPath, ['src/main.ts'], {
      env: { ...process.env, PORT: '0', SWITCHYARD_DATA_DIR: dataDir, ...env }, encoding: 'utf8', timeout: 20_000, killSignal: 'SIGKILL',
    });
    return { status: r.status, stderr: r.stderr, stdout: r.stdout };
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}

test('a millisecond setting above what a Node timer can hold (2^31-1) is refused at start, naming the variable', () => {
  for (const name of ['SWITCHYARD_KEY_REFRESH_MS', 'SWITCHYARD_PSP_TIMEOUT_MS', 'SWITCHYARD_WEBHOOK_POLL_MS']) {
    const r = refusedStart({ [name]: '3000000000' });
    assert.notEqual(r.status, 0, `${name}=3000000000 was accepted; it said:\n${r.stderr}`);
    assert.equal(r.status, 1, `${name}=3000000000: the gateway started instead of refusing (killed after 20 s); stderr:\n${r.stderr}`);
    assert.match(r.stderr, new RegExp(`failed to start: ${name}`));
  }
});

test('a number written otherwise than in plain decimals (0x10, 1e3) is refused, naming the variable', () => {
  for (const [name, value] of [['PORT', '0x10'], ['SWITCHYARD_PSP_TIMEOUT_MS', '1e3']]) {
    const r = refusedStart({ [name]: value! });
    assert.equal(r.status, 1, `${name}=${value} was accepted; it said:\n${r.stderr}`);
    assert.match(r.stderr, new RegExp(`failed to start: ${name}`));
  }
});

test('an unreachable DATABASE_URL is told in one sentence naming DATABASE_URL (no stack trace, no password)', () => {
  const r = refusedStart({ DATABASE_URL: 'postgres://bob:Sup3rSecretPw@127.0.0.1:1/switchyard' });
  assert.equal(r.status, 1);
  assert.doesNotMatch(r.stderr + r.stdout, /Sup3rSecretPw/);
  assert.match(r.stderr, /DATABASE_URL/, `stderr:\n${r.stderr}`);
  assert.doesNotMatch(r.stderr, /\n\s+at /, `a stack trace:\n${r.stderr}`);
});

// Durations only compared with timestamps (a bank transfer's time to be paid, an ephemeral
// instrument's life) are not timers: they may be longer than a timer can wait.
const thirtyDays = String(30 * 86_400_000);
for (const name of ['SWITCHYARD_ASYNC_TIMEOUT_MS', 'SWITCHYARD_EPHEMERAL_INSTRUMENT_TTL_MS']) {
  test(`${name}=${thirtyDays} (30 days, not a timer) is accepted`, () => {
    assert.doesNotThrow(() => loadConfig({ SWITCHYARD_DATA_DIR: tempDir(), PORT: '0', [name]: thirtyDays }));
  });
}

test('values the gateway would take and do nothing useful with are refused, naming the variable: a webhook poll of 0 ms (a busy loop), a mistyped PostgreSQL setting on SQLite, an unknown brand', () => {
  assert.throws(() => loadConfig({ SWITCHYARD_WEBHOOK_POLL_MS: '0' }), /SWITCHYARD_WEBHOOK_POLL_MS/);
  assert.throws(() => loadConfig({ SWITCHYARD_PG_PREPARED_STATEMENTS: 'maybe' }), /SWITCHYARD_PG_PREPARED_STATEMENTS="maybe" is not valid/);
  assert.equal(loadConfig({ SWITCHYARD_AUTHORIZATION_EXPIRY_DAYS_BY_BRAND: 'DINERS=20' }).authorizationExpiryByBrandMs.DINERS, 20 * 86_400_000);
  // 0 days would void every authorization within a minute of its approval (an operator meaning "never" included).
  assert.throws(() => loadConfig({ SWITCHYARD_AUTHORIZATION_EXPIRY_DAYS: '0' }), /SWITCHYARD_AUTHORIZATION_EXPIRY_DAYS/);
  assert.equal(loadConfig({ SWITCHYARD_AUTHORIZATION_EXPIRY_DAYS: '1' }).authorizationExpiryMs, 86_400_000);
  const r = refusedStart({ SWITCHYARD_AUTHORIZATION_EXPIRY_DAYS_BY_BRAND: 'DINER=20' });
  assert.equal(r.status, 1, r.stderr);
  assert.match(r.stderr, /SWITCHYARD_AUTHORIZATION_EXPIRY_DAYS_BY_BRAND: "DINER" is not a brand/);
  assert.doesNotMatch(r.stderr, /\n\s+at /, 'one line, no stack');
});

test('a HOST that names no address (a typo) is told in one line naming HOST, as PORT is, not a getaddrinfo stack trace', () => {
  const r = refusedStart({ HOST: 'no-such-host.invalid' });
  assert.equal(r.status, 1);
  assert.match(r.stderr, /switchyard failed to start: .*HOST=no-such-host\.invalid/);
  assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
});

test('an operator or metrics token shorter than 24 characters is refused at start, naming it and never showing it', () => {
  for (const name of ['SWITCHYARD_ADMIN_TOKEN', 'SWITCHYARD_METRICS_TOKEN']) {
    const r = refusedStart({ [name]: 'hunter2-guessable' });
    assert.equal(r.status, 1, name);
    assert.match(r.stderr, new RegExp(`${name} is too short \\(17 characters\\): give at least 24`));
    assert.doesNotMatch(r.stderr, /hunter2/, 'the token is not shown');
    assert.doesNotMatch(r.stderr, /\n\s+at /, 'one line, no stack');
  }
});

test('an operator or metrics token with a space in it (which no Authorization header could present) is refused at start, never shown', () => {
  for (const name of ['SWITCHYARD_ADMIN_TOKEN', 'SWITCHYARD_METRICS_TOKEN']) {
    const r = refusedStart({ [name]: 'correct horse battery staple 2026' });
    assert.equal(r.status, 1, name);
    assert.match(r.stderr, new RegExp(`${name} holds a space or a control character`));
    assert.doesNotMatch(r.stderr, /horse/, 'the token is not shown');
  }
});

test('a DATABASE_URL whose search_path names no schema that exists is refused at start, saying so (not as a missing table)', { skip: pgUp ? false : 'PostgreSQL unreachable' }, () => {
  const url = new URL(testPostgresUrl);
  url.searchParams.set('options', '-c search_path=sy_no_such_schema_here');
  const r = refusedStart({ DATABASE_URL: url.toString() });
  assert.equal(r.status, 1, r.stderr);
  assert.match(r.stderr, /DATABASE_URL: .*search_path in its options names no schema that exists/);
  assert.doesNotMatch(r.stderr, /key_versions/);
});

test('durations with no "off" refuse 0, which would end everything they bound at once; no brand\'s authorizations expire sooner than a day', () => {
  for (const name of ['SWITCHYARD_ASYNC_TIMEOUT_MS', 'SWITCHYARD_EPHEMERAL_INSTRUMENT_TTL_MS']) {
    assert.throws(() => loadConfig({ [name]: '0' }), new RegExp(`${name}="0" is not valid`), `${name}=0: every 3-D Secure payment, bank transfer or ephemeral instrument would end before anyone could act`);
  }
  assert.throws(() => loadConfig({ SWITCHYARD_AUTHORIZATION_EXPIRY_DAYS: '0.5' }), /SWITCHYARD_AUTHORIZATION_EXPIRY_DAYS="0.5" is not valid/);
  for (const days of ['0.5', '0.0000000001']) {
    assert.throws(() => loadConfig({ SWITCHYARD_AUTHORIZATION_EXPIRY_DAYS_BY_BRAND: `VISA=${days}` }), /SWITCHYARD_AUTHORIZATION_EXPIRY_DAYS_BY_BRAND: "VISA=[0-9.]+" is less than 1 day/);
  }
  assert.equal(loadConfig({ SWITCHYARD_AUTHORIZATION_EXPIRY_DAYS_BY_BRAND: 'VISA=1' }).authorizationExpiryByBrandMs.VISA, 86_400_000);
});

test('a misspelt SWITCHYARD_ variable is named at start, with the setting meant (which stays at its default): by the gateway and by the CLI', async () => {
  // Lower case too: names are case-sensitive, and `switchyard_psp_timeout_ms` is read by no one.
  const typos = { SWITCHYARD_MASTERKEY: 'ab'.repeat(32), SWITCHYARD_PSP_TIMEOUT: '5000', SWITCHYARD_WEBHOOKS_ALLOW: '127.0.0.0/8', switchyard_psp_timeout_ms: '5000', database_url: 'postgres://nobody@127.0.0.1:1/none' };
  const meant = { SWITCHYARD_MASTERKEY: 'SWITCHYARD_MASTER_KEY', SWITCHYARD_PSP_TIMEOUT: 'SWITCHYARD_PSP_TIMEOUT_MS', SWITCHYARD_WEBHOOKS_ALLOW: 'SWITCHYARD_WEBHOOK_ALLOW', switchyard_psp_timeout_ms: 'SWITCHYARD_PSP_TIMEOUT_MS', database_url: 'DATABASE_URL' };
  const dataDir = tempDir();
  try {
    const gw = await startGatewayProcess({ SWITCHYARD_DATA_DIR: dataDir, ...typos, SWITCHYARD_URL: 'http://127.0.0.1:1' });
    const said = gw.output();
    await gw.stop();
    const cli = spawnSync(process.execPath, ['src/cli/main.ts', 'merchants', 'list', '--json'], { env: { ...process.env, SWITCHYARD_DATA_DIR: dataDir, ...typos }, encoding: 'utf8' });
    assert.equal(cli.status, 0, cli.stderr);
    for (const [name, setting] of Object.entries(meant)) {
      for (const [who, text] of [['gateway', said], ['CLI', cli.stderr]] as const) {
        assert.match(text, new RegExp(`${name} is no setting of Switchyard and is ignored \\(did you mean ${setting}\\?`), `${who}: ${text.slice(0, 800)}`);
      }
    }
    assert.doesNotMatch(said, /SWITCHYARD_URL is no setting/, 'the demo file\'s own variable is no misspelling');
    assert.ok(!said.includes('ab'.repeat(32)), 'never a value');
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
});
