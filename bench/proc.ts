import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createServer, type AddressInfo } from 'node:net';
import { basename } from 'node:path';

/** Every child still alive, so cleanup can reach them from whatever path the run fails on. */
const running = new Set<ChildProcess>();

const exited = (c: ChildProcess) => c.exitCode !== null || c.signalCode !== null;

function spawnNode(args: string[], env: NodeJS.ProcessEnv): ChildProcess {
  const child = spawn(process.execPath, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  running.add(child);
  child.once('exit', () => running.delete(child));
  return child;
}

export interface Server {
  readonly child: ChildProcess;
  /** The ready pattern's match, e.g. the URL it printed. */
  readonly ready: RegExpExecArray;
  /** Recent output (stdout and stderr), for error messages. */
  tail(): string;
  /** Lines at warn or worse printed since it became ready. */
  linesSinceReady(): number;
}

/**
 * Starts `node <args>` and resolves once its stdout matches `ready`. Output keeps being read
 * afterwards: a child logging into a full pipe would block and skew the numbers.
 */
export function startServer(args: string[], env: NodeJS.ProcessEnv, ready: RegExp, timeoutMs = 30_000): Promise<Server> {
  const child = spawnNode(args, env);
  let tail = '';
  let stdout = '';
  let lines = 0;
  let done = false;
  let partial = '';
  // Warnings or worse: JSON log lines at level 40 and above, and any other line naming an error or
  // a warning (the gateway's banner lines after it is ready are neither).
  const isWarning = (line: string) => {
    const level = /^\{.*"level":(\d+)/.exec(line)?.[1];
    return level !== undefined ? Number(level) >= 40 : /error|warn/i.test(line);
  };
  const keep = (s: string) => {
    tail = (tail + s).slice(-4000);
    if (!done) return;
    const parts = (partial + s).split('\n');
    partial = parts.pop() ?? '';
    lines += parts.filter(isWarning).length;
  };
  return new Promise((resolve, reject) => {
    const fail = (why: string) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      reject(new Error(`${basename(args[0]!)} ${why}\n--- its output ---\n${tail}`));
    };
    const timer = setTimeout(() => fail(`printed nothing matching ${ready} within ${timeoutMs} ms`), timeoutMs);
    child.stderr!.setEncoding('utf8').on('data', keep);
    child.stdout!.setEncoding('utf8').on('data', (s: string) => {
      keep(s);
      if (done) return;
      stdout += s;
      const m = ready.exec(stdout);
      if (!m) return;
      done = true;
      clearTimeout(timer);
      resolve({ child, ready: m, tail: () => tail, linesSinceReady: () => lines });
    });
    child.once('error', (err) => fail(`could not start: ${err.message}`));
    child.once('exit', (code, signal) => fail(`exited (${signal ?? code}) before it was ready`));
  });
}

/** Runs `node <args>` to completion and returns its stdout; a non-zero exit rejects with its stderr. */
export async function runNode(args: string[], env: NodeJS.ProcessEnv = process.env): Promise<string> {
  const child = spawnNode(args, env);
  let out = '';
  let err = '';
  child.stdout!.setEncoding('utf8').on('data', (s: string) => { out += s; });
  child.stderr!.setEncoding('utf8').on('data', (s: string) => { err = (err + s).slice(-4000); });
  const [code, signal] = (await once(child, 'close')) as [number | null, NodeJS.Signals | null];
  if (code !== 0) throw new Error(`${basename(args[0]!)} exited (${signal ?? code})\n${err}`);
  return out;
}

/** Asks every child to stop, then kills those that have not exited within `graceMs`. */
export async function stopAll(graceMs = 5000): Promise<void> {
  await Promise.all([...running].map(async (child) => {
    if (exited(child)) return;
    const gone = once(child, 'exit');
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    await gone;
    clearTimeout(timer);
  }));
}

/** A port free right now on the loopback interface (the OS picks it). */
export async function freePort(): Promise<number> {
  const s = createServer();
  s.listen(0, '127.0.0.1');
  await once(s, 'listening');
  const { port } = s.address() as AddressInfo;
  s.close();
  await once(s, 'close');
  return port;
}
