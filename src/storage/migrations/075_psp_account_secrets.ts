import type { Kysely } from 'kysely';
import type { Migration } from 'kysely/migration';

/**
 * PSP accounts keep their credentials sealed (`secrets`, under the vault's key ring) apart from the
 * settings shown back, and a request timeout of their own. Sealing needs the master key, which a
 * migration does not hold: rows written before stay readable as they are, and the gateway seals
 * their credentials at its next start. A timeout kept inside an account's settings (where the
 * `opp` connector took it) moves to its column here.
 */
export const pspAccountSecrets: Migration = {
  async up(db: Kysely<any>) {
    await db.schema.alterTable('psp_accounts').addColumn('secrets', 'text').execute();
    await db.schema.alterTable('psp_accounts').addColumn('timeout_ms', 'integer').execute();
    const rows = await db.selectFrom('psp_accounts').select(['id', 'settings']).execute() as { id: string; settings: string }[];
    for (const r of rows) {
      let settings: unknown;
      try { settings = JSON.parse(r.settings); } catch { continue; }
      if (typeof settings !== 'object' || settings === null || !('timeoutMs' in settings)) continue;
      const { timeoutMs, ...rest } = settings as Record<string, unknown>;
      const valid = typeof timeoutMs === 'number' && Number.isInteger(timeoutMs) && timeoutMs >= 1 && timeoutMs <= 120_000;
      await db.updateTable('psp_accounts').set({ settings: JSON.stringify(rest), ...(valid ? { timeout_ms: timeoutMs } : {}) }).where('id', '=', r.id).execute();
    }
  },
};
