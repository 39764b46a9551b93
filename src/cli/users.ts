import { loadConfig } from '../config.ts';
import { openStorage } from '../storage/database.ts';
import { systemClock } from '../runtime/clock.ts';
import { randomIds } from '../runtime/ids.ts';
import { createDashboardStore } from '../dashboard/kysely-store.ts';
import { createDashboardAuth } from '../dashboard/service.ts';
import { isRole, roles } from '../dashboard/model.ts';
import { createMerchantStore } from '../merchants/kysely-store.ts';
import { createThrottleStore } from '../throttle/kysely-store.ts';
import { createThrottle } from '../throttle/service.ts';

export const usersUsage = `  switchyard users add --email E --role admin|operator|viewer [--merchant ID] --password-stdin [--json]
                        a dashboard user; the password (12+ characters) is read from standard input
  switchyard users password --email E --password-stdin     sets a new password and signs the user out everywhere
  switchyard users list [--json]`;

export const userOptions = { email: { type: 'string' }, role: { type: 'string' }, 'password-stdin': { type: 'boolean' } } as const;

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  // One trailing newline is the end of the line typed or echoed, not part of the password.
  return Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '');
}

/** Dashboard users over the same store the server uses. */
export async function usersCli(command: string | undefined, values: Record<string, string | boolean | undefined>): Promise<number> {
  const err = (text: string, code = 2) => { process.stderr.write(`${text}\n`); return code; };
  if (command !== 'add' && command !== 'list' && command !== 'password') return err(`usage:\n${usersUsage}`);
  const email = typeof values.email === 'string' ? values.email : undefined;
  const role = values.role;
  if (command !== 'list') {
    if (!email) return err(`--email is required\nusage:\n${usersUsage}`);
    if (command === 'add' && !isRole(role)) return err(`--role must be one of ${roles.join(', ')}`);
    if (!values['password-stdin']) return err('--password-stdin is required: the password is read from standard input, never from the command line');
  }
  const password = command === 'list' ? '' : await readStdin();
  const config = loadConfig();
  const storage = await openStorage(config.storage);
  try {
    const auth = createDashboardAuth({
      store: createDashboardStore(storage.uow), clock: systemClock, ids: randomIds, throttle: createThrottle({ store: createThrottleStore(storage.uow), clock: systemClock }),
    });
    const out = (v: unknown, text: string) => { process.stdout.write(values.json ? JSON.stringify(v) + '\n' : text + '\n'); return 0; };
    const show = (u: { email: string; role: string; merchantId: string | undefined }) => `${u.email}  ${u.role}${u.merchantId ? `  merchant ${u.merchantId}` : ''}`;
    if (command === 'list') {
      const users = await auth.users();
      return out(users, users.map(show).join('\n'));
    }
    if (command === 'password') {
      const r = await auth.setPassword(email!, password);
      return r.ok ? out({ email: r.value.email, changed: true }, `password changed for ${r.value.email}`) : err(r.error, 1);
    }
    const merchantId = typeof values.merchant === 'string' ? values.merchant : undefined;
    if (merchantId !== undefined && !(await createMerchantStore(storage.uow).byId(merchantId))) return err(`no merchant ${merchantId}`, 1);
    const r = await auth.addUser({ email: email!, role: role as (typeof roles)[number], merchantId, password });
    return r.ok ? out(r.value, `added ${show(r.value)}`) : err(r.error, 1);
  } finally {
    await storage.close();
  }
}
