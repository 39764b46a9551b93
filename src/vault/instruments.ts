import { uuid } from '../runtime/ids.ts';
import type { Clock } from '../runtime/clock.ts';
import { checkCard, isExpired, type Cvv, type CardInput, type MaskedCard } from './card.ts';
import type { CardError } from './errors.ts';
import type { VaultService } from './service.ts';
import type { CvvCache } from './cvv-cache.ts';
import type { InstrumentRecord, InstrumentStore } from './store.ts';
import type { Tx, UnitOfWork } from '../storage/unit-of-work.ts';

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
  /** `acknowledge` writes the caller's answer in the unit of work that creates it (the idempotency key's stored answer). */
  create(input: NewInstrument, acknowledge?: (tx: Tx, i: Instrument) => Promise<void>): Promise<{ ok: true; value: Instrument } | { ok: false; error: CardError }>;
  /** The merchant's instrument; another merchant's id is simply not found. */
  get(merchantId: string, id: string): Promise<Instrument | undefined>;
  /**
   * Marks it deleted; it can no longer be authorized. False when not found. `acknowledge` writes the
   * caller's answer in the unit of work that deletes it (an idempotency key's answer commits with it).
   */
  remove(merchantId: string, id: string, acknowledge?: (tx: Tx) => Promise<void>): Promise<boolean>;
  /**
   * The security code given with the instrument, handed out once for the first authorization and
   * then forgotten. It is held by the CVV holder (memory on the embedded store, sealed rows on PostgreSQL) for at most `cvvTtlMs`.
   */
  takeCvv(instrumentId: string): Promise<Cvv | undefined>;
  /** Whether a security code is still held for the instrument (false after use or expiry, and after a restart of the embedded store). */
  holdsCvv(instrumentId: string): Promise<boolean>;
  /** An ephemeral (`storeInstrument: false`) instrument is spent by its first authorization, in that authorization's unit of work. */
  /**
   * Holds the instrument for the authorization recorded in this unit of work: a saved one must still
   * be enabled (a deletion committed since it was read wins), an ephemeral one is spent now, by
   * exactly one authorization. False when it can no longer fund one.
   */
  holdIn(tx: Tx, instrument: Pick<InstrumentRecord, 'id' | 'status'>): Promise<boolean>;
  /**
   * A transient instrument kept as a saved one by the authorization that asked so
   * (`storeInstrument: true`), in that authorization's unit of work; false when it was spent or
   * ended meanwhile.
   */
  keepIn(tx: Tx, instrument: Pick<InstrumentRecord, 'id'>): Promise<boolean>;
  /**
   * A saved instrument whose authorization (the one that kept it or the first to charge it) ended so
   * that its card does not stand (see payments' storedCardStands), deleted in that ending's unit of
   * work, its held code with it; false when it was not enabled, or when `chargedElsewhere` (the
   * payments', asked once the instrument is held) says another payment has charged its card (the
   * holder did pay with it).
   */
  unkeepIn(tx: Tx, instrumentId: string, chargedElsewhere: (cardId: string) => Promise<boolean>): Promise<boolean>;
  /** The holder's saved (enabled) instruments, newest first. */
  savedOf(merchantId: string, holderReference: string): Promise<Instrument[]>;
}

/**
 * Vault instruments. A saved one (`storeInstrument: true`) stays `enabled` until deleted; an
 * ephemeral one is `transient` and ends — shown as `deleted` — at its first authorization or
 * `ephemeralTtlMs` after creation, whichever comes first.
 */
/** A holder's saved cards listed at most, and the most read to find them (expired ones are passed over). */
const savedListed = 50;
const savedRead = 1000;

export function createInstrumentService(deps: {
  uow: UnitOfWork;
  store: InstrumentStore; vault: VaultService; clock: Clock; cvvs: CvvCache; cvvTtlMs?: number; ephemeralTtlMs?: number;
}): InstrumentService {
  const { uow, store, vault, clock, cvvs } = deps;
  const cvvTtl = deps.cvvTtlMs ?? 15 * 60_000;
  const ephemeralTtl = deps.ephemeralTtlMs ?? 30 * 60_000;
  const key = (id: string) => `instrument:${id}`;

  async function view(i: InstrumentRecord): Promise<Instrument | undefined> {
    const ended = i.status === 'transient' && i.createdAt + ephemeralTtl <= clock.now();
    const card = await vault.masked(i.cardId);
    const fp = await vault.fingerprintOf(i.cardId);
    return card && fp ? { ...i, ...(ended ? { status: 'deleted' as const } : {}), card, fingerprint: fp } : undefined;
  }

  // A /v1 registration (an instrument with its entity) is that entity's alone to pay with, read or
  // delete, and its end is told by a registration.deleted notification: not an instrument of a
  // dialect that has no entities.
  const executionsInstrument = (i: InstrumentRecord | undefined, merchantId: string): i is InstrumentRecord =>
    i !== undefined && i.merchantId === merchantId && i.entityId === undefined;

  async function get(merchantId: string, id: string): Promise<Instrument | undefined> {
    const i = await store.instrument(id);
    if (!executionsInstrument(i, merchantId)) return undefined;
    return view(i);
  }

  return {
    async create(input, acknowledge) {
      const now = clock.now();
      const refused = checkCard(input.card, now);
      if (refused) return { ok: false, error: refused };
      const sealed = vault.sealCard(input.merchantId, input.card);
      const record: InstrumentRecord = {
        id: uuid(), merchantId: input.merchantId, cardId: sealed.record.id, holderReference: input.holderReference,
        status: input.storeInstrument ? 'enabled' : 'transient', futureUsage: input.futureUsage,
        storeInstrument: input.storeInstrument, createdAt: now, updatedAt: now,
      };
      const instrument: Instrument = { ...record, card: sealed.masked, fingerprint: sealed.record.fingerprint };
      // The code is held before the instrument commits with its answer: a failure in between leaves
      // no answer a retry would replay for an instrument without its code (a code held for an
      // instrument never made just expires).
      if (input.card.cvv) await cvvs.put(key(record.id), input.card.cvv, now + Math.min(cvvTtl, input.storeInstrument ? cvvTtl : ephemeralTtl));
      await uow.run(async (tx) => {
        const w = store.writer(tx);
        await w.insertCard(sealed.record);
        await w.insertInstrument(record);
        await acknowledge?.(tx, instrument);
      });
      return { ok: true, value: instrument };
    },
    get,
    async remove(merchantId, id, acknowledge) {
      const i = await store.instrument(id);
      if (!executionsInstrument(i, merchantId) || i.status === 'deleted') return false;
      // The held code goes first: a failure after it leaves an instrument without its code (which a
      // retry then deletes), never a deletion committed whose answer a failure then loses.
      await cvvs.drop(key(id));
      await uow.run(async (tx) => {
        await store.writer(tx).setInstrumentStatus(id, 'deleted', clock.now());
        await acknowledge?.(tx);
      });
      return true;
    },
    takeCvv: (instrumentId) => cvvs.take(key(instrumentId)),
    holdsCvv: (instrumentId) => cvvs.has(key(instrumentId)),
    async keepIn(tx, instrument) {
      return store.writer(tx).endTransient(instrument.id, 'enabled', clock.now());
    },
    async unkeepIn(tx, instrumentId, chargedElsewhere) {
      if ((await store.writer(tx).deleteUnless(instrumentId, chargedElsewhere, clock.now())) === undefined) return false;
      uow.afterCommit(tx, () => { void cvvs.drop(key(instrumentId)).catch(() => undefined); });
      return true;
    },
    async holdIn(tx, instrument) {
      const w = store.writer(tx);
      // Spent only while still transient: another authorization may have kept it as a saved one meanwhile.
      return instrument.status === 'transient' ? w.endTransient(instrument.id, 'deleted', clock.now()) : w.holdEnabled(instrument.id);
    },
    async savedOf(merchantId, holderReference) {
      // A card past its expiry would be offered, then refused when the shopper picks it. Its expiry
      // is in the card's view, so expired ones are dropped page by page until 50 usable are found:
      // dropped after one page's limit, newer expired cards would hide an older card still valid.
      // The reading stops after 1,000 cards, so a holder with a great many expired ones costs a bounded read.
      // The same card saved again (by its fingerprint) is listed once, as its newest instrument (the
      // list is newest first; a reissued card's new expiry is the one to offer): the shopper had
      // nothing to tell two entries of one card apart. The older one stays an instrument of its own.
      const now = clock.now();
      const usable: Instrument[] = [];
      const listed = new Set<string>();
      let after: { createdAt: number; id: string } | undefined;
      for (let read = 0; usable.length < savedListed && read < savedRead;) {
        const rows = await store.byHolder(merchantId, holderReference, { limit: 100, ...(after ? { after } : {}) });
        const views = await Promise.all(rows.filter((r) => r.status === 'enabled' && r.entityId === undefined).map(view));
        for (const v of views) {
          if (v === undefined || isExpired(v.card.expiryMonth, v.card.expiryYear, now) || listed.has(v.fingerprint)) continue;
          listed.add(v.fingerprint);
          usable.push(v);
        }
        read += rows.length;
        if (rows.length < 100) break;
        const last = rows.at(-1)!;
        after = { createdAt: last.createdAt, id: last.id };
      }
      return usable.slice(0, savedListed);
    },
  };
}
