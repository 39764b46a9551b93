import { chmodSync, existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { ensurePrivateDir, privateFileMode, writePrivateFile } from './runtime/private-files.ts';
import { startDemoStore, type DemoStore } from './hosted/demo.ts';
import { ConfigError, loadConfig, unknownSettingLines } from './config.ts';
import { MasterKeyMismatchError } from './vault/errors.ts';
import { createApp } from './app.ts';
import { StoreUnreachableError } from './storage/database.ts';

/** A word for a POSIX shell: single-quoted, a single quote inside written as '\''. */
/** A database URL without its password (a URL that cannot be read is left out whole). */
function withoutPassword(url: string): string {
  try {
    const u = new URL(url);
    u.password = '';
    // The driver also takes them as parameters of the URL.
    for (const p of ['password', 'sslpassword']) u.searchParams.delete(p);
    return u.toString();
  } catch {
    return '';
  }
}

function shellQuoted(text: string): string {
  return `'${text.replaceAll("'", "'\\''")}'`;
}

/** Why the operator's PORT and HOST cannot be listened on, by the error's code. */
const listenRefusals: Readonly<Record<string, string>> = {
  EADDRINUSE: 'the address is in use',
  EACCES: 'not allowed',
  EADDRNOTAVAIL: 'no such address on this machine',
  ENOTFOUND: 'HOST names no address',
  EAI_AGAIN: 'HOST could not be looked up now',
};

/** Starts the gateway: opens the store, creates the demo merchant on first start, serves HTTP. */
async function main() {
  const config = loadConfig();
  for (const line of unknownSettingLines()) say(`${line}\n`);
  const gatewayUrl = config.publicUrl ?? `http://${config.host === '0.0.0.0' ? '127.0.0.1' : config.host}:${config.port}`;
  const demoHost = config.host === '0.0.0.0' ? '127.0.0.1' : config.host;
  // Owner-only whatever the store: on PostgreSQL too it holds the master key, the operator token
  // and the demo merchant's credentials (the files are 0600; the folder hides even their names).
  // There a node given its key and token may have a folder it cannot change (a read-only root in
  // a container): it writes nothing there and still serves.
  try {
    ensurePrivateDir(config.dataDir);
  } catch (err) {
    if (config.storage.kind === 'sqlite') throw err;
    say(`notice: the data folder ${config.dataDir} could not be made owner-only (${(err as NodeJS.ErrnoException).code ?? String(err)}); files the gateway writes there would fail too\n`);
  }
  const app = await createApp(config, config.demoPort ? { demoUrl: `http://${demoHost}:${config.demoPort}/demo` } : {});
  // stdout carries JSON lines only (the log stream); what a person starting it needs to read goes to
  // stderr as text. Start-up lines are written whatever LOG_LEVEL says: scripts wait for them.
  const announce = app.logger.child({}, { level: 'info' });
  let demoFile: ((port: number) => string) | undefined;
  if ((await app.merchants.count()) === 0) {
    // Its credentials are shown once: a file that cannot be written is found before the merchant
    // is made (made first, the next start would find a merchant and never show them again).
    try { writePrivateFile(config.demoCredentialsFile, ''); } catch (err) {
      throw new ConfigError(`SWITCHYARD_DEMO_FILE=${config.demoCredentialsFile}: cannot write the demo merchant's credentials there (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
    }
    const demo = await app.merchants.create({ name: 'Demo Merchant' });
    demoFile = (port) => [
      `export SWITCHYARD_URL=http://${config.host === '0.0.0.0' ? '127.0.0.1' : config.host}:${port}`,
      `export ENTITY_ID=${demo.entityId}`,
      `export ACCESS_TOKEN=${demo.accessToken}`,
      `export USER_ID=${demo.userId}`,
      `export PASSWORD=${demo.password}`,
      `export CLIENT_ID=${demo.clientId}`,
      `export API_KEY=${demo.apiKey}`,
      `export WORKSPACE_ID=${demo.workspaceId}`,
      `export MERCHANT_ID=${demo.merchantId}`,
      // The CLI run after sourcing this file must open the store this gateway serves, wherever the
      // shell is and whatever folder the gateway was given: on PostgreSQL its URL, without the
      // password it may hold (the CLI takes that from PGPASSWORD, or ~/.pgpass), and the folder
      // of its master key. Without the URL the CLI opened an empty SQLite store in ./data and
      // answered from it.
      ...(config.storage.kind === 'postgres' ? [`export DATABASE_URL=${shellQuoted(withoutPassword(config.storage.url))}`] : []),
      `export SWITCHYARD_DATA_DIR=${shellQuoted(resolve(config.dataDir))}`,
      // Receivers on this machine are loopback addresses, refused unless the operator opens them;
      // sourcing this file opens them for the CLI's registration check (start the server with it too).
      `export SWITCHYARD_WEBHOOK_ALLOW=\${SWITCHYARD_WEBHOOK_ALLOW:-127.0.0.0/8,::1/128}`,
    ].join('\n') + '\n';
    writePrivateFile(config.demoCredentialsFile, demoFile(config.port));
    // Secrets go to the person at the terminal (stderr), never into the JSON log stream.
    say(
      `\nCreated the test-mode demo merchant (shown once; also saved to ${config.demoCredentialsFile}):\n` +
      `  merchantId  ${demo.merchantId}\n  entityId    ${demo.entityId}\n  accessToken ${demo.accessToken}\n` +
      `  clientId    ${demo.clientId}\n  apiKey      ${demo.apiKey}\n  workspaceId ${demo.workspaceId}\n\n`,
    );
    announce.info({ merchantId: demo.merchantId, entityId: demo.entityId, credentialsFile: config.demoCredentialsFile }, 'created the test-mode demo merchant');
  }
  // A key rotation run by the CLI (or another node) reaches this process within one interval. Each
  // node keeps its own key ring in memory, so this one stays a timer per process, not a job.
  const keyRefresh = setInterval(() => {
    app.vault.refreshKeys().catch((err) => app.logger.error({ err: String(err) }, 'key ring refresh failed'));
  }, config.keyRefreshMs);
  keyRefresh.unref();

  if (!config.adminToken) say(`The operator token for the /admin/... API is in ${config.dataDir}/admin.token\n`);
  const address = await app.server.listen({ port: config.port, host: config.host }).catch((err: NodeJS.ErrnoException) => {
    // A port in use or not allowed is the operator's to change: told in one sentence naming it.
    const why = listenRefusals[err.code ?? ''];
    if (why) throw new ConfigError(`PORT=${config.port} HOST=${config.host}: cannot listen there (${why})`);
    throw err;
  });
  // A gateway given port 0 learns its port only now: the file a shell sources must name it.
  const bound = app.server.server.address();
  if (demoFile && config.port === 0 && bound && typeof bound === 'object') writePrivateFile(config.demoCredentialsFile, demoFile(bound.port));
  // Webhook deliveries and the periodic jobs run in the server process; app.close() stops them.
  app.webhooks.start();
  app.jobs.start();
  const store = config.storage.kind === 'sqlite' ? `SQLite in ${config.dataDir}` : 'PostgreSQL';
  announce.info({ address, store: config.storage.kind }, `Switchyard listening on ${address} (${store})`);
  say(`Switchyard listening on ${address} (${store})\n`);
  // The demo is a convenience: if its port is taken the gateway still serves, and says why the demo is missing.
  const demo = config.demoPort
    ? await startDemo(app, config.demoCredentialsFile, gatewayUrl, demoHost, config.demoPort).catch((err: unknown) => {
      app.logger.warn({ err: err instanceof Error ? err.message : String(err) }, 'demo storefront not started');
      return undefined;
    })
    : undefined;
  if (demo) {
    announce.info({ url: demo.url }, 'demo checkout started');
    say(`\nOpen the demo checkout: ${demo.url}\n\n`);
  }

  let stoppingSince: number | undefined;
  const stop = async (signal: string) => {
    // A second signal (Ctrl-C again) ends it at once: every commit acknowledged is durable already.
    // One within a second of the first is the same stop delivered twice (npm passes on the signal
    // the terminal or systemd also sent to the whole process group) and is ignored.
    if (stoppingSince !== undefined) {
      if (Date.now() - stoppingSince < 1_000) return;
      app.logger.warn({ signal }, 'stopping now, without waiting for requests under way');
      process.exit(1);
    }
    stoppingSince = Date.now();
    app.logger.info({ signal }, 'shutting down');
    clearInterval(keyRefresh);
    await demo?.close();
    await app.close();
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
}

const say = (text: string) => { process.stderr.write(text); };

/**
 * The demo storefront, with the demo merchant's credentials from the file written on first start;
 * its origin is registered for the demo merchant so the secure fields may be framed there.
 */
async function startDemo(app: Awaited<ReturnType<typeof createApp>>, file: string, gatewayUrl: string, host: string, port: number): Promise<DemoStore | undefined> {
  if (!existsSync(file)) {
    app.logger.warn({ file }, 'demo storefront not started: the demo merchant\'s credentials file is missing');
    return undefined;
  }
  // A credentials file from an older version may still be readable by others.
  chmodSync(file, privateFileMode);
  const env = Object.fromEntries([...readFileSync(file, 'utf8').matchAll(/^export (\w+)=(.*)$/gm)].map((m) => [m[1], m[2]]));
  const merchant = env.CLIENT_ID && env.API_KEY ? await app.merchants.byClientCredentials(env.CLIENT_ID, env.API_KEY) : undefined;
  if (!merchant || !env.WORKSPACE_ID) {
    app.logger.warn({ file }, 'demo storefront not started: the credentials in the file belong to no merchant of this store');
    return undefined;
  }
  const store = await startDemoStore({ gatewayUrl, clientId: env.CLIENT_ID!, apiKey: env.API_KEY!, workspaceId: env.WORKSPACE_ID, host, port });
  await app.merchants.addOrigin(merchant.id, store.origin);
  return store;
}

/** The filesystem's refusals of the data folder (a file where a folder should be, no permission, a full or read-only disk). */
const dataDirRefusals = new Set(['ENOTDIR', 'EEXIST', 'EACCES', 'EPERM', 'EROFS', 'ENOSPC']);

main().catch((err) => {
  // An operator's mistake (a setting, the wrong master key, a data folder that cannot be used) is
  // told in one sentence; anything else is a bug: its stack.
  const told = err instanceof ConfigError || err instanceof MasterKeyMismatchError || err instanceof StoreUnreachableError;
  const fs = err as NodeJS.ErrnoException;
  const dataDir = !told && typeof fs?.code === 'string' && dataDirRefusals.has(fs.code) && typeof fs.path === 'string'
    ? `SWITCHYARD_DATA_DIR=${loadConfigSafely()?.dataDir ?? '(unset)'} cannot be used: ${fs.code} at ${fs.path}` : undefined;
  process.stderr.write(`switchyard failed to start: ${told ? err.message : dataDir ?? (err instanceof Error ? err.stack : String(err))}\n`);
  process.exit(1);
});

/** The configuration, where it reads, to name the data folder in a refusal. */
function loadConfigSafely() {
  try { return loadConfig(); } catch { return undefined; }
}
