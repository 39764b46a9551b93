import type { Clock } from '../runtime/clock.ts';
import type { Ids } from '../runtime/ids.ts';
import type { Entity, Merchant } from '../merchants/model.ts';
import { fail, ok, type Result } from '../runtime/result.ts';
import type { CardError } from './errors.ts';
import { addOutboxEvent, type OutboxEvent } from '../webhooks/outbox.ts';
import type { Tx, UnitOfWork } from '../storage/unit-of-work.ts';
import { checkCard, type CardBrand, type CardInput, type MaskedCard } from './card.ts';
import type { VaultService } from './service.ts';
import type { InstrumentRecord, InstrumentStore } from './store.ts';

/**
 * A /v1 registration: a vault instrument made on one entity, usable for later payments on that
 * entity until it is deregistered. Ids are 32 hex characters like the platform's.
 */
export interface Registration {
  readonly id: string;
  readonly merchantId: string;
  readonly entityId: string;
  readonly cardId: string;
  readonly status: 'enabled' | 'deleted';
  readonly card: MaskedCard;
  readonly createdAt: number;
  readonly updatedAt: number;
}

export type RegistrationError = 'not_found' | 'deregistered' | 'unconfirmed';

/** Card details a later payment with the registration may bring: the card renewed (expiry), or named by another of its brands. */
export interface RegistrationChange {
  readonly expiryMonth?: string;
  readonly expiryYear?: string;
  readonly brand?: CardBrand;
}

/** Whether a change differs from what the registration holds (pure). */
export function changes(card: Pick<MaskedCard, 'expiryMonth' | 'expiryYear' | 'brand'>, change: RegistrationChange): boolean {
  return (change.expiryMonth !== undefined && change.expiryMonth !== card.expiryMonth)
    || (change.expiryYear !== undefined && change.expiryYear !== card.expiryYear)
    || (change.brand !== undefined && change.brand !== card.brand);
}

export interface RegistrationService {
  register(merchant: Merchant, entity: Entity, card: CardInput, request?: RegistrationRequest): Promise<Result<Registration, CardError>>;
  /**
   * A registration the entity may pay with; a deleted one is `deregistered`, another entity's
   * `not_found`, and one whose payment (`createRegistration=true`) has no outcome yet `unconfirmed`.
   */
  usable(merchant: Merchant, entity: Entity, id: string): Promise<Result<Registration, RegistrationError>>;
  deregister(merchant: Merchant, entity: Entity, id: string, request?: RegistrationRequest): Promise<Result<Registration, RegistrationError>>;
  /**
   * New card details a payment brought (a renewed expiry, another brand of the card), checked and
   * sealed as a new card; nothing is written: the payment's intent stores the card and `holdFor`
   * points the registration at it, so a payment refused before it is recorded changes nothing.
   * Unchanged details give no renewal.
   */
  renewal(registration: Registration, change: RegistrationChange): Promise<Result<Renewal | undefined, CardError | RegistrationError>>;
  /**
   * In a payment's unit of work: whether the registration is still enabled, held so that a delete
   * waits for the payment (a delete acknowledged before it makes the payment refused). With a
   * renewal the registration now points at the renewed card (stored by the same unit of work), with
   * a REGISTRATION UPDATED notification; earlier payments keep the card as they made it.
   */
  holdFor(tx: Tx, id: string, renewal?: Renewal, request?: RegistrationRequest): Promise<boolean>;
}

/** A registration's card with the new details a payment brought: sealed, not yet stored. */
export interface Renewal {
  readonly registration: Registration;
  readonly card: CardInput;
  readonly sealed: ReturnType<VaultService['sealCard']>;
}

/** What a registration call named besides the card: its test mode and the groups its answer echoes. */
export interface RegistrationRequest {
  readonly testMode?: string | undefined;
  readonly echo?: Readonly<Record<string, unknown>> | undefined;
}

/** The instrument row of a new registration of a stored card. */
export function registrationRecord(id: string, merchantId: string, entityId: string, cardId: string, at: number): InstrumentRecord {
  return { id, merchantId, cardId, holderReference: '', status: 'enabled', futureUsage: undefined, storeInstrument: true, entityId, createdAt: at, updatedAt: at };
}

/**
 * The REGISTRATION notification event (webhooks/outbox.ts convention): the entity and the
 * registration as the /v1 registration response shows it — masked card only — and what the
 * request that made the change named: its test mode (the notification answers with that mode's
 * code) and the groups the answer echoed (customer, billing, custom parameters).
 */
export function registrationEvent(eventId: string, action: 'created' | 'updated' | 'deleted', r: Pick<Registration, 'id' | 'merchantId' | 'entityId' | 'card'>, at: number,
  request: RegistrationRequest = {}): OutboxEvent {
  return {
    id: eventId, merchantId: r.merchantId, type: `registration.${action}`, subjectId: r.id, createdAt: at,
    payload: {
      entityId: r.entityId,
      ...(request.testMode !== undefined ? { testMode: request.testMode } : {}),
      ...(request.echo !== undefined ? { echo: request.echo } : {}),
      registration: {
        id: r.id, paymentBrand: r.card.brand,
        card: { bin: r.card.bin, last4Digits: r.card.last4, ...(r.card.holder !== undefined ? { holder: r.card.holder } : {}), expiryMonth: r.card.expiryMonth, expiryYear: r.card.expiryYear },
      },
    },
  };
}

export function createRegistrationService(deps: {
  uow: UnitOfWork; store: InstrumentStore; vault: VaultService; clock: Clock; ids: Ids;
  /**
   * Whether the payment that made a registration, with this card at this time, has no outcome yet:
   * its cardholder may still be at 3-D Secure, and a charge with the registration (merchant-initiated,
   * with no 3-D Secure) would come before them. Read from the payment each time, so a node of an
   * earlier release that settles the payment leaves nothing to clear.
   */
  firstChargeOpen?: (cardId: string, createdAt: number) => Promise<boolean>;
}): RegistrationService {
  const { uow, store, vault, clock, ids } = deps;

  async function load(merchant: Merchant, entity: Entity, id: string): Promise<Registration | undefined> {
    const i = await store.instrument(id);
    // Another merchant's or another entity's registration does not exist for this caller.
    if (!i || i.merchantId !== merchant.id || i.entityId !== entity.id) return undefined;
    const card = await vault.masked(i.cardId);
    if (!card) return undefined;
    return {
      id: i.id, merchantId: i.merchantId, entityId: entity.id, cardId: i.cardId, status: i.status === 'deleted' ? 'deleted' : 'enabled',
      card, createdAt: i.createdAt, updatedAt: i.updatedAt,
    };
  }

  return {
    async register(merchant, entity, card, request) {
      const now = clock.now();
      const refused = checkCard(card, now);
      if (refused) return fail(refused);
      const sealed = vault.sealCard(merchant.id, card);
      const record = registrationRecord(ids.hex32(), merchant.id, entity.id, sealed.record.id, now);
      const registration: Registration = { ...record, entityId: entity.id, status: 'enabled', card: sealed.masked };
      await uow.run(async (tx) => {
        const w = store.writer(tx);
        await w.insertCard(sealed.record);
        await w.insertInstrument(record);
        await addOutboxEvent(tx, registrationEvent(ids.hex32(), 'created', registration, now, request));
      });
      return ok(registration);
    },
    async usable(merchant, entity, id) {
      const r = await load(merchant, entity, id);
      if (!r) return fail('not_found');
      if (r.status === 'deleted') return fail('deregistered');
      if (await deps.firstChargeOpen?.(r.cardId, r.createdAt)) return fail('unconfirmed');
      return ok(r);
    },
    async renewal(r, change) {
      if (!changes(r.card, change)) return ok(undefined);
      const opened = await vault.open(r.cardId);
      if (!opened) return fail('not_found');
      const now = clock.now();
      const card: CardInput = {
        pan: opened.pan, cvv: undefined, holder: opened.holder, brand: change.brand ?? opened.brand,
        expiryMonth: change.expiryMonth ?? opened.expiryMonth, expiryYear: change.expiryYear ?? opened.expiryYear,
      };
      const refused = checkCard(card, now);
      if (refused) return fail(refused);
      const sealed = vault.sealCard(r.merchantId, card);
      return ok({ registration: { ...r, cardId: sealed.record.id, card: sealed.masked, updatedAt: now }, card, sealed });
    },
    async holdFor(tx, id, renewal, request) {
      const w = store.writer(tx);
      if (!renewal) return w.holdEnabled(id);
      const at = renewal.registration.updatedAt;
      if (!await w.setInstrumentCard(id, renewal.sealed.record.id, at)) return false;
      await addOutboxEvent(tx, registrationEvent(ids.hex32(), 'updated', renewal.registration, at, { testMode: request?.testMode }));
      return true;
    },
    async deregister(merchant, entity, id, request) {
      const r = await load(merchant, entity, id);
      if (!r) return fail('not_found');
      const now = clock.now();
      const deleted = await uow.run(async (tx) => {
        if (!await store.writer(tx).setInstrumentStatus(id, 'deleted', now)) return false;
        await addOutboxEvent(tx, registrationEvent(ids.hex32(), 'deleted', r, now, request));
        return true;
      });
      if (!deleted) return fail('deregistered');
      return ok({ ...r, status: 'deleted', updatedAt: now });
    },
  };
}
