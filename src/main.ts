import { writeFileSync } from 'node:fs';
import { loadConfig } from './config.ts';
import { createApp } from './app.ts';

/** Starts the gateway: opens the store, creates the demo merchant on first start, serves HTTP. */
async function main() {
  const config = loadConfig();
  const app = await createApp(config);
  if ((await app.merchants.count()) === 0) {
    const demo = await app.merchants.create({ name: 'Demo Merchant' });
    const env = [
      `export SWITCHYARD_URL=http://${config.host === '0.0.0.0' ? '127.0.0.1' : config.host}:${config.port}`,
      `export ENTITY_ID=${demo.entityId}`,
      `export ACCESS_TOKEN=${demo.accessToken}`,
      `export CLIENT_ID=${demo.clientId}`,
      `export API_KEY=${demo.apiKey}`,
      `export WORKSPACE_ID=${demo.workspaceId}`,
      `export MERCHANT_ID=${demo.merchantId}`,
      // Receivers on this machine are loopback addresses, refused unless the operator opens them;
      // sourcing this file opens them for the CLI's registration check (start the server with it too).
      `export SWITCHYARD_WEBHOOK_ALLOW=\${SWITCHYARD_WEBHOOK_ALLOW:-127.0.0.0/8,::1/128}`,
    ].join('\n') + '\n';
    writeFileSync(config.demoCredentialsFile, env, { mode: 0o600 });
    process.stdout.write(
      `\nCreated the test-mode demo merchant (shown once; also saved to ${config.demoCredentialsFile}):\n` +
      `  merchantId  ${demo.merchantId}\n  entityId    ${demo.entityId}\n  accessToken ${demo.accessToken}\n` +
      `  clientId    ${demo.clientId}\n  apiKey      ${demo.apiKey}\n  workspaceId ${demo.workspaceId}\n\n`,
    );
  }
  // Attempts whose PSP answer was lost are asked about again until the PSP settles them.
  const reconciler = setInterval(() => {
    app.payments.reconcile().catch((err) => app.logger.error({ err: String(err) }, 'reconcile failed'));
  }, Math.max(1000, Math.min(config.pspTimeoutMs, 30_000)));
  reconciler.unref();

  if (app.admin.created) {
    process.stdout.write(`Generated the operator token for /admin/api (shown once; also saved to ${config.dataDir}/admin.token):\n  ${app.admin.token}\n\n`);
  } else if (!config.adminToken) {
    process.stdout.write(`The operator token for /admin/api is in ${config.dataDir}/admin.token\n`);
  }
  const address = await app.server.listen({ port: config.port, host: config.host });
  // Webhook deliveries run in the server process; app.close() stops them.
  app.webhooks.start();
  const store = config.storage.kind === 'sqlite' ? `SQLite in ${config.dataDir}` : 'PostgreSQL';
  process.stdout.write(`Switchyard listening on ${address} (${store})\n`);

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    app.logger.info({ signal }, 'shutting down');
    clearInterval(reconciler);
    await app.close();
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
}

main().catch((err) => {
  process.stderr.write(`switchyard failed to start: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
