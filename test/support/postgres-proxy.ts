/**
 * A TCP pass-through to the test PostgreSQL that can go silent or away: frozen, bytes in either
 * direction are held (nothing is closed, nothing answers), as when the server's host hangs or a
 * network drops packets without a reset; partitioned, frozen for good and a close on one side is not
 * passed to the other either (the server never learns that the gateway gave up a connection);
 * stopped, connections are cut and new ones refused.
 */
import { createServer, connect, type Socket, type AddressInfo } from 'node:net';
import { testPostgresUrl } from './harness.ts';
import { createSimulatedAcquirer } from '../../src/processors/simulator/connector.ts';

export interface PostgresProxy {
  /** The test database's URL, through the proxy. */
  readonly url: string;
  readonly port: number;
  freeze(): void;
  /** Frozen for good, and closes are no longer passed on. */
  partition(): void;
  /** Sends on what was held, and forwards again. */
  thaw(): void;
  stop(): Promise<void>;
}

/** `port`: listen where a stopped proxy listened, as a restarted server comes back at its address. */
export async function postgresProxy(port = 0): Promise<PostgresProxy> {
  const target = new URL(testPostgresUrl);
  let frozen = false;
  let partitioned = false;
  const held: (() => void)[] = [];
  const sockets = new Set<Socket>();
  const pipe = (from: Socket, to: Socket) => {
    from.on('data', (chunk) => { if (frozen) held.push(() => to.write(chunk)); else to.write(chunk); });
    from.on('close', () => { if (!partitioned) to.destroy(); sockets.delete(from); });
    from.on('error', () => to.destroy());
  };
  const server = createServer((client) => {
    const upstream = connect(Number(target.port || 5432), target.hostname);
    sockets.add(client).add(upstream);
    pipe(client, upstream);
    pipe(upstream, client);
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  const listening = (server.address() as AddressInfo).port;
  const url = new URL(testPostgresUrl);
  url.hostname = '127.0.0.1';
  url.port = String(listening);
  return {
    url: url.toString(), port: listening,
    freeze() { frozen = true; },
    partition() { frozen = true; partitioned = true; },
    thaw() { frozen = false; for (const send of held.splice(0)) send(); },
    async stop() {
      partitioned = false;
      for (const s of sockets) s.destroy();
      await new Promise((r) => server.close(r));
    },
  };
}

/**
 * The simulated acquirer behind a proxied PostgreSQL that restarts as the PSP answers: once armed,
 * the next call of `operation` (any, when absent) is carried out, then every connection is cut and
 * the database comes back at the same address `downMs` later (the card charged, the outcome not
 * written). `calls` lists the attempts the PSP carried out; `back` settles once the database is up.
 */
export async function acquirerRestartingPostgres(downMs: number) {
  let proxy = await postgresProxy();
  const sim = createSimulatedAcquirer({ latencyMs: 0, jitterMs: 0, timeoutRate: 0, errorRate: 0 });
  const calls: { operation: string; attemptId: string }[] = [];
  let armed: string | true | undefined;
  let back: Promise<void> = Promise.resolve();
  const original = sim.execute.bind(sim);
  (sim as { execute: typeof sim.execute }).execute = async (req) => {
    const r = await original(req);
    calls.push({ operation: req.operation, attemptId: req.attemptId });
    if (armed === true || armed === req.operation) {
      armed = undefined;
      const port = proxy.port;
      await proxy.stop();
      back = new Promise((resolve) => setTimeout(() => { void postgresProxy(port).then((p) => { proxy = p; resolve(); }); }, downMs));
    }
    return r;
  };
  return {
    acquirer: sim, url: proxy.url, calls,
    /** The next call (of `operation`, when given) restarts the database. */
    arm(operation?: string) { armed = operation ?? true; },
    get back() { return back; },
    async close() { await back; await proxy.stop().catch(() => {}); },
  };
}
