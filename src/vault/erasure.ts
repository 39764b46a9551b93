import type { Clock } from '../runtime/clock.ts';
import type { VaultStore } from './store.ts';

/**
 * Erases the card numbers no instrument may charge any more: a deleted instrument's (a /v1
 * registration, an executions instrument, a one-time instrument its authorization spent or that
 * lapsed unused) and a released one (the card a registration held before it was renewed). Such a
 * card is kept only as its masked view and fingerprint. Its number's ciphertext is blanked and the
 * data key that sealed it replaced by a random one, so no key the store holds recovers it, not even
 * from a copy of the old ciphertext (a copy of the old row holds the old wrapped key too, which the
 * master key still opens: see docs/architecture.md, "Card data"); the decoy stays wrapped, opening
 * nothing (an older release's key rotation, during a rolling upgrade, re-wraps it as any card), and
 * this release's rotation skips it.
 *
 * A card is left for a later pass while an operation that may charge it is open (`inUse`): a
 * cascade's next account, the reconciler moving one on, or a rebill recorded before the deletion
 * charges it. Every new charge of a deleted instrument is refused where it would be recorded, so
 * none can begin after the check.
 */
export function createCardErasure(deps: {
  store: VaultStore; clock: Clock; inUse: (cardId: string) => Promise<boolean>; ephemeralTtlMs: number;
  /** A fresh data key for the card, wrapped under the current version (the vault's `decoyKey`). */
  decoyKey: (cardId: string) => { keyVersion: number; wrappedKey: string };
}) {
  const { store, clock, inUse } = deps;

  /** Erases the card of each item of every page (read after the last of the one before); how many. */
  async function erasePages<T, C>(page: (after: C | undefined) => Promise<T[]>, cardOf: (item: T) => string, cursorOf: (item: T) => C): Promise<number> {
    let erased = 0;
    for (let after: C | undefined; ;) {
      const items = await page(after);
      for (const item of items) if (!await inUse(cardOf(item)) && await store.eraseCard(cardOf(item), clock.now(), deps.decoyKey(cardOf(item)))) erased++;
      if (items.length < 100) return erased;
      after = cursorOf(items.at(-1)!);
    }
  }

  return {
    /** One pass: lapsed one-time instruments ended (they are shown deleted already), then every card to erase; how many it erased. */
    async eraseDeleted(): Promise<number> {
      while (await store.endLapsedTransients(clock.now() - deps.ephemeralTtlMs, clock.now(), 500) === 500);
      const released = await erasePages((after: { releasedAt: number; id: string } | undefined) => store.releasedCards(after, 100), (c) => c.id, (c) => c);
      const deleted = await erasePages((after: { deletedAt: number; id: string } | undefined) => store.instrumentsAwaitingErasure(after, 100), (i) => i.cardId, (i) => ({ deletedAt: i.deletedAt, id: i.id }));
      return released + deleted;
    },
  };
}
