import type { Clock } from '../runtime/clock.ts';
import type { VaultStore } from './store.ts';

/**
 * Erases the card numbers of deleted instruments (/v1 registrations, executions instruments, the
 * one-time instruments an authorization spent): a card no instrument may charge any more is kept
 * only as its masked view and fingerprint. Its number's ciphertext is blanked, so no key, old or
 * current, recovers it; the data key that sealed it stays wrapped, opening nothing (an older
 * release's key rotation, during a rolling upgrade, re-wraps it as any card), and this release's
 * rotation skips it.
 *
 * A card is left for a later pass while a payment with it is still open (`inUse`): a cascade's next
 * account, or the reconciler moving one on, charges the card again. Every new charge of a deleted
 * instrument is refused where it would be recorded, so none can begin after the check.
 */
export function createCardErasure(deps: { store: VaultStore; clock: Clock; inUse: (cardId: string) => Promise<boolean>; ephemeralTtlMs: number }) {
  const { store, clock, inUse } = deps;
  return {
    /**
     * One pass: one-time instruments that lapsed unused are ended (they are shown deleted already),
     * then every deleted instrument's card and every released card (a renewed registration's card
     * before) not yet erased is erased unless a payment with it is open; how many cards it erased.
     */
    async eraseDeleted(): Promise<number> {
      while (await store.endLapsedTransients(clock.now() - deps.ephemeralTtlMs, clock.now(), 500) === 500);
      let erased = 0;
      let released: { releasedAt: number; id: string } | undefined;
      for (;;) {
        const page = await store.releasedCards(released, 100);
        for (const c of page) if (!await inUse(c.id) && await store.eraseCard(c.id, clock.now())) erased++;
        if (page.length < 100) break;
        released = page.at(-1);
      }
      let after: { deletedAt: number; id: string } | undefined;
      for (;;) {
        const page = await store.instrumentsAwaitingErasure(after, 100);
        for (const i of page) {
          if (await inUse(i.cardId)) continue;
          if (await store.eraseCard(i.cardId, clock.now())) erased++;
        }
        if (page.length < 100) return erased;
        const last = page.at(-1)!;
        after = { deletedAt: last.deletedAt, id: last.id };
      }
    },
  };
}
