import { PostgresAdapter, type Selectable } from 'kysely';
import type { UnitOfWork } from '../storage/unit-of-work.ts';
import type { AuditLogTable, DashboardUsersTable } from '../storage/schema.ts';
import { isRole, type AuditEntry } from './model.ts';
import type { DashboardStore, StoredUser } from './store.ts';

const toUser = (r: Selectable<DashboardUsersTable>): StoredUser => ({
  id: r.id, email: r.email, role: isRole(r.role) ? r.role : 'viewer', merchantId: r.merchant_id ?? undefined,
  failedSignIns: Number(r.failed_sign_ins), lockedUntil: r.locked_until === null ? undefined : Number(r.locked_until),
  createdAt: Number(r.created_at), passwordHash: r.password_hash,
});

const toAudit = (r: Selectable<AuditLogTable>): AuditEntry => ({
  id: r.id, at: Number(r.at), userId: r.user_id ?? undefined, email: r.email, merchantId: r.merchant_id ?? undefined,
  action: r.action, subject: r.subject ?? undefined, outcome: r.outcome === 'ok' || r.outcome === 'refused' ? r.outcome : 'failed',
  detail: JSON.parse(r.detail) as Record<string, unknown>, ip: r.ip,
});

const isUniqueViolation = (err: unknown) => /unique|duplicate key/i.test(String((err as Error)?.message ?? err));

export function createDashboardStore(uow: UnitOfWork): DashboardStore {
  const { db } = uow;
  const locking = db.getExecutor().adapter instanceof PostgresAdapter;
  return {
    async insertUser(u) {
      try {
        await uow.run(async (tx) => {
          await tx.insertInto('dashboard_users').values({
            id: u.id, email: u.email, role: u.role, merchant_id: u.merchantId ?? null, password_hash: u.passwordHash,
            failed_sign_ins: 0, locked_until: null, created_at: u.createdAt, updated_at: u.createdAt,
          }).execute();
        });
        return true;
      } catch (err) {
        if (isUniqueViolation(err)) return false;
        throw err;
      }
    },
    async userByEmail(email) {
      const r = await db.selectFrom('dashboard_users').selectAll().where('email', '=', email).executeTakeFirst();
      return r && toUser(r);
    },
    async userById(id) {
      const r = await db.selectFrom('dashboard_users').selectAll().where('id', '=', id).executeTakeFirst();
      return r && toUser(r);
    },
    async users() {
      return (await db.selectFrom('dashboard_users').selectAll().orderBy('email').execute()).map(toUser)
        .map(({ passwordHash: _, ...u }) => u);
    },
    async setPassword(userId, passwordHash, at) {
      await uow.run(async (tx) => {
        await tx.updateTable('dashboard_users').set({ password_hash: passwordHash, failed_sign_ins: 0, locked_until: null, updated_at: at })
          .where('id', '=', userId).execute();
        await tx.deleteFrom('dashboard_sessions').where('user_id', '=', userId).execute();
      });
    },
    async setSignInState(userId, state, at) {
      await uow.run(async (tx) => {
        await tx.updateTable('dashboard_users').set({ failed_sign_ins: state.failedSignIns, locked_until: state.lockedUntil ?? null, updated_at: at })
          .where('id', '=', userId).execute();
      });
    },
    changeSignInState: (userId, change, at) => uow.run(async (tx) => {
      // The row's lock orders concurrent sign-ins on PostgreSQL; SQLite has one writer anyway.
      let q = tx.selectFrom('dashboard_users').select(['failed_sign_ins', 'locked_until']).where('id', '=', userId);
      if (uow.kind === 'postgres') q = q.forUpdate();
      const r = await q.executeTakeFirst();
      if (!r) return undefined;
      const current = { failedSignIns: Number(r.failed_sign_ins), lockedUntil: r.locked_until === null ? undefined : Number(r.locked_until) };
      const next = change(current);
      if (!next) return { changed: false, state: current };
      await tx.updateTable('dashboard_users').set({ failed_sign_ins: next.failedSignIns, locked_until: next.lockedUntil ?? null, updated_at: at })
        .where('id', '=', userId).execute();
      return { changed: true, state: next };
    }),
    async insertSession(s, checkedHash) {
      return uow.run(async (tx) => {
        // The user's row is held (PostgreSQL; SQLite has one writer) while its hash is compared, so
        // a password change either comes first (and this sign-in finds another hash) or waits for
        // this session and then ends it with the others.
        let q = tx.selectFrom('dashboard_users').select('password_hash').where('id', '=', s.userId);
        if (locking) q = q.forUpdate();
        if ((await q.executeTakeFirst())?.password_hash !== checkedHash) return false;
        await tx.insertInto('dashboard_sessions').values({
          token_hash: s.tokenHash, user_id: s.userId, csrf_token: s.csrfToken, ip: s.ip,
          created_at: s.createdAt, seen_at: s.seenAt, expires_at: s.expiresAt,
        }).execute();
        return true;
      });
    },
    async session(tokenHash) {
      const r = await db.selectFrom('dashboard_sessions').selectAll().where('token_hash', '=', tokenHash).executeTakeFirst();
      return r && {
        tokenHash: r.token_hash, userId: r.user_id, csrfToken: r.csrf_token, ip: r.ip,
        createdAt: Number(r.created_at), seenAt: Number(r.seen_at), expiresAt: Number(r.expires_at),
      };
    },
    async touchSession(tokenHash, seenAt) {
      await uow.run(async (tx) => { await tx.updateTable('dashboard_sessions').set({ seen_at: seenAt }).where('token_hash', '=', tokenHash).execute(); });
    },
    async deleteSession(tokenHash) {
      await uow.run(async (tx) => { await tx.deleteFrom('dashboard_sessions').where('token_hash', '=', tokenHash).execute(); });
    },
    async deleteExpiredSessions(now) {
      return uow.run(async (tx) => {
        const r = await tx.deleteFrom('dashboard_sessions').where('expires_at', '<=', now).executeTakeFirst();
        return Number(r.numDeletedRows);
      });
    },
    async appendAudit(e) {
      await uow.run(async (tx) => {
        await tx.insertInto('audit_log').values({
          id: e.id, at: e.at, user_id: e.userId ?? null, email: e.email, merchant_id: e.merchantId ?? null, action: e.action,
          subject: e.subject ?? null, outcome: e.outcome, detail: JSON.stringify(e.detail), ip: e.ip,
        }).execute();
      });
    },
    async audit(filter) {
      let q = db.selectFrom('audit_log').selectAll();
      if (filter.merchantId !== undefined) q = q.where('merchant_id', '=', filter.merchantId);
      const before = filter.before;
      if (before) q = q.where((eb) => eb(eb.refTuple('at', 'id'), '<', eb.tuple(before.at, before.id)));
      return (await q.orderBy('at', 'desc').orderBy('id', 'desc').limit(filter.limit).execute()).map(toAudit);
    },
  };
}
