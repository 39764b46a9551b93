import type { Selectable } from 'kysely';
import type { UnitOfWork } from '../storage/unit-of-work.ts';
import type { ChallengesTable, Database } from '../storage/schema.ts';
import type { Currency } from '../money/money.ts';
import type { Challenge, ChallengePurpose, ChallengeStatus, ChallengeStore, SubjectKind } from './store.ts';

/**
 * Seals a PSP's 3-D Secure redirect for the store and opens it again (the vault's key ring): what a
 * PSP puts in it is its own business, and a PSP that writes the card number there (seen in
 * acquirers' test systems) must not leave it in a database column in plain text. The shopper's page
 * still forwards it as the PSP gave it.
 */
export interface RedirectBox {
  seal(plaintext: string, context: string): string;
  open(sealed: string, context: string): Promise<string>;
}

const redirectContext = (challengeId: string) => `challenge-redirect:${challengeId}`;

export function createChallengeStore(uow: UnitOfWork, box: RedirectBox): ChallengeStore {
  const { db } = uow;
  const toChallenge = async (r: Selectable<ChallengesTable>): Promise<Challenge> => ({
    id: r.id, merchantId: r.merchant_id, merchantName: r.merchant_name, purpose: r.purpose as ChallengePurpose,
    subject: { kind: r.subject_kind as SubjectKind, id: r.subject_id },
    amount: { amount: r.amount, currency: r.currency as Currency }, instrumentLabel: r.instrument_label,
    returnOrigins: JSON.parse(r.return_origins), status: r.status as ChallengeStatus,
    createdAt: r.created_at, expiresAt: r.expires_at, resolvedAt: r.resolved_at ?? undefined,
    // Rows written before redirects were sealed hold the JSON itself (a challenge lives minutes).
    ...(r.psp_redirect !== null ? { pspRedirect: JSON.parse(r.psp_redirect.startsWith('{') ? r.psp_redirect : await box.open(r.psp_redirect, redirectContext(r.id))) } : {}),
  });
  return {
    async insert(c) {
      await db.insertInto('challenges').values({
        id: c.id, merchant_id: c.merchantId, merchant_name: c.merchantName, purpose: c.purpose,
        subject_kind: c.subject.kind, subject_id: c.subject.id, amount: c.amount.amount, currency: c.amount.currency,
        instrument_label: c.instrumentLabel, return_origins: JSON.stringify(c.returnOrigins), status: c.status,
        created_at: c.createdAt, expires_at: c.expiresAt, resolved_at: c.resolvedAt ?? null,
        psp_redirect: c.pspRedirect ? box.seal(JSON.stringify(c.pspRedirect), redirectContext(c.id)) : null,
      }).execute();
    },
    async get(id) {
      const r = await db.selectFrom('challenges').selectAll().where('id', '=', id).executeTakeFirst();
      return r ? toChallenge(r) : undefined;
    },
    async resolve(id, status, at, openUntilAfter) {
      // One conditional update: of two racing requests exactly one sees a changed row.
      const r = await db.updateTable('challenges').set({ status, resolved_at: at })
        .where('id', '=', id).where('status', '=', 'open').where('expires_at', '>', openUntilAfter).executeTakeFirst();
      return Number(r.numUpdatedRows) === 1;
    },
    async openOf(kind, subjectId) {
      const r = await db.selectFrom('challenges').selectAll().where('subject_kind', '=', kind)
        .where('subject_id', '=', subjectId).where('status', '=', 'open').executeTakeFirst();
      return r ? toChallenge(r) : undefined;
    },
  };
}
