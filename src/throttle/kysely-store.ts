import { sql, type Kysely } from 'kysely';
import type { UnitOfWork } from '../storage/unit-of-work.ts';
import type { ThrottleStore } from './store.ts';

/** Rate-limit windows live in the database so every node of a cluster sees the same counts. */
export function createThrottleStore(uow: UnitOfWork): ThrottleStore {
  const { db } = uow;
  const opts = { locking: uow.kind === 'postgres' };
  return {
    hit: (key, now, since, limit) => uow.run(async (tx) => {
      // Serialises hits on one key across PostgreSQL sessions; SQLite has one writer anyway.
      if (opts.locking) await sql`select pg_advisory_xact_lock(hashtext(${key}))`.execute(tx);
      await tx.deleteFrom('rate_hits').where('key', '=', key).where('at', '<=', since).execute();
      const rows = await tx.selectFrom('rate_hits').select('at').where('key', '=', key).orderBy('at').execute();
      const allowed = rows.length < limit;
      if (allowed) await tx.insertInto('rate_hits').values({ key, at: now }).execute();
      return { allowed, oldest: rows[0]?.at ?? (allowed ? now : undefined) };
    }),
    async unhit(key, at) {
      // Two hits of one key in one millisecond are alike: whichever goes, one goes.
      const one = uow.kind === 'postgres' ? sql`ctid` : sql`rowid`;
      await sql`delete from rate_hits where ${one} in (select ${one} from rate_hits where key = ${key} and at = ${at} limit 1)`.execute(db);
    },
    async purge(before) {
      const r = await db.deleteFrom('rate_hits').where('at', '<=', before).executeTakeFirst();
      return Number(r.numDeletedRows);
    },
  };
}
