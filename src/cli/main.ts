import { parseArgs } from 'node:util';
import pino from 'pino';
import { loadConfig } from '../config.ts';
import { createApp, type App } from '../app.ts';
import { createLogger } from '../runtime/logger.ts';
import { isDeliveryStatus } from '../webhooks/model.ts';

const usage = `usage:
  switchyard merchants create --name NAME [--live] [--unique-merchant-transaction-id] [--json]
  switchyard merchants list [--json]
  switchyard webhooks add --merchant MERCHANT_ID --dialect opp|executions --url URL [--entity ENTITY_ID] [--types T1,T2] [--json]
  switchyard webhooks list [--merchant MERCHANT_ID] [--json]
  switchyard webhooks rotate --endpoint ENDPOINT_ID [--overlap-hours 24] [--json]
  switchyard webhooks disable|enable --endpoint ENDPOINT_ID [--json]
  switchyard webhooks test --endpoint ENDPOINT_ID [--json]       (sends the /v1 activation message again)
  switchyard webhooks log [--endpoint ID] [--merchant ID] [--event ID] [--status pending|delivered|failed] [--since ISO] [--limit N] [--json]
  switchyard webhooks event --event EVENT_ID [--json]
  switchyard webhooks redeliver --event EVENT_ID [--endpoint ENDPOINT_ID] [--json]
  switchyard webhooks redeliver --since ISO [--endpoint ENDPOINT_ID] [--merchant MERCHANT_ID] [--json]`;

const commands: Record<string, readonly string[]> = {
  merchants: ['create', 'list'],
  webhooks: ['add', 'list', 'rotate', 'disable', 'enable', 'test', 'log', 'event', 'redeliver'],
};

class UsageError extends Error {}

type Values = Record<string, string | boolean | undefined>;
const need = (v: Values, name: string): string => {
  const x = v[name];
  if (typeof x !== 'string' || !x.trim()) throw new UsageError(`--${name} is required`);
  return x.trim();
};
const opt = (v: Values, name: string): string | undefined => (typeof v[name] === 'string' && v[name] ? (v[name] as string) : undefined);
const timeOf = (text: string, name: string): number => {
  const t = Date.parse(text);
  if (Number.isNaN(t)) throw new UsageError(`--${name} must be an ISO 8601 time, e.g. 2026-01-01T00:00:00Z`);
  return t;
};

/** Prints one result: JSON with --json, else `key value` lines (objects) or one line per row (lists). */
function print(json: boolean, value: unknown, line?: (row: any) => string): void {
  if (json) { process.stdout.write(JSON.stringify(value) + '\n'); return; }
  if (Array.isArray(value) && line) { for (const row of value) process.stdout.write(line(row) + '\n'); return; }
  for (const [k, v] of Object.entries(value as object)) process.stdout.write(`${k.padEnd(20)} ${typeof v === 'object' ? JSON.stringify(v) : v}\n`);
}

async function merchantsCommand(app: App, command: string, v: Values, json: boolean): Promise<number> {
  if (command === 'create') {
    const name = need(v, 'name');
    const created = await app.merchants.create({ name, live: v.live === true, uniqueMerchantTransactionId: v['unique-merchant-transaction-id'] === true });
    print(json, created);
    return 0;
  }
  const rows = (await app.merchants.list()).map(({ merchant: m, entities }) => ({
    merchantId: m.id, name: m.name, mode: m.live ? 'live' : 'test', entityIds: entities.map((e) => e.id),
    clientId: m.clientId, workspaceId: m.workspaceId, createdAt: new Date(m.createdAt).toISOString(),
  }));
  print(json, rows, (r) => `${r.merchantId}  ${r.mode.padEnd(4)}  ${r.entityIds.join(',')}  ${r.name}`);
  return 0;
}

async function webhooksCommand(app: App, command: string, v: Values, json: boolean): Promise<number> {
  const w = app.webhooks;
  const failed = (e: { code: string; message: string }) => { process.stderr.write(`${e.code}: ${e.message}\n`); return 1; };
  switch (command) {
    case 'add': {
      const types = opt(v, 'types')?.split(',').map((t) => t.trim()).filter(Boolean);
      const r = await w.addEndpoint({ merchantId: need(v, 'merchant'), dialect: need(v, 'dialect'), url: need(v, 'url'), entityId: opt(v, 'entity'), types });
      if (!r.ok) return failed(r.error);
      print(json, r.value);
      return 0;
    }
    case 'list':
      print(json, await w.listEndpoints(opt(v, 'merchant')), (e) => `${e.endpointId}  ${e.dialect.padEnd(10)}  ${e.status.padEnd(8)}  ${e.url}  ${e.types.join(',') || '(all)'}`);
      return 0;
    case 'rotate': {
      const hours = Number(opt(v, 'overlap-hours') ?? 24);
      if (!Number.isFinite(hours) || hours < 0) throw new UsageError('--overlap-hours must be a non-negative number');
      const r = await w.rotateSecret(need(v, 'endpoint'), hours * 3_600_000);
      if (!r.ok) return failed(r.error);
      print(json, r.value);
      return 0;
    }
    case 'disable':
    case 'enable': {
      const r = await w.setStatus(need(v, 'endpoint'), command === 'disable' ? 'disabled' : 'active');
      if (!r.ok) return failed(r.error);
      print(json, r.value);
      return 0;
    }
    case 'test': {
      const r = await w.sendTest(need(v, 'endpoint'));
      if (!r.ok) return failed(r.error);
      print(json, r.value);
      return 0;
    }
    case 'log': {
      const status = opt(v, 'status');
      if (status !== undefined && !isDeliveryStatus(status)) throw new UsageError('--status must be pending, delivered or failed');
      const limit = Number(opt(v, 'limit') ?? 50);
      if (!Number.isInteger(limit) || limit < 1) throw new UsageError('--limit must be a positive integer');
      const since = opt(v, 'since');
      const rows = await w.deliveries({
        endpointId: opt(v, 'endpoint'), merchantId: opt(v, 'merchant'), eventId: opt(v, 'event'), limit,
        ...(status !== undefined && isDeliveryStatus(status) ? { status } : {}), ...(since ? { since: timeOf(since, 'since') } : {}),
      });
      print(json, rows, (d) => `${d.createdAt}  ${d.eventId}  ${d.eventType.padEnd(26)}  ${d.status.padEnd(9)}  attempts=${d.attempts}  last=${d.lastStatus ?? d.lastError ?? '-'}`);
      return 0;
    }
    case 'event': {
      const rows = await w.event(need(v, 'event'));
      if (rows.length === 0) return failed({ code: 'event_not_found', message: `no delivery of event ${v.event}` });
      if (json) { print(true, rows); return 0; }
      for (const d of rows) {
        process.stdout.write(`${d.eventId} → ${d.endpointId}  ${d.eventType}  ${d.status}\n`);
        for (const a of d.attemptLog) process.stdout.write(`  ${a.at}  ${a.httpStatus ?? '-'}  ${a.latencyMs} ms  ${a.error ?? a.excerpt ?? ''}\n`);
      }
      return 0;
    }
    case 'redeliver': {
      const event = opt(v, 'event');
      const since = opt(v, 'since');
      if ((event === undefined) === (since === undefined)) throw new UsageError('give either --event or --since');
      if (event !== undefined) {
        const r = await w.redeliverEvent(event, opt(v, 'endpoint'));
        if (!r.ok) return failed(r.error);
        print(json, r.value);
      } else {
        print(json, { redelivered: await w.redeliverFailedSince(timeOf(since!, 'since'), { endpointId: opt(v, 'endpoint'), merchantId: opt(v, 'merchant') }) });
      }
      return 0;
    }
  }
  throw new UsageError(`unknown command webhooks ${command}`);
}

/** Operator commands over the same store the server uses (SWITCHYARD_DATA_DIR or DATABASE_URL). */
async function main(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv, allowPositionals: true, strict: true,
      options: {
        name: { type: 'string' }, live: { type: 'boolean' }, json: { type: 'boolean' },
        'unique-merchant-transaction-id': { type: 'boolean' }, help: { type: 'boolean', short: 'h' },
        merchant: { type: 'string' }, dialect: { type: 'string' }, url: { type: 'string' }, entity: { type: 'string' },
        types: { type: 'string' }, endpoint: { type: 'string' }, event: { type: 'string' }, since: { type: 'string' },
        status: { type: 'string' }, limit: { type: 'string' }, 'overlap-hours': { type: 'string' },
      },
    });
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n${usage}\n`);
    return 2;
  }
  const { values, positionals } = parsed;
  const [group, command] = positionals;
  if (values.help || !group || !command || !commands[group]?.includes(command)) {
    process.stderr.write(usage + '\n');
    return values.help ? 0 : 2;
  }
  // Logs go to stderr so that --json output stays machine-readable.
  const app = await createApp(loadConfig(), { logger: createLogger({ level: 'warn', destination: pino.destination(2) }) });
  try {
    const json = values.json === true;
    return group === 'merchants' ? await merchantsCommand(app, command, values, json) : await webhooksCommand(app, command, values, json);
  } catch (err) {
    if (err instanceof UsageError) { process.stderr.write(`${err.message}\n${usage}\n`); return 2; }
    throw err;
  } finally {
    await app.close();
  }
}

main(process.argv.slice(2)).then((code) => process.exit(code), (err) => {
  process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
