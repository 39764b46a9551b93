import { writeLine } from './terminal.ts';
import pino from 'pino';
import { loadConfig } from '../config.ts';
import { createApp, type App } from '../app.ts';
import { createLogger } from '../runtime/logger.ts';
import { isDeliveryStatus } from '../webhooks/model.ts';
import { readInstant } from '../runtime/instant.ts';
import { decodeCursor, encodeCursor } from '../search/model.ts';
import { pageLimit } from './limit.ts';

export const webhooksUsage = `  switchyard webhooks add --merchant MERCHANT_ID --dialect opp|executions --url URL [--entity ENTITY_ID] [--types T1,T2] [--json]
  switchyard webhooks list [--merchant MERCHANT_ID] [--json]
  switchyard webhooks rotate --endpoint ENDPOINT_ID [--overlap-hours 24] [--json]
  switchyard webhooks disable|enable --endpoint ENDPOINT_ID [--json]
  switchyard webhooks test --endpoint ENDPOINT_ID [--json]       (the /v1 activation message again; executions: a webhookTest event)
  switchyard webhooks forward --merchant MERCHANT_ID --forward-to URL [--dialect executions|opp] [--entity ID] [--types T1,T2]
                                 (while it runs, the running gateway sends the merchant's new events to URL; each is printed)
  switchyard webhooks log [--endpoint ID] [--merchant ID] [--event ID] [--status pending|delivered|failed] [--since ISO] [--limit N] [--cursor C] [--json]
                                 (newest first; \`more: --cursor C\` when more follow, on stderr with --json)
  switchyard webhooks event --event EVENT_ID [--json]
  switchyard webhooks redeliver --event EVENT_ID [--endpoint ENDPOINT_ID] [--json]
  switchyard webhooks redeliver --since ISO [--endpoint ENDPOINT_ID] [--merchant MERCHANT_ID] [--json]`;

export const webhookCommands = ['add', 'list', 'rotate', 'disable', 'enable', 'test', 'log', 'event', 'redeliver', 'forward'] as const;

/** parseArgs options the webhook commands read (beside --merchant and --json). */
export const webhookOptions = {
  dialect: { type: 'string' }, url: { type: 'string' }, entity: { type: 'string' }, types: { type: 'string' },
  endpoint: { type: 'string' }, event: { type: 'string' }, since: { type: 'string' }, status: { type: 'string' },
  limit: { type: 'string' }, cursor: { type: 'string' }, 'overlap-hours': { type: 'string' }, 'forward-to': { type: 'string' },
} as const;

class UsageError extends Error {}

type Values = Record<string, string | boolean | undefined>;
const need = (v: Values, name: string): string => {
  const x = v[name];
  if (typeof x !== 'string' || !x.trim()) throw new UsageError(`--${name} is required`);
  return x.trim();
};
const opt = (v: Values, name: string): string | undefined => (typeof v[name] === 'string' && v[name] ? (v[name] as string) : undefined);
const timeOf = (text: string, name: string): number => {
  const t = readInstant(text);
  if (t === undefined) throw new UsageError(`--${name} must be an ISO 8601 date or time naming a real day, e.g. 2026-01-01T00:00:00Z`);
  return t;
};

/** Prints one result: JSON with --json, else `key value` lines (objects) or one line per row (lists). */
function print(json: boolean, value: unknown, line?: (row: any) => string): void {
  if (json) { process.stdout.write(JSON.stringify(value) + '\n'); return; }
  if (Array.isArray(value) && line) { for (const row of value) writeLine(line(row)); return; }
  // A field without a value (no failure streak, no previous secret) is left out, as in the JSON.
  for (const [k, v] of Object.entries(value as object)) if (v !== undefined) writeLine(`${k.padEnd(20)} ${typeof v === 'object' ? JSON.stringify(v) : v}`);
}

async function webhooksCommand(app: App, command: string, v: Values, json: boolean): Promise<number> {
  const w = app.webhooks;
  const failed = (e: { code: string; message: string }) => { process.stderr.write(`${e.code}: ${e.message}\n`); return 1; };
  // A misspelt merchant id is a failed command, as for the ledger's: taken as a merchant with no
  // endpoints or failures, `list`, `log` and `redeliver --since` said all was well with exit 0.
  const merchantId = opt(v, 'merchant')?.trim();
  if (merchantId !== undefined && !(await app.merchants.byId(merchantId))) return failed({ code: 'merchant_not_found', message: `no merchant ${merchantId}` });
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
      // A decimal number as written (Number() read ' ' as 0, ending the old secret at once, and 0x18 as 24); given empty, refused.
      const given = v['overlap-hours'];
      if (typeof given === 'string' && !/^[0-9]{1,5}(\.[0-9]{1,3})?$/.test(given)) throw new UsageError('--overlap-hours must be a non-negative number of hours, such as 24 or 0.5');
      const hours = typeof given === 'string' ? Number(given) : 24;
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
      // As the admin API's delivery log: a larger one would read the whole table (and PostgreSQL refuses a LIMIT past 2^63).
      const limit = pageLimit(opt(v, 'limit'), 50, 1000);
      if (limit === undefined) throw new UsageError('--limit must be an integer from 1 to 1000');
      const since = opt(v, 'since');
      const cursor = opt(v, 'cursor');
      const before = cursor === undefined ? undefined : decodeCursor(cursor);
      if (cursor !== undefined && !before) throw new UsageError('--cursor must be the one a previous page printed');
      // One more than shown: a log cut at --limit says so, and where to go on, as the admin API's `next` does.
      const found = await w.deliveries({
        endpointId: opt(v, 'endpoint'), merchantId: opt(v, 'merchant'), eventId: opt(v, 'event'), limit: limit + 1,
        ...(status !== undefined && isDeliveryStatus(status) ? { status } : {}), ...(since ? { since: timeOf(since, 'since') } : {}),
        ...(before ? { before } : {}),
      });
      const rows = found.slice(0, limit);
      print(json, rows, (d) => `${d.createdAt}  ${d.eventId}  ${d.eventType.padEnd(26)}  ${d.status.padEnd(9)}  attempts=${d.attempts}  last=${d.lastStatus ?? d.lastError ?? '-'}`);
      const last = rows.at(-1);
      if (found.length > limit && last) (json ? process.stderr : process.stdout).write(`more: --cursor ${encodeCursor({ createdAt: Date.parse(last.createdAt), id: last.deliveryId })}\n`);
      return 0;
    }
    case 'event': {
      const rows = await w.event(need(v, 'event'));
      if (rows.length === 0) return failed({ code: 'event_not_found', message: `no delivery of event ${v.event}` });
      if (json) { print(true, rows); return 0; }
      for (const d of rows) {
        writeLine(`${d.eventId} → ${d.endpointId}  ${d.eventType}  ${d.status}`);
        for (const a of d.attemptLog) writeLine(`  ${a.at}  ${a.httpStatus ?? '-'}  ${a.latencyMs} ms  ${a.error ?? a.excerpt ?? ''}`);
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
        print(json, await w.redeliverFailedSince(timeOf(since!, 'since'), { endpointId: opt(v, 'endpoint'), merchantId: opt(v, 'merchant') }));
      }
      return 0;
    }
    case 'forward':
      return forward(app, v, json);
  }
  throw new UsageError(`unknown command webhooks ${command}`);
}

/**
 * `webhooks forward`: a developer's receiver on this machine gets the merchant's events while the
 * command runs, like the PSP CLIs' "listen --forward-to". It registers an endpoint for the URL (the
 * running gateway's worker delivers to it, signed or encrypted as usual, in order), prints every
 * attempt as it happens, and disables the endpoint when stopped (Ctrl-C).
 */
async function forward(app: App, v: Values, json: boolean): Promise<number> {
  const w = app.webhooks;
  const types = opt(v, 'types')?.split(',').map((t) => t.trim()).filter(Boolean);
  const r = await w.addEndpoint({
    merchantId: need(v, 'merchant'), dialect: opt(v, 'dialect') ?? 'executions', url: need(v, 'forward-to'), entityId: opt(v, 'entity'), types,
  });
  if (!r.ok) { process.stderr.write(`${r.error.code}: ${r.error.message}\n`); return 1; }
  const { endpointId, secret } = r.value;
  const out = (line: string, value: unknown) => process.stdout.write((json ? JSON.stringify(value) : line) + '\n');
  let stopping = false;
  // Stopped however its user leaves it: Ctrl-C, a kill, the terminal or SSH session closed (SIGHUP,
  // which would end the process at once, the endpoint left active), or its output gone (a pipe's
  // reader ended): the endpoint is disabled on the way out, else the gateway goes on sending every
  // event of the merchant to a receiver no one watches.
  const stop = new Promise<void>((resolve) => {
    const end = () => { stopping = true; resolve(); };
    for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.once(signal, end);
    process.stdout.on('error', end);
  });
  // Ready only once a stop is heard: a signal sent as soon as the line is read would otherwise end the process unheard.
  out(`Ready: forwarding to ${need(v, 'forward-to')} (endpoint ${endpointId}, secret ${secret}). Ctrl-C to stop.`, { ready: true, endpointId, secret });
  const seen = new Map<string, number>();
  const since = Date.now() - 1000;
  while (!stopping) {
    for (const d of (await w.deliveries({ endpointId, limit: 500, since })).reverse()) {
      if ((seen.get(d.deliveryId) ?? 0) >= d.attempts) continue;
      seen.set(d.deliveryId, d.attempts);
      const [last] = (await w.event(d.eventId)).filter((x) => x.deliveryId === d.deliveryId).map((x) => x.attemptLog.at(-1));
      out(`${new Date().toISOString()}  ${d.eventType.padEnd(26)}  ${d.eventId}  --> ${d.lastStatus ?? d.lastError ?? '-'}${last ? `  (${last.latencyMs} ms)` : ''}${d.status === 'pending' ? '  will retry' : ''}`,
        { eventId: d.eventId, eventType: d.eventType, status: d.status, httpStatus: d.lastStatus, error: d.lastError, attempts: d.attempts, latencyMs: last?.latencyMs });
    }
    await Promise.race([stop, new Promise((res) => setTimeout(res, 300))]);
  }
  await w.setStatus(endpointId, 'disabled');
  out(`Stopped: endpoint ${endpointId} disabled.`, { stopped: true, endpointId });
  return 0;
}

/** `switchyard webhooks ...`: the same operations as /admin/api/webhooks, over the server's store. */
export async function webhooksCli(command: string | undefined, values: Values): Promise<number> {
  if (!command || !(webhookCommands as readonly string[]).includes(command)) {
    process.stderr.write(webhooksUsage + '\n');
    return 2;
  }
  // Logs go to stderr so that --json output stays machine-readable.
  const app = await createApp(loadConfig(), { logger: createLogger({ level: 'warn', destination: pino.destination(2) }), keyRing: 'existing' });
  try {
    return await webhooksCommand(app, command, values, values.json === true);
  } catch (err) {
    if (err instanceof UsageError) { process.stderr.write(`${err.message}\n${webhooksUsage}\n`); return 2; }
    throw err;
  } finally {
    await app.close();
  }
}
