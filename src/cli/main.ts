import { accountView } from '../workflows/model.ts';
import { connectorFactories } from '../processors/connectors.ts';
import { createSimulatedAcquirer } from '../processors/simulator/connector.ts';
import { parseArgs } from 'node:util';
import { readFileSync } from 'node:fs';
import { loadConfig, unknownSettingLines } from '../config.ts';
import { openStorage } from '../storage/database.ts';
import { systemClock } from '../runtime/clock.ts';
import { randomIds } from '../runtime/ids.ts';
import { createMerchantStore } from '../merchants/kysely-store.ts';
import { createMerchantService, type MerchantService } from '../merchants/service.ts';
import { credentialDialects, isCredentialDialect, merchantNameProblem } from '../merchants/model.ts';
import { createVaultStore } from '../vault/kysely-store.ts';
import { createVaultService, type VaultService } from '../vault/service.ts';
import { loadMasterKey } from '../vault/keyring.ts';
import type { Config } from '../config.ts';
import type { Storage } from '../storage/database.ts';
import { createWorkflowStore } from '../workflows/kysely-store.ts';
import { pspAccountInUse } from '../payments/kysely-store.ts';
import { createWorkflowService } from '../workflows/service.ts';
import type { PspAccount } from '../workflows/store.ts';
import { webhookOptions, webhooksCli, webhooksUsage } from './webhooks.ts';
import { printHelp } from './help.ts';
import { ledgerCli, ledgerOptions, ledgerUsage, settlementCli } from './ledger.ts';
import { userOptions, usersCli, usersUsage } from './users.ts';
import { paymentOptions, paymentsCli, paymentsUsage } from './payments.ts';
import { lateApprovalOptions, lateApprovalsCli, lateApprovalsUsage } from './late-approvals.ts';
import { backupCli, backupUsage } from './backup.ts';

const routingCommands: Readonly<Record<string, readonly string[]>> = {
  origins: ['list', 'add', 'remove'], 'psp-accounts': ['put', 'list'], workflows: ['show', 'set'],
};

const usage = `usage:
  switchyard merchants create --name NAME [--live] [--unique-merchant-transaction-id] [--json]
  switchyard merchants list [--json]
  switchyard merchants rotate --merchant ID [--dialect opp|executions|both] [--json]
                        new credentials, printed once; the old ones are refused at once
  switchyard keys rotate [--json]    new key-encrypting key; re-wraps every card's data key (safe while servers run)
  switchyard keys rewrap [--json]    re-wraps cards still on older key versions
  switchyard keys status [--json]
  switchyard origins add|remove --merchant ID --origin https://shop.example   pages that may frame the secure fields
  switchyard origins list --merchant ID
  switchyard psp-accounts put --merchant ID --name NAME [--connector simulator|opp|adyen|stripe] [--settings JSON|@FILE|-] [--timeout-ms MS]
                        an account put again keeps what is not given (its connector, settings, timeout);
                        --timeout-ms default clears its timeout
  switchyard psp-accounts list --merchant ID
  switchyard workflows show --merchant ID
  switchyard workflows set --merchant ID [--accounts A,B] [--move-on soft,error] [--notify-pending true|false]

  A PSP account names its connector (simulator, opp, adyen, stripe) and that connector's settings
  (--behaviour is accepted as another name for --settings); credentials in them are sealed at rest
  and shown back masked. --settings @FILE reads them from a file and --settings - from standard
  input, so that credentials stay out of the process list and the shell's history. Live merchants
  may use real PSP connectors only. The simulator's settings are JSON such as
  '{"latencyMs":50,"declines":[{"cardSuffixes":["1111"],"category":"soft"}],"timeouts":[{"amountAtLeast":100000}]}'
${webhooksUsage}
${ledgerUsage}
${usersUsage}
${paymentsUsage}
${lateApprovalsUsage}
${backupUsage}`;


const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** --settings as given: JSON itself, @FILE for a file's content, or - for standard input. */
function settingsText(given: string): { ok: true; text: string } | { ok: false; error: string } {
  if (given !== '-' && !given.startsWith('@')) return { ok: true, text: given };
  try {
    return { ok: true, text: readFileSync(given === '-' ? 0 : given.slice(1), 'utf8') };
  } catch (err) {
    return { ok: false, error: `--settings ${given} could not be read (${(err as NodeJS.ErrnoException).code ?? 'error'})` };
  }
}

const vaultOver = (config: Config, storage: Storage) => createVaultService({
  store: createVaultStore(storage.uow), clock: systemClock, ids: randomIds,
  masterKey: loadMasterKey({ configured: config.masterKey, dataDir: config.dataDir }), keyRing: 'existing',
});

/** PSP accounts under the same rules as the server's: credentials sealed by the key ring, live merchants on real PSPs only. */
async function workflowsOver(config: Config, storage: Storage, vault?: VaultService) {
  const merchants = createMerchantStore(storage.uow);
  const workflows = createWorkflowService({
    store: createWorkflowStore(storage.uow, pspAccountInUse), clock: systemClock, ids: randomIds, connectors: connectorFactories({ simulator: createSimulatedAcquirer() }),
    secrets: vault ?? await vaultOver(config, storage), merchantOf: (id) => merchants.byId(id), maxTimeoutMs: config.pspTimeoutMs,
  });
  // Accounts stored in the clear by an older version are sealed before anything is shown.
  await workflows.sealUnsealed();
  return workflows;
}

/** Key ring commands: rotation re-wraps data keys only; PAN ciphertexts are never rewritten. PSP credentials are re-sealed. */
async function keys(command: string, config: Config, storage: Storage, json: boolean): Promise<number> {
  const print = (result: Record<string, unknown>, text: string) => process.stdout.write(json ? JSON.stringify(result) + '\n' : text + '\n');
  // A store without a key ring yet gets its first key version from the server's first start, under
  // the master key the server is given: a key command run before (perhaps without that setting,
  // from another folder) would seal it under another key, and the server could then never open it.
  if ((await createVaultStore(storage.uow).keyVersions()).length === 0) {
    if (command === 'status') {
      print({ current: null, versions: [] }, 'no key ring yet: the server creates it on its first start');
      return 0;
    }
    process.stderr.write('no key ring yet: start the server once (it creates the key ring under its master key), then rotate\n');
    return 1;
  }
  const vault = await vaultOver(config, storage);
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
  const resealed = await (await workflowsOver(config, storage, vault)).resealAll();
  print({ version, rewrapped, remaining, pspAccountsResealed: resealed },
    `key version ${version}: ${rewrapped} cards re-wrapped, ${remaining} still on older versions${remaining ? ' (run keys rewrap)' : ''}; ${resealed} PSP accounts' credentials re-sealed`);
  return 0;
}

/** Whether PSP account settings carry a timeout of their own (`timeoutMs`, the older form of --timeout-ms). */
const hasTimeout = (settings: unknown) => typeof settings === 'object' && settings !== null && 'timeoutMs' in settings;

/** Operator commands over the same store the server uses (SWITCHYARD_DATA_DIR or DATABASE_URL). */
async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv, allowPositionals: true, strict: true,
    options: {
      name: { type: 'string' }, live: { type: 'boolean' }, json: { type: 'boolean' },
      'unique-merchant-transaction-id': { type: 'boolean' }, help: { type: 'boolean', short: 'h' },
      merchant: { type: 'string' }, behaviour: { type: 'string' }, 'timeout-ms': { type: 'string' }, settings: { type: 'string' }, connector: { type: 'string' }, accounts: { type: 'string' },
      'move-on': { type: 'string' }, 'notify-pending': { type: 'string' }, origin: { type: 'string' },
      ...webhookOptions, ...ledgerOptions, ...userOptions, ...paymentOptions, ...lateApprovalOptions,
    },
  });
  const [group, command] = positionals;
  // `help [command]` and `<command> --help` print that command's usage, before anything opens the store.
  if (group === 'help' || values.help) return printHelp(usage, group === 'help' ? positionals.slice(1) : positionals);
  // A misspelt SWITCHYARD_DATA_DIR would have the command open another store (./data) without a word.
  for (const line of unknownSettingLines()) process.stderr.write(`${line}\n`);
  if (!values.help && group === 'webhooks') return webhooksCli(command, values);
  if (!values.help && group === 'ledger') return ledgerCli(command, values);
  if (!values.help && (group === 'settlement-report' || group === 'reconcile')) return settlementCli(group, values);
  if (!values.help && group === 'users') return usersCli(command, values);
  if (!values.help && group === 'payments') return paymentsCli(command, positionals[2], values);
  if (!values.help && group === 'late-approvals') return lateApprovalsCli(command, positionals[2], values);
  if (!values.help && (group === 'backup' || group === 'restore')) return backupCli(group, command, positionals.slice(2), values.json ?? false);
  if (!values.help && (group === 'psp-accounts' || group === 'workflows' || group === 'origins')) return routing(group, command, values);
  const known = (group === 'merchants' && (command === 'create' || command === 'list' || command === 'rotate'))
    || (group === 'keys' && (command === 'rotate' || command === 'rewrap' || command === 'status'));
  if (values.help || !known) {
    process.stderr.write(usage + '\n');
    return values.help ? 0 : 2;
  }
  const config = loadConfig();
  const storage = await openStorage(config.storage);
  try {
    if (group === 'keys') return await keys(command!, config, storage, values.json ?? false);
    const merchants = createMerchantService({ store: createMerchantStore(storage.uow), clock: systemClock, ids: randomIds });
    if (command === 'create') {
      if (!values.name || !values.name.trim()) { process.stderr.write('--name is required\n' + usage + '\n'); return 2; }
      const problem = merchantNameProblem(values.name.trim());
      if (problem) { process.stderr.write(`--name ${problem}\n`); return 2; }
      const created = await merchants.create({
        name: values.name.trim(), live: values.live ?? false, uniqueMerchantTransactionId: values['unique-merchant-transaction-id'] ?? false,
      });
      if (values.json) process.stdout.write(JSON.stringify(created) + '\n');
      else for (const [k, v] of Object.entries(created)) process.stdout.write(`${k.padEnd(12)} ${v}\n`);
      return 0;
    }
    if (command === 'rotate') return await rotate(merchants, values);
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

/** `merchants rotate`: bad input exits 2 and changes nothing; an unknown merchant exits 1. */
async function rotate(merchants: MerchantService, values: { merchant?: string | undefined; dialect?: string | undefined; json?: boolean | undefined }): Promise<number> {
  const merchantId = values.merchant;
  if (!merchantId) { process.stderr.write('--merchant is required\n'); return 2; }
  const dialect = values.dialect ?? 'both';
  if (dialect !== 'both' && !isCredentialDialect(dialect)) { process.stderr.write('--dialect must be opp, executions or both\n'); return 2; }
  const rotated = await merchants.rotate(merchantId, dialect === 'both' ? credentialDialects : [dialect]);
  if (!rotated) { process.stderr.write(`no merchant ${merchantId}\n`); return 1; }
  // A /v1 request names its entity beside the token: the output a merchant's servers are given
  // carries both, as `merchants create` does.
  const entityIds = rotated.rotated.includes('opp') ? (await merchants.list()).find((x) => x.merchant.id === merchantId)?.entities.map((e) => e.id) : undefined;
  const shown = { ...rotated, ...(entityIds ? { entityIds } : {}) };
  if (values.json) process.stdout.write(JSON.stringify(shown) + '\n');
  else for (const [k, v] of Object.entries(shown)) process.stdout.write(`${k.padEnd(12)} ${Array.isArray(v) ? v.join(',') : v}\n`);
  return 0;
}

/**
 * Exits once what was written has left the process. A pipe takes 64 KiB at a time: exited at once, a
 * reader slower than the command (`| less`, `| jq`) got a list cut off, under exit code 0.
 */
const exitAfterOutput = async (code: number): Promise<never> => {
  await Promise.all([process.stdout, process.stderr].map((s) => new Promise<void>((resolve) => { s.write('', () => resolve()); })));
  process.exit(code);
};

main(process.argv.slice(2)).then((code) => exitAfterOutput(code), (err) => {
  process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
  // A flag misspelt or missing its value is a usage error, told apart from a failed command by its code.
  const usage = err instanceof Error && 'code' in err && String(err.code).startsWith('ERR_PARSE_ARGS');
  if (usage) process.stderr.write('see: npm run -s cli -- help [command]\n');
  return exitAfterOutput(usage ? 2 : 1);
});

/** PSP accounts and the cascade of a merchant's payment-acceptance workflow (same rules as the admin API). */
async function routing(group: string, command: string | undefined, values: Record<string, string | boolean | undefined>): Promise<number> {
  // An unknown command is a usage error, told before the store is opened or the merchant looked up.
  if (!routingCommands[group]?.includes(command ?? '')) { process.stderr.write(usage + '\n'); return 2; }
  const merchantId = typeof values.merchant === 'string' ? values.merchant : undefined;
  if (!merchantId) { process.stderr.write('--merchant is required\n' + usage + '\n'); return 2; }
  // The other arguments a command cannot do without are usage errors too, told before the store is opened.
  const missing = group === 'origins' && command !== 'list' && typeof values.origin !== 'string' ? '--origin is required'
    : group === 'psp-accounts' && command === 'put' && typeof values.name !== 'string' ? '--name is required'
      : group === 'psp-accounts' && command === 'put' && typeof values['timeout-ms'] === 'string' && !/^([0-9]+|default)$/.test(values['timeout-ms']) ? '--timeout-ms must be a whole number of milliseconds, or default'
        : undefined;
  if (missing) { process.stderr.write(`${missing}\n${usage}\n`); return 2; }
  const config = loadConfig();
  const storage = await openStorage(config.storage);
  try {
    if (!(await createMerchantStore(storage.uow).byId(merchantId))) { process.stderr.write(`no merchant ${merchantId}\n`); return 1; }
    const out = (v: unknown) => { process.stdout.write(JSON.stringify(v, null, 2) + '\n'); return 0; };
    const fail = (msg: string) => { process.stderr.write(msg + '\n'); return 1; };
    if (group === 'origins') {
      const merchants = createMerchantService({ store: createMerchantStore(storage.uow), clock: systemClock, ids: randomIds });
      const origin = typeof values.origin === 'string' ? values.origin : '';
      if (command === 'list') return out(await merchants.origins(merchantId));
      if (command === 'add') {
        const added = await merchants.addOrigin(merchantId, origin);
        return added ? out({ added }) : fail('--origin must be a web origin such as https://shop.example (http only on loopback hosts)');
      }
      return (await merchants.removeOrigin(merchantId, origin)) ? out({ removed: origin }) : fail('that origin is not registered');
    }
    // Origins need no PSP accounts: the key ring is opened only for the commands that do.
    const workflows = await workflowsOver(config, storage);
    // The notification URL under SWITCHYARD_PUBLIC_URL; without one, the path (the CLI knows no address).
    const shownAccount = (a: PspAccount) => accountView(a, workflows.notificationUrlOf(a, config.publicUrl ?? ''));
    if (group === 'psp-accounts' && command === 'put') {
      if (typeof values.name !== 'string') return fail('--name is required');
      // An account put again with what changes only (its timeout, say) keeps the rest: its
      // connector, and its settings as shown (credentials masked, which keeps the stored ones).
      // Filled with a simulator and no settings, a real PSP account was replaced with exit 0.
      const existing = (await workflows.accounts(merchantId)).find((a) => a.name === values.name);
      const connector = typeof values.connector === 'string' ? values.connector : existing?.connector ?? 'simulator';
      const given = values.settings ?? values.behaviour;
      const kept = existing && existing.connector === connector ? JSON.stringify(existing.settings) : '{}';
      const json = typeof given === 'string' ? settingsText(given) : { ok: true as const, text: kept };
      if (!json.ok) return fail(json.error);
      let settings: unknown;
      try { settings = JSON.parse(json.text); } catch { return fail('--settings must be JSON'); }
      const timeout = values['timeout-ms'];
      const r = await workflows.putAccount(merchantId, values.name, {
        connector, settings,
        // `--timeout-ms default` clears it (the gateway's SWITCHYARD_PSP_TIMEOUT_MS applies); a
        // timeout given in the settings (their older form) is the one given.
        ...(timeout === 'default' ? {}
          : typeof timeout === 'string' ? { timeoutMs: /^[0-9]+$/.test(timeout) ? Number(timeout) : timeout }
          : existing?.timeoutMs !== undefined && !hasTimeout(settings) ? { timeoutMs: existing.timeoutMs } : {}),
      });
      return r.ok ? out(shownAccount(r.value)) : fail(r.error);
    }
    if (group === 'psp-accounts' && command === 'list') return out((await workflows.accounts(merchantId)).map(shownAccount));
    if (group === 'workflows' && command === 'show') return out(await workflows.workflow(merchantId, 'payment-acceptance'));
    if (group === 'workflows' && command === 'set') {
      const input: Record<string, unknown> = {};
      if (typeof values.accounts === 'string') input.accounts = values.accounts.split(',').map((s) => s.trim()).filter(Boolean);
      if (typeof values['move-on'] === 'string') input.moveOn = values['move-on'].split(',').map((s) => s.trim()).filter(Boolean);
      // Anything but true/false is passed on as given, so the workflow rules refuse it by name.
      const notify = values['notify-pending'];
      if (typeof notify === 'string') input.notifyPending = notify === 'true' ? true : notify === 'false' ? false : notify;
      const r = await workflows.configure(merchantId, 'payment-acceptance', input);
      return r.ok ? out(r.value) : fail(r.error);
    }
    process.stderr.write(usage + '\n');
    return 2;
  } finally {
    await storage.close();
  }
}
