import type { Clock } from '../runtime/clock.ts';
import type { VaultStore } from './store.ts';

/**
 * Erases the card numbers of deleted instruments (/v1 registrations, executions instruments, the
 * one-time instruments an authorization spent): a card no instrument may charge any more is kept
 * only as its masked view and fingerprint. Its wrapped data key and ciphertext are blanked, so no
 * key, old or current, recovers the number (crypto-shredding), and a key rotation has nothing of
 * it to re-wrap.
 *
 * A card is left for a later pass while a payment with it is still open (`inUse`): a cascade's next
 * account, or the reconciler moving one on, charges the card again. Every new charge of a deleted
 * instrument is refused where it would be recorded, so none can begin after the check.
 */
export function createCardErasure(deps: { store: VaultStore; clock: Clock; inUse: (cardId: string) => Promise<boolean> }) {
  const { store, clock, inUse } = deps;
  return {
    /** One pass over every deleted instrument whose card is not yet erased; how many cards it erased. */
    async eraseDeleted(): Promise<number> {
      let erased = 0;
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
