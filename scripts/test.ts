/**
 * The test command (`npm test`): type-check, then every unit and end-to-end test with `node --test`.
 * Under CI (the `CI` variable set) PostgreSQL must answer, so the store conformance suite always
 * runs on both stores there; elsewhere its PostgreSQL half is skipped with a notice.
 */
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultPostgresUrl, postgresReachable } from '../src/storage/postgres.ts';

const pgUrl = process.env.TEST_DATABASE_URL || process.env.DATABASE_URL || defaultPostgresUrl;
if (!(await postgresReachable(pgUrl, 5000))) {
  if (process.env.CI) {
    process.stderr.write(`CI: PostgreSQL is unreachable at ${pgUrl.replace(/\/\/[^@]*@/, '//***@')}; the store conformance suite must run on it.\n`);
    process.exit(1);
  }
  process.stderr.write('notice: PostgreSQL is unreachable; its conformance tests will be skipped.\n');
}

// The tests start several hundred processes of their own (gateways, the CLI), each of which would
// strip the types of every source file it loads again: through the compile cache (checked against
// each file's content) a CLI command starts in about half the time. Unless the caller chose otherwise.
if (!process.env.NODE_COMPILE_CACHE && !process.env.NODE_DISABLE_COMPILE_CACHE) process.env.NODE_COMPILE_CACHE = join(tmpdir(), 'switchyard-test-compile-cache');

const run = (cmd: string, args: string[]) => spawnSync(cmd, args, { stdio: 'inherit', env: process.env }).status ?? 1;

if (run(process.execPath, ['node_modules/typescript/bin/tsc', '--noEmit']) !== 0) process.exit(1);
const extra = process.argv.slice(2);
const files = extra.length > 0 ? extra : ['src/**/*.test.ts', 'test/**/*.test.ts'];
// Four files at once on a 2-core machine: most of a test's time is spent waiting (on a gateway
// process, a timer, PostgreSQL, Chromium), and more files fill it (once 565–599 s with two, 494 s
// with three; on a later, slower machine and a larger suite, 808 s with three, 667 s with four).
process.exit(run(process.execPath, ['--test', '--test-concurrency=4', '--test-timeout=120000', ...files]));
