// Starts a Switchyard program (`node scripts/launch.mjs src/main.ts [args]`) on Node.js 24 or newer.
//
// Plain JavaScript on purpose: it must parse on any Node still in use, so that an older `node` says
// what it needs instead of dying on the first `.ts` import with ERR_UNKNOWN_FILE_EXTENSION. On an
// older Node it runs the program with a Node 24 taken from the npm registry (the `node` package,
// installed once into a cache folder), so the README's two commands work unchanged; when that is
// not possible it prints what is needed, what was found and how to get it.
import { spawn, spawnSync } from 'node:child_process';
import module from 'node:module';
import { existsSync, mkdirSync } from 'node:fs';
import { constants, homedir } from 'node:os';
import { delimiter, dirname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const needed = 24;
const found = process.versions.node;
const major = Number(found.split('.')[0]);
const [target, ...args] = process.argv.slice(2);

if (!target) {
  process.stderr.write('usage: node scripts/launch.mjs <program.ts> [arguments]\n');
  process.exit(2);
}

// V8 lets its young generation (where each request's short-lived objects are made) grow to 64 MB
// per semi-space, 128 MB resident, under a burst of requests, and keeps it. The gateway's young
// objects live for one request: with 8 MB per semi-space its throughput did not move beyond the
// benchmark's noise, and with 10,000 long-polls waiting the young generation took 16 MB instead of
// 128 (docs/architecture.md, "What a waiting long-poll holds"). A value given in NODE_OPTIONS or on
// node's command line wins (`NODE_OPTIONS=--max-semi-space-size=0` leaves V8's own sizing).
const semiSpaceFlag = '--max-semi-space-size';
const semiSpaceMb = 8;
const v8Flags = [...process.execArgv, ...(process.env.NODE_OPTIONS ?? '').split(/\s+/)];
const semiSpaceChosen = v8Flags.some((a) => a.startsWith(semiSpaceFlag));

if (major >= needed && !semiSpaceChosen && typeof process.execve === 'function') {
  // V8 reads the flag only when it starts: the launcher starts again in its own place (same
  // process id, same arguments) with it. Where execve is missing (Windows) it runs without.
  process.execve(process.execPath, [process.execPath, `${semiSpaceFlag}=${semiSpaceMb}`, ...process.execArgv, ...process.argv.slice(1)], process.env);
}

if (major >= needed) {
  // The program sees the arguments it would see when started directly (`node program.ts ...`).
  process.argv = [process.argv[0], resolve(target), ...args];
  // Node strips a .ts file's types with a WebAssembly compiler that it loads on the first file it
  // strips and keeps for good (about 18 MB resident). The compile cache keeps each file's stripped
  // source (and V8's compiled code) on disk, checked against the file's content, so a start whose
  // sources have not changed since the last one never loads that compiler. NODE_COMPILE_CACHE
  // names the folder (else the system's temporary folder), NODE_DISABLE_COMPILE_CACHE=1 turns it off.
  module.enableCompileCache?.();
  await import(pathToFileURL(resolve(target)).href);
  // Written now rather than only at exit, so a process that is killed leaves the cache for the next start.
  module.flushCompileCache?.();
} else {
  const node = findNode() ?? installNode();
  if (!node) {
    explain();
    process.exit(1);
  }
  process.stderr.write(`switchyard: this is Node.js ${found}; running with Node.js ${run(node, ['--version'])} from ${node}\n`);
  // Its folder goes first on PATH, so anything the program starts by name (`node`, `npx`) is that Node too.
  const env = { ...process.env, PATH: `${dirname(node)}${delimiter}${process.env.PATH ?? ''}` };
  const child = spawn(node, [...(semiSpaceChosen ? [] : [`${semiSpaceFlag}=${semiSpaceMb}`]), target, ...args], { stdio: 'inherit', env });
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(signal, () => child.kill(signal));
  child.on('exit', (code, signal) => process.exit(signal ? 128 + (constants.signals[signal] ?? 0) : (code ?? 1)));
}

/** Where the downloaded runtime lives: SWITCHYARD_NODE_CACHE, else the user's cache folder. */
function cacheDir() {
  const base = process.env.XDG_CACHE_HOME || join(homedir(), '.cache');
  return process.env.SWITCHYARD_NODE_CACHE || join(base, 'switchyard', `node-${needed}`);
}

function run(file, argv) {
  const r = spawnSync(file, argv, { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : undefined;
}

function isRecentEnough(file) {
  const v = existsSync(file) ? run(file, ['-p', 'process.versions.node']) : undefined;
  return v !== undefined && Number(v.split('.')[0]) >= needed;
}

/** A Node 24 already on this machine: SWITCHYARD_NODE, the cache, or the CI script's install. */
function findNode() {
  const candidates = [
    process.env.SWITCHYARD_NODE,
    join(cacheDir(), 'node_modules', 'node', 'bin', 'node'),
    join(homedir(), '.local', `node${needed}`, 'bin', 'node'),
  ].filter(Boolean);
  return candidates.find(isRecentEnough);
}

/** Installs the registry's `node@24` into the cache with npm (once; about 40 MB). */
function installNode() {
  if (process.env.SWITCHYARD_NODE_DOWNLOAD === '0') return undefined;
  const dir = cacheDir();
  process.stderr.write(
    `switchyard: Node.js ${needed} or newer is needed and this is Node.js ${found}.\n` +
    `switchyard: installing Node.js ${needed} from the npm registry into ${dir} (once; set SWITCHYARD_NODE_DOWNLOAD=0 to refuse)...\n`,
  );
  try { mkdirSync(dir, { recursive: true }); } catch { return undefined; }
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  const r = spawnSync(npm, ['install', '--prefix', dir, '--no-save', '--no-package-lock', '--no-audit', '--no-fund', '--loglevel=error', `node@${needed}`], { stdio: ['ignore', 2, 2] });
  if (r.status !== 0) return undefined;
  const node = join(dir, 'node_modules', 'node', 'bin', 'node');
  return isRecentEnough(node) ? node : undefined;
}

function explain() {
  process.stderr.write([
    '',
    `Switchyard needs Node.js ${needed} or newer; this is Node.js ${found} (${process.execPath}).`,
    'It runs its TypeScript sources directly and uses the built-in node:sqlite, which older versions lack.',
    '',
    'Get Node.js 24 in one of these ways, then run the command again:',
    '  nvm install && nvm use                     (the repository\'s .nvmrc names 24)',
    `  npm install --prefix ~/.cache/switchyard/node-${needed} node@${needed}   (this launcher then finds it)`,
    '  https://nodejs.org/en/download             (installers and package managers)',
    'or point SWITCHYARD_NODE at a Node 24 binary.',
    '',
  ].join('\n'));
}
