/**
 * The dashboard's people and what each may do. Pure rules: roles, scopes, the lockout rule, the
 * password rule and the audit entry's shape.
 */
import { sourceOf } from '../runtime/source-address.ts';

/** admin: everything, configuration and the audit log included; operator: payments and their actions; viewer: reads only. */
export const roles = ['admin', 'operator', 'viewer'] as const;
export type Role = (typeof roles)[number];
export const isRole = (s: unknown): s is Role => typeof s === 'string' && (roles as readonly string[]).includes(s);

export interface DashboardUser {
  readonly id: string;
  readonly email: string;
  readonly role: Role;
  /** Set: this user sees and acts on one merchant only. */
  readonly merchantId: string | undefined;
  readonly failedSignIns: number;
  readonly lockedUntil: number | undefined;
  readonly createdAt: number;
}

export const canAct = (u: Pick<DashboardUser, 'role'>): boolean => u.role === 'admin' || u.role === 'operator';
export const canConfigure = (u: Pick<DashboardUser, 'role'>): boolean => u.role === 'admin';
/** Key versions and other gateway-wide settings: only an admin who is not limited to one merchant. */
export const isGatewayAdmin = (u: Pick<DashboardUser, 'role' | 'merchantId'>): boolean => u.role === 'admin' && u.merchantId === undefined;
/** Whether a user may see a merchant's data. */
export const mayView = (u: Pick<DashboardUser, 'merchantId'>, merchantId: string): boolean => u.merchantId === undefined || u.merchantId === merchantId;

/** Consecutive failed sign-ins that lock an account, and for how long. */
export const lockout = { failures: 5, lockMs: 30 * 60_000 } as const;

/** An account's failed sign-ins in a row and its lock. */
export interface SignInState {
  readonly failedSignIns: number;
  readonly lockedUntil: number | undefined;
}

/**
 * A sign-in about to have its password checked: refused while the account is locked, or while the
 * tries counted already (failures, and tries whose password is still being checked) have used
 * every allowed failure; otherwise counted now, as a failure until its password proves right. So
 * tries made at once, on one node or several, are counted against one another: a burst of guesses
 * gets no more checks than the lockout allows.
 *
 * The try that uses up the count also locks the account, until its own outcome says otherwise (a
 * right password clears the lock): were that outcome never written (the node died, the database
 * failed, while its password was checked), the count alone would refuse every sign-in for ever, the
 * right password included; the lock ends, and with it the count.
 */
export function beginSignIn(s: SignInState, now: number): SignInState | undefined {
  if (s.lockedUntil !== undefined && s.lockedUntil > now) return undefined;
  // A lock that ended starts the count over.
  const counted = s.lockedUntil !== undefined ? 0 : s.failedSignIns;
  if (counted >= lockout.failures) return undefined;
  const failedSignIns = counted + 1;
  return { failedSignIns, lockedUntil: failedSignIns >= lockout.failures ? now + lockout.lockMs : undefined };
}

/**
 * What a wrong password changes, its try counted already by `beginSignIn`: the fifth in a row
 * locks the account (and its count starts over); undefined when nothing changes.
 */
export function afterWrongPassword(s: SignInState, now: number): SignInState | undefined {
  return s.failedSignIns >= lockout.failures ? { failedSignIns: 0, lockedUntil: now + lockout.lockMs } : undefined;
}

/**
 * Failed sign-ins from one source that refuse further attempts from it, over a rolling window: the
 * account lockout stops guessing one account's password, this stops trying one password (or a few)
 * across many accounts. A correct password from a refused source is refused too, until the window
 * has room again; the count lives in the database, so every node of a cluster sees it.
 */
export const signInThrottle = { failures: 20, windowMs: 15 * 60_000 } as const;

/** The source a sign-in is counted against (see {@link sourceOf}). */
export const signInSource = sourceOf;

/** Long enough that guessing is hopeless under the lockout; no composition rules (they make passwords worse). */
export const passwordProblem = (p: string): string | undefined =>
  p.length < 12 ? 'the password must be at least 12 characters' : p.length > 1024 ? 'the password must be at most 1024 characters' : undefined;

export const emailProblem = (e: string): string | undefined =>
  /^[^\s@]+@[^\s@]+$/.test(e) && e.length <= 254 ? undefined : 'the email must look like name@example.com';

/** How long a session lives without use, and at most. */
export const sessionTtl = { idleMs: 15 * 60_000, maxMs: 12 * 3600_000 } as const;

export interface AuditEntry {
  readonly id: string;
  readonly at: number;
  readonly userId: string | undefined;
  readonly email: string;
  readonly merchantId: string | undefined;
  /** e.g. `payment.capture`, `session.sign_in`, `merchant.create`. */
  readonly action: string;
  readonly subject: string | undefined;
  readonly outcome: 'ok' | 'refused' | 'failed';
  readonly detail: Readonly<Record<string, unknown>>;
  readonly ip: string;
}
