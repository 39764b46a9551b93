import { createHash, randomBytes } from 'node:crypto';
import type { Clock } from '../runtime/clock.ts';
import type { Ids } from '../runtime/ids.ts';
import { scrubPans } from '../runtime/scrub.ts';
import { fail, ok, type Result } from '../runtime/result.ts';
import {
  afterWrongPassword, beginSignIn, emailProblem, passwordProblem, sessionTtl, signInSource, signInThrottle, type AuditEntry, type DashboardUser, type Role,
} from './model.ts';
import type { Throttle } from '../throttle/service.ts';
import { decoyHash, hashPassword, verifyPassword } from './passwords.ts';
import type { AuditFilter, DashboardStore, SessionRecord } from './store.ts';
import { hasControlCharacter } from '../runtime/control-characters.ts';
import { createRefusalAllowance } from '../runtime/refusal-allowance.ts';

export interface Session {
  readonly user: DashboardUser;
  readonly csrfToken: string;
  readonly tokenHash: string;
}

/** `throttled`: too many failed sign-ins from the caller's address (any accounts); see `signInThrottle`. */
export type SignInError = 'invalid' | 'locked' | 'throttled';

export interface Actor {
  readonly user: DashboardUser | undefined;
  /** The email typed, when no user signed in yet (a failed sign-in). */
  readonly email?: string;
  readonly ip: string;
  /** Authenticated as the gateway's operator otherwise than by a session (the admin API's token). */
  readonly operator?: boolean;
}

export interface DashboardAuth {
  addUser(input: { email: string; role: Role; merchantId: string | undefined; password: string }): Promise<Result<DashboardUser, string>>;
  setPassword(email: string, password: string): Promise<Result<DashboardUser, string>>;
  users(): Promise<DashboardUser[]>;
  /**
   * A new session's cookie value, or why not. Five wrong passwords in a row lock the account for 15
   * minutes; `signInThrottle.failures` failed sign-ins from one address within its window refuse
   * every sign-in from that address (whatever the account) until the window has room again.
   */
  signIn(email: string, password: string, ip: string): Promise<Result<{ token: string; session: Session }, SignInError>>;
  /** The live session of a cookie value (its idle timer restarted), or undefined. */
  session(token: string): Promise<Session | undefined>;
  signOut(token: string, ip: string): Promise<void>;
  audit(actor: Actor, entry: Pick<AuditEntry, 'action' | 'outcome'> & Partial<Pick<AuditEntry, 'subject' | 'merchantId' | 'detail'>>): Promise<void>;
  auditLog(filter: AuditFilter): Promise<AuditEntry[]>;
  purgeSessions(): Promise<number>;
}

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');
const normalizeEmail = (e: string) => e.trim().toLowerCase();

/**
 * Free text an operator typed (a form refused, what it was refused for): kept screened for card
 * numbers and bounded, its NUL characters shown as U+FFFD (PostgreSQL's text refuses them, and
 * the entry would be lost with the request).
 */
const screenedText = (s: string, max = 500) => scrubPans(s).replace(/\u0000/g, '\uFFFD').slice(0, max);
/** An audit entry's detail with every string in it screened, at any depth. */
const screened = (v: unknown): unknown => typeof v === 'string' ? screenedText(v)
  : Array.isArray(v) ? v.map(screened)
    : v !== null && typeof v === 'object' ? Object.fromEntries(Object.entries(v).map(([k, x]) => [screenedText(k), screened(x)])) : v;

/** Dashboard users, sessions and the audit log. */
export function createDashboardAuth(deps: { store: DashboardStore; clock: Clock; ids: Ids; throttle: Throttle }): DashboardAuth {
  const { store, clock, ids, throttle } = deps;
  const live = (s: SessionRecord, now: number) => s.expiresAt > now && s.seenAt + sessionTtl.idleMs > now;
  const strangers = createRefusalAllowance();

  const auth: DashboardAuth = {
    async addUser(input) {
      const email = normalizeEmail(input.email);
      const problem = emailProblem(email) ?? passwordProblem(input.password);
      if (problem) return fail(problem);
      // A scope is a merchant's id or none: an empty or malformed one would be read as a scope by
      // some pages and as none (every merchant) by others.
      if (input.merchantId !== undefined && !/^[0-9a-f]{32}$/.test(input.merchantId)) return fail('merchantId must be a merchant\'s id, or absent for a gateway-wide user');
      const now = clock.now();
      const user = { id: ids.hex32(), email, role: input.role, merchantId: input.merchantId, failedSignIns: 0, lockedUntil: undefined, createdAt: now };
      if (!(await store.insertUser({ ...user, passwordHash: await hashPassword(input.password) }))) return fail(`a user ${email} exists already`);
      return ok(user);
    },

    async setPassword(email, password) {
      const u = await store.userByEmail(normalizeEmail(email));
      if (!u) return fail(`no user ${email}`);
      const problem = passwordProblem(password);
      if (problem) return fail(problem);
      await store.setPassword(u.id, await hashPassword(password), clock.now());
      const { passwordHash: _, ...user } = u;
      return ok({ ...user, failedSignIns: 0, lockedUntil: undefined });
    },

    users: () => store.users(),

    async signIn(emailGiven, password, ip) {
      const email = normalizeEmail(emailGiven);
      const source = `sign-in:${signInSource(ip)}`;
      // Every try is counted against its source before its password is checked (and taken back if
      // it proves right), so tries made at once count against one another, on one node or several:
      // a refused source learns nothing and costs no hash.
      const counted = await throttle.take(source, signInThrottle.failures, signInThrottle.windowMs);
      if (!counted.allowed) {
        await auth.audit({ user: undefined, email, ip }, { action: 'session.sign_in', outcome: 'refused', detail: { reason: 'address_throttled' } });
        return fail('throttled');
      }
      // No user's email holds a control character (PostgreSQL would refuse a NUL in the lookup).
      const u = hasControlCharacter(email) ? undefined : await store.userByEmail(email);
      const now = clock.now();
      if (!u) {
        // An unknown email costs the same hash as a known one.
        await verifyPassword(password, await decoyHash());
        await auth.audit({ user: undefined, email, ip }, { action: 'session.sign_in', outcome: 'refused', detail: { reason: 'unknown_user' } });
        return fail('invalid');
      }
      const { passwordHash: _, ...user } = u;
      // The account's lockout counts the same way: a try is a failure until its password is right.
      const begun = await store.changeSignInState(u.id, (s) => beginSignIn(s, now), now);
      if (!begun?.changed) {
        // As long as a wrong password takes: a locked account answers no faster than any other.
        await verifyPassword(password, await decoyHash());
        await auth.audit({ user, ip }, { action: 'session.sign_in', outcome: 'refused', detail: { reason: 'locked' } });
        return fail('locked');
      }
      if (!(await verifyPassword(password, u.passwordHash))) {
        const after = await store.changeSignInState(u.id, (s) => afterWrongPassword(s, now), now);
        const locked = after?.changed === true && after.state.lockedUntil !== undefined;
        await auth.audit({ user, ip }, { action: 'session.sign_in', outcome: 'refused', detail: { reason: 'wrong_password', ...(locked ? { locked: true } : {}) } });
        return fail(locked ? 'locked' : 'invalid');
      }
      await throttle.giveBack(source, counted.at);
      await store.setSignInState(u.id, { failedSignIns: 0, lockedUntil: undefined }, now);
      const token = ids.secret(32);
      const record: SessionRecord = {
        tokenHash: sha256(token), userId: u.id, csrfToken: ids.secret(24), ip, createdAt: now, seenAt: now, expiresAt: now + sessionTtl.maxMs,
      };
      if (!(await store.insertSession(record, u.passwordHash))) {
        // The password changed while this one was checked: it is the old one, and signs nobody in.
        await auth.audit({ user, ip }, { action: 'session.sign_in', outcome: 'refused', detail: { reason: 'password_changed' } });
        return fail('invalid');
      }
      await auth.audit({ user, ip }, { action: 'session.sign_in', outcome: 'ok' });
      return ok({ token, session: { user: { ...user, failedSignIns: 0, lockedUntil: undefined }, csrfToken: record.csrfToken, tokenHash: record.tokenHash } });
    },

    async session(token) {
      if (!token || token.length > 128) return undefined;
      const s = await store.session(sha256(token));
      const now = clock.now();
      if (!s || !live(s, now)) return undefined;
      const u = await store.userById(s.userId);
      if (!u) return undefined;
      // Restarting the idle timer at most once a minute keeps page views from writing each time.
      if (now - s.seenAt > 60_000) await store.touchSession(s.tokenHash, now);
      const { passwordHash: _, ...user } = u;
      return { user, csrfToken: s.csrfToken, tokenHash: s.tokenHash };
    },

    async signOut(token, ip) {
      const s = await auth.session(token);
      if (!s) return;
      await store.deleteSession(s.tokenHash);
      await auth.audit({ user: s.user, ip }, { action: 'session.sign_out', outcome: 'ok' });
    },

    async audit(actor, entry) {
      // A stranger's refusals (no session, no operator token) are bounded per source (an IPv6 /64
      // is one, as for the sign-in throttle) and kind of refusal: a flood of one kind does not
      // hide the first of another (an address the throttle paused). The kind is the action's
      // family (`admin_api`, `request`, `session`) and reason, never a path or method the caller
      // chooses, which would give each of them an allowance of its own.
      if (!actor.user && !actor.operator && entry.outcome === 'refused') {
        const now = clock.now();
        const reason = typeof entry.detail?.reason === 'string' ? entry.detail.reason : '';
        const family = /^[a-z_]+/.exec(entry.action)?.[0] ?? '';
        const allowed = strangers.take(`${signInSource(actor.ip)} ${family === 'admin_api' ? family : entry.action} ${reason}`, now);
        if (allowed.summary) {
          const s = allowed.summary;
          await store.appendAudit({
            id: ids.hex32(), at: now, userId: undefined, email: 'refusals of an unauthenticated address', merchantId: undefined,
            action: s.kind === 'limited' ? 'audit.refusals_limited' : 'audit.refusals_counted', subject: undefined, outcome: 'refused', ip: actor.ip,
            detail: s.kind === 'limited'
              ? { perWindow: s.perWindow, countedUntil: new Date(s.until).toISOString() }
              : { count: s.count, from: new Date(s.from).toISOString(), to: new Date(s.to).toISOString() },
          });
        }
        if (!allowed.write) return;
      }
      await store.appendAudit({
        // What was typed into a sign-in form's email box is anyone's text (a card number pasted by
        // mistake included): kept screened and bounded, as any free text is.
        id: ids.hex32(), at: clock.now(), userId: actor.user?.id, email: actor.user?.email ?? screenedText(actor.email ?? '', 254),
        merchantId: entry.merchantId ?? actor.user?.merchantId, action: entry.action, subject: entry.subject === undefined ? undefined : screenedText(entry.subject),
        outcome: entry.outcome, detail: screened(entry.detail ?? {}) as Record<string, unknown>, ip: actor.ip,
      });
    },

    auditLog: (filter) => store.audit(filter),
    purgeSessions: () => store.deleteExpiredSessions(clock.now()),
  };
  return auth;
}

/** A random token for the sign-in form's double-submit cookie. */
export const newFormToken = (): string => randomBytes(24).toString('base64url');
