import { parseArgs } from 'node:util';
import { loadConfig } from '../config.ts';
import { openStorage } from '../storage/database.ts';
import { systemClock } from '../runtime/clock.ts';
import { randomIds } from '../runtime/ids.ts';
import { createMerchantStore } from '../merchants/kysely-store.ts';
import { createMerchantService } from '../merchants/service.ts';
import { createVaultStore } from '../vault/kysely-store.ts';
import { createVaultService } from '../vault/service.ts';
import { loadMasterKey } from '../vault/keyring.ts';
import type { Config } from '../config.ts';
import type { Storage } from '../storage/database.ts';

const usage = `usage:
  switchyard merchants create --name NAME [--live] [--unique-merchant-transaction-id] [--json]
  switchyard merchants list [--json]
  switchyard keys rotate [--json]    new key-encrypting key; re-wraps every card's data key (safe while servers run)
  switchyard keys rewrap [--json]    re-wraps cards still on older key versions
  switchyard keys status [--json]`;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Key ring commands: rotation re-wraps data keys only; PAN ciphertexts are never rewritten. */
async function keys(command: string, config: Config, storage: Storage, json: boolean): Promise<number> {
  const vault = await createVaultService({
    store: createVaultStore(storage.db), clock: systemClock, ids: randomIds,
    masterKey: loadMasterKey({ configured: config.masterKey, dataDir: config.dataDir }),
  });
  const print = (result: Record<string, unknown>, text: string) => process.stdout.write(json ? JSON.stringify(result) + '\n' : text + '\n');
  if (command === 'status') {
    const status = await vault.keyStatus();
    print(status, [`current key version ${status.current}`, ...status.versions.map((v) => `  version ${v.version}: ${v.cards} cards`)].join('\n'));
    return 0;
  }
  const version = command === 'rotate' ? (await vault.rotate()).version : (await vault.keyStatus()).current;
  let rewrapped = await vault.rewrapAll();
  if (command === 'rotate') {
    // Running servers seal new cards with the old version until their next key-ring refresh;
    // one more pass after that interval moves those too.
    await sleep(config.keyRefreshMs + 500);
    rewrapped += await vault.rewrapAll();
  }
  const remaining = (await vault.keyStatus()).versions.filter((v) => v.version < version).reduce((n, v) => n + v.cards, 0);
  print({ version, rewrapped, remaining }, `key version ${version}: ${rewrapped} cards re-wrapped, ${remaining} still on older versions${remaining ? ' (run keys rewrap)' : ''}`);
  return 0;
}

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
  const known = (group === 'merchants' && (command === 'create' || command === 'list'))
    || (group === 'keys' && (command === 'rotate' || command === 'rewrap' || command === 'status'));
  if (values.help || !known) {
    process.stderr.write(usage + '\n');
    return values.help ? 0 : 2;
  }
  const config = loadConfig();
  const storage = await openStorage(config.storage);
  try {
    if (group === 'keys') return await keys(command!, config, storage, values.json ?? false);
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
