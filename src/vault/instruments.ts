import { randomUUID } from 'node:crypto';
import type { Clock } from '../runtime/clock.ts';
import { checkCard } from '../payments/service.ts';
import type { PaymentError } from '../payments/errors.ts';
import type { Cvv, CardInput, MaskedCard } from './card.ts';
import type { VaultService } from './service.ts';
import type { InstrumentRecord, InstrumentStore } from './store.ts';

export interface Instrument extends InstrumentRecord {
  readonly card: MaskedCard;
  /** Keyed fingerprint of the card number: equal for the same card, reveals nothing. */
  readonly fingerprint: string;
}

export interface NewInstrument {
  readonly merchantId: string;
  readonly holderReference: string;
  readonly card: CardInput;
  readonly storeInstrument: boolean;
  readonly futureUsage: string | undefined;
}

export interface InstrumentService {
  create(input: NewInstrument): Promise<{ ok: true; value: Instrument } | { ok: false; error: PaymentError }>;
  /** The merchant's instrument; another merchant's id is simply not found. */
  get(merchantId: string, id: string): Promise<Instrument | undefined>;
  /** Marks it deleted; it can no longer be authorized. False when not found. */
  remove(merchantId: string, id: string): Promise<boolean>;
  /**
   * The security code given with the instrument, handed out once for the first authorization and
   * then forgotten. It lives in this process's memory only (never in a row), for at most `cvvTtlMs`.
   */
  takeCvv(instrumentId: string): Cvv | undefined;
}

export function createInstrumentService(deps: { store: InstrumentStore; vault: VaultService; clock: Clock; cvvTtlMs?: number }): InstrumentService {
  const { store, vault, clock } = deps;
  const ttl = deps.cvvTtlMs ?? 15 * 60_000;
  const cvvs = new Map<string, { cvv: Cvv; until: number }>();
  const sweep = () => {
    const now = clock.now();
    for (const [k, v] of cvvs) if (v.until <= now) cvvs.delete(k);
  };

  async function get(merchantId: string, id: string): Promise<Instrument | undefined> {
    const i = await store.instrument(id);
    if (!i || i.merchantId !== merchantId) return undefined;
    const card = await vault.masked(i.cardId);
    const fp = await vault.fingerprintOf(i.cardId);
    return card && fp ? { ...i, card, fingerprint: fp } : undefined;
  }

  return {
    async create(input) {
      const now = clock.now();
      const refused = checkCard(input.card, now);
      if (refused) return { ok: false, error: refused };
      const sealed = vault.sealCard(input.merchantId, input.card);
      const record: InstrumentRecord = {
        id: randomUUID(), merchantId: input.merchantId, cardId: sealed.record.id, holderReference: input.holderReference,
        status: input.storeInstrument ? 'enabled' : 'transient', futureUsage: input.futureUsage,
        storeInstrument: input.storeInstrument, createdAt: now, updatedAt: now,
      };
      await store.insert(sealed.record, record);
      sweep();
      if (input.card.cvv) cvvs.set(record.id, { cvv: input.card.cvv, until: now + ttl });
      return { ok: true, value: { ...record, card: sealed.masked, fingerprint: sealed.record.fingerprint } };
    },
    get,
    async remove(merchantId, id) {
      const i = await store.instrument(id);
      if (!i || i.merchantId !== merchantId || i.status === 'deleted') return false;
      await store.setStatus(id, 'deleted', clock.now());
      cvvs.delete(id);
      return true;
    },
    takeCvv(instrumentId) {
      sweep();
      const held = cvvs.get(instrumentId);
      cvvs.delete(instrumentId);
      return held?.cvv;
    },
  };
}
