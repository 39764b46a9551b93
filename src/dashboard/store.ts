import type { AuditEntry, DashboardUser, SignInState } from './model.ts';

export interface StoredUser extends DashboardUser {
  readonly passwordHash: string;
}

export interface SessionRecord {
  readonly tokenHash: string;
  readonly userId: string;
  readonly csrfToken: string;
  readonly ip: string;
  readonly createdAt: number;
  readonly seenAt: number;
  readonly expiresAt: number;
}

export interface AuditFilter {
  readonly merchantId?: string | undefined;
  /** Entries older than this (at, id) cursor. */
  readonly before?: { at: number; id: string } | undefined;
  readonly limit: number;
}

/** What the dashboard keeps: its users, their sessions, the audit log. */
export interface DashboardStore {
  /** False when the email is taken. */
  insertUser(u: StoredUser): Promise<boolean>;
  userByEmail(email: string): Promise<StoredUser | undefined>;
  userById(id: string): Promise<StoredUser | undefined>;
  users(): Promise<DashboardUser[]>;
  /** Sets a user's password and ends every session of the user, in one transaction. */
  setPassword(userId: string, passwordHash: string, at: number): Promise<void>;
  /** Records a sign-in's effect on the failure count and lock. */
  setSignInState(userId: string, state: SignInState, at: number): Promise<void>;
  /**
   * Changes the failure count and lock from what they are (no other change of them in between, on
   * any node): `change` gets the current state and answers the next, or undefined for no change.
   * Answers that next state (or the current one, unchanged), or undefined when there is no such user.
   */
  changeSignInState(userId: string, change: (current: SignInState) => SignInState | undefined, at: number): Promise<{ changed: boolean; state: SignInState } | undefined>;
  /** Stores a session if the user's password is still the one checked (`checkedHash`); false if it changed meanwhile. */
  insertSession(s: SessionRecord, checkedHash: string): Promise<boolean>;
  session(tokenHash: string): Promise<SessionRecord | undefined>;
  touchSession(tokenHash: string, seenAt: number): Promise<void>;
  deleteSession(tokenHash: string): Promise<void>;
  deleteExpiredSessions(now: number): Promise<number>;
  appendAudit(e: AuditEntry): Promise<void>;
  audit(filter: AuditFilter): Promise<AuditEntry[]>;
}
