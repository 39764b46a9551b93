import { parseArgs } from 'node:util';
import { loadConfig } from '../config.ts';
import { openStorage } from '../storage/database.ts';
import { systemClock } from '../runtime/clock.ts';
import { randomIds } from '../runtime/ids.ts';
import { createMerchantStore } from '../merchants/kysely-store.ts';
import { createMerchantService } from '../merchants/service.ts';

const usage = `usage:
  switchyard merchants create --name NAME [--live] [--unique-merchant-transaction-id] [--json]
  switchyard merchants list [--json]`;

/** Operator commands over the same store the server uses (SWITCHYARD_DATA_DIR or DATABASE_URL). */
async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv, allowPositionals: true, strict: true,
    options: {
      name: { type: 'string' }, live: { type: 'boolean' }, json: { type: 'boolean' },
      'unique-merchant-transaction-id': { type: 'boolean' }, help: { type: 'boolean', short: 'h' },
    },
  });
  const [group, command] = positionals;
  if (values.help || group !== 'merchants' || (command !== 'create' && command !== 'list')) {
    process.stderr.write(usage + '\n');
    return values.help ? 0 : 2;
  }
  const config = loadConfig();
  const storage = await openStorage(config.storage);
  try {
    const merchants = createMerchantService({ store: createMerchantStore(storage.db), clock: systemClock, ids: randomIds });
    if (command === 'create') {
      if (!values.name || !values.name.trim()) { process.stderr.write('--name is required\n' + usage + '\n'); return 2; }
      const created = await merchants.create({
        name: values.name.trim(), live: values.live ?? false, uniqueMerchantTransactionId: values['unique-merchant-transaction-id'] ?? false,
      });
      if (values.json) process.stdout.write(JSON.stringify(created) + '\n');
      else for (const [k, v] of Object.entries(created)) process.stdout.write(`${k.padEnd(12)} ${v}\n`);
      return 0;
    }
    const list = await merchants.list();
    const rows = list.map(({ merchant: m, entities }) => ({
      merchantId: m.id, name: m.name, mode: m.live ? 'live' : 'test', entityIds: entities.map((e) => e.id),
      clientId: m.clientId, workspaceId: m.workspaceId, createdAt: new Date(m.createdAt).toISOString(),
    }));
    if (values.json) process.stdout.write(JSON.stringify(rows) + '\n');
    else for (const r of rows) process.stdout.write(`${r.merchantId}  ${r.mode.padEnd(4)}  ${r.entityIds.join(',')}  ${r.name}\n`);
    return 0;
  } finally {
    await storage.close();
  }
}

main(process.argv.slice(2)).then((code) => process.exit(code), (err) => {
  process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
