import type { Clock } from '../runtime/clock.ts';
import type { Ids } from '../runtime/ids.ts';
import type { Logger } from '../runtime/logger.ts';
import type { Money } from '../money/money.ts';
import type { Entity, Merchant } from '../merchants/model.ts';
import type { VaultService } from '../vault/service.ts';
import { cvvLength, detectBrand, isExpired, luhnValid, type CardInput, type MaskedCard } from '../vault/card.ts';
import type { Processor, ProcessingMode, PspOperation, PspRequest, PspResult } from '../processors/port.ts';
import { successCodeByMode } from '../processors/result-codes.ts';
import { fail, ok, type PaymentError, type Result } from './errors.ts';
import {
  canTransition, decideBackOffice, initialOf, paymentStatusOf,
  type BackOfficeType, type PaymentStatus, type InitialType, type TransactionStatus,
} from './model.ts';
import type { PaymentRecord, PaymentStore, PaymentWriter, TransactionOutcome, TransactionRecord } from './store.ts';

export interface InitiateInput {
  readonly merchant: Merchant;
  readonly entity: Entity;
  readonly type: InitialType;
  readonly amount: Money;
  readonly card: CardInput;
  /** The merchant's test-system choice; ignored for live merchants, whose payments are live. */
  readonly testMode: 'INTERNAL' | 'EXTERNAL' | undefined;
  readonly merchantTransactionId: string | undefined;
  /** Request parameters echoed in every response about this transaction. */
  readonly echo: Readonly<Record<string, unknown>>;
  readonly testParameters: Readonly<Record<string, string>>;
}

export interface BackOfficeInput {
  readonly merchant: Merchant;
  readonly entity: Entity;
  readonly type: BackOfficeType;
  /** The transaction id the merchant named. */
  readonly referencedId: string;
  readonly amount: Money | undefined;
  readonly merchantTransactionId: string | undefined;
  readonly echo: Readonly<Record<string, unknown>>;
  readonly testParameters: Readonly<Record<string, string>>;
}

/** What a dialect renders: the transaction, its payment and the masked card. */
export interface TransactionView {
  readonly transaction: TransactionRecord;
  readonly payment: PaymentRecord;
  readonly card: MaskedCard | undefined;
}

export type BackOfficeError = PaymentError | 'not_found';

export interface PaymentService {
  initiate(input: InitiateInput): Promise<Result<TransactionView>>;
  backOffice(input: BackOfficeInput): Promise<Result<TransactionView, BackOfficeError>>;
  /** A transaction of the merchant's entity; another merchant's id is simply not found. */
  find(merchant: Merchant, entity: Entity, transactionId: string): Promise<TransactionView | undefined>;
  findByMerchantTransactionId(merchant: Merchant, entity: Entity, merchantTransactionId: string): Promise<TransactionView[]>;
  /** Settles attempts whose PSP answer was lost by asking the PSP; returns how many were settled. */
  reconcile(): Promise<number>;
}

/** Card checks both dialects need before anything is stored. */
export function checkCard(card: CardInput, nowMs: number): PaymentError | undefined {
  const digits = card.pan.reveal();
  if (!luhnValid(digits)) return 'invalid_card_number';
  const detected = detectBrand(digits);
  if (detected !== undefined && detected !== card.brand) return 'brand_mismatch';
  if (isExpired(card.expiryMonth, card.expiryYear, nowMs)) return 'card_expired';
  if (card.cvv !== undefined && card.cvv.reveal().length !== cvvLength(card.brand)) return 'cvv_brand_mismatch';
  return undefined;
}

const pspOperationOf: Record<InitialType | 'CP' | 'RV' | 'RF' | 'RB', PspOperation> = {
  PA: 'authorize', DB: 'debit', 'PA.CP': 'debit', CP: 'capture', RV: 'reverse', RF: 'refund', RB: 'rebill',
};

const statusOfOutcome: Record<PspResult['outcome'], TransactionStatus> = {
  approved: 'succeeded', declined: 'failed', pending: 'pending',
};

/** The code an attempt shows while its PSP answer is lost. */
export const uncertainResultCode = '900.100.300';

export function createPaymentService(deps: {
  store: PaymentStore;
  vault: VaultService;
  processor: Processor;
  clock: Clock;
  ids: Ids;
  logger: Logger;
  pspTimeoutMs: number;
}): PaymentService {
  const { store, vault, processor, clock, ids, logger, pspTimeoutMs } = deps;
  /** Attempts this process is still waiting on the PSP for: never the reconciler's to decide. */
  const inFlight = new Set<string>();

  /** Calls the PSP outside any database transaction, bounded by the PSP timeout. */
  async function callPsp(req: PspRequest): Promise<PspResult | undefined> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<undefined>((resolve) => { timer = setTimeout(resolve, pspTimeoutMs, undefined); });
    try {
      return await Promise.race([processor.execute(req), timeout]);
    } catch (err) {
      // A connection that broke mid-call may or may not have reached the PSP: unknown, never retried blindly.
      logger.warn({ err: String(err), attemptId: req.attemptId }, 'psp call failed');
      return undefined;
    } finally {
      clearTimeout(timer);
    }
  }

  function outcomeOf(result: PspResult | undefined): TransactionOutcome {
    if (!result) return { status: 'unknown', resultCode: uncertainResultCode, pspReference: undefined, details: {}, at: clock.now() };
    return {
      status: statusOfOutcome[result.outcome], resultCode: result.code,
      pspReference: result.pspReference || undefined, details: result.details, at: clock.now(),
    };
  }

  /**
   * Records an outcome, the payment's new status and its event in one transaction. Returns the new
   * status, or undefined when the attempt was already settled (by a racing reconciler).
   */
  async function settle(w: PaymentWriter, paymentId: string, transactionId: string, outcome: TransactionOutcome): Promise<PaymentStatus | undefined> {
    const locked = await w.lock(paymentId);
    if (!locked) throw new Error(`payment ${paymentId} vanished`);
    const current = locked.transactions.find((t) => t.id === transactionId);
    if (!current || (current.status !== 'pending' && current.status !== 'unknown')) return undefined;
    await w.settleTransaction(transactionId, outcome);
    const txs = locked.transactions.map((t) => (t.id === transactionId ? { ...t, status: outcome.status } : t));
    const next = paymentStatusOf(txs);
    if (!canTransition(locked.payment.status, next)) {
      throw new Error(`illegal payment transition ${locked.payment.status} → ${next} on ${paymentId}`);
    }
    if (next !== locked.payment.status) await w.updatePaymentStatus(paymentId, next, outcome.at);
    await w.addEvent({
      id: ids.hex32(), merchantId: locked.payment.merchantId, type: `transaction.${outcome.status}`,
      subjectId: transactionId, createdAt: outcome.at,
      payload: { entityId: locked.payment.entityId, paymentId, transactionId, transactionType: current.type, status: outcome.status, resultCode: outcome.resultCode, paymentStatus: next },
    });
    return next;
  }

  async function view(transactionId: string): Promise<TransactionView> {
    const transaction = (await store.transaction(transactionId))!;
    const payment = (await store.payment(transaction.paymentId))!;
    const card = payment.cardId ? await vault.masked(payment.cardId) : undefined;
    return { transaction, payment, card };
  }

  /** Calls the PSP and records its answer; the view is built from what was written, not re-read. */
  async function runAttempt(t: TransactionRecord, payment: PaymentRecord, card: MaskedCard | undefined, req: PspRequest): Promise<TransactionView> {
    inFlight.add(t.id);
    let outcome: TransactionOutcome;
    try {
      outcome = outcomeOf(await callPsp(req));
    } finally {
      inFlight.delete(t.id);
    }
    const next = await store.write((w) => settle(w, t.paymentId, t.id, outcome));
    if (next === undefined) return view(t.id);
    return {
      transaction: { ...t, status: outcome.status, resultCode: outcome.resultCode, pspReference: outcome.pspReference, details: outcome.details, updatedAt: outcome.at },
      payment: { ...payment, status: next, updatedAt: outcome.at },
      card,
    };
  }

  return {
    async initiate(input) {
      const now = clock.now();
      const mode: ProcessingMode = input.merchant.live ? 'LIVE' : input.testMode ?? 'INTERNAL';
      const cardError = checkCard(input.card, now);
      if (cardError) return fail(cardError);
      const sealed = vault.sealCard(input.merchant.id, input.card);
      const paymentId = ids.hex32();
      const payment: PaymentRecord = {
        id: paymentId, merchantId: input.merchant.id, entityId: input.entity.id, initialType: input.type,
        status: 'pending', amount: input.amount.amount, currency: input.amount.currency, cardId: sealed.record.id,
        mode, version: 1, createdAt: now, updatedAt: now,
      };
      // The initial transaction shares the payment's id: it is what the merchant calls "the payment".
      const transaction: TransactionRecord = {
        id: paymentId, paymentId, seq: 0, merchantId: input.merchant.id, entityId: input.entity.id, type: input.type,
        status: 'pending', amount: input.amount, referencedId: undefined, resultCode: undefined, pspReference: undefined,
        merchantTransactionId: input.merchantTransactionId, shortId: ids.shortId(), echo: input.echo, details: {},
        createdAt: now, updatedAt: now,
      };
      // Intent first, committed before the PSP hears of it (DESIGN rule 1).
      const recorded = await store.write(async (w) => {
        if (input.entity.uniqueMerchantTransactionId && input.merchantTransactionId !== undefined
          && await w.merchantTransactionIdTaken(input.entity.id, input.merchantTransactionId)) return false;
        await w.insertCard(sealed.record);
        await w.insertPayment(payment);
        await w.insertTransaction(transaction);
        return true;
      });
      if (!recorded) return fail('duplicate_merchant_transaction_id');
      return ok(await runAttempt(transaction, payment, sealed.masked, {
        operation: pspOperationOf[input.type], attemptId: transaction.id, amount: input.amount, mode,
        card: { ...input.card }, testParameters: input.testParameters,
      }));
    },

    async backOffice(input) {
      const target = await store.transaction(input.referencedId);
      if (!target || target.merchantId !== input.merchant.id || target.entityId !== input.entity.id) return fail('not_found');
      const now = clock.now();
      const id = ids.hex32();
      const needsPsp = input.type !== 'CB' && input.type !== 'CR';
      const decided = await store.write(async (w): Promise<Result<{ t: TransactionRecord; payment: PaymentRecord; originalReference: string | undefined }, BackOfficeError>> => {
        const locked = await w.lock(target.paymentId);
        if (!locked) return fail('not_found');
        const current = locked.transactions.find((t) => t.id === target.id)!;
        const decision = decideBackOffice(locked.transactions, { type: input.type, amount: input.amount, target: current });
        if (!decision.ok) return decision;
        const t: TransactionRecord = {
          id, paymentId: target.paymentId, seq: locked.transactions.length, merchantId: input.merchant.id, entityId: input.entity.id, type: input.type,
          status: 'pending', amount: decision.value, referencedId: target.id, resultCode: undefined, pspReference: undefined,
          merchantTransactionId: input.merchantTransactionId, shortId: ids.shortId(), echo: input.echo, details: {},
          createdAt: now, updatedAt: now,
        };
        await w.insertTransaction(t);
        if (!needsPsp) {
          // Chargebacks and their reversals report what the scheme already did: no PSP call, settled at once.
          const code = successCodeByMode[locked.payment.mode as ProcessingMode];
          await settle(w, target.paymentId, id, { status: 'succeeded', resultCode: code, pspReference: undefined, details: {}, at: now });
        }
        return ok({ t, payment: locked.payment, originalReference: initialOf(locked.transactions).pspReference });
      });
      if (!decided.ok) return decided;
      if (!needsPsp) return ok(await view(id));
      const { t, payment, originalReference } = decided.value;
      const needsCard = input.type === 'RB';
      const opened = needsCard && payment.cardId ? await vault.open(payment.cardId) : undefined;
      return ok(await runAttempt(t, payment, undefined, {
        operation: pspOperationOf[input.type as 'CP' | 'RV' | 'RF' | 'RB'], attemptId: id, amount: t.amount,
        mode: payment.mode as ProcessingMode, originalReference,
        ...(opened ? { card: { pan: opened.pan, cvv: undefined, brand: opened.brand, holder: opened.holder, expiryMonth: opened.expiryMonth, expiryYear: opened.expiryYear } } : {}),
        testParameters: input.testParameters,
      }));
    },

    async find(merchant, entity, transactionId) {
      const t = await store.transaction(transactionId);
      if (!t || t.merchantId !== merchant.id || t.entityId !== entity.id) return undefined;
      return view(t.id);
    },

    async findByMerchantTransactionId(merchant, entity, mtx) {
      const list = await store.byMerchantTransactionId(entity.id, mtx);
      const views: TransactionView[] = [];
      for (const t of list) if (t.merchantId === merchant.id) views.push(await view(t.id));
      return views;
    },

    async reconcile() {
      // Twice the PSP timeout: an intent whose call another node may still be making is left alone.
      const stale = await store.unsettled(clock.now() - 2 * pspTimeoutMs, 100);
      let settled = 0;
      for (const t of stale) {
        if (inFlight.has(t.id)) continue;
        const known = await processor.lookup(t.id);
        // The PSP never received it: no money moved, so the attempt failed.
        const outcome: TransactionOutcome = known
          ? outcomeOf(known)
          : { status: 'failed', resultCode: '900.100.400', pspReference: undefined, details: { reconciled: 'not received by PSP' }, at: clock.now() };
        if (outcome.status === 'unknown') continue;
        if (await store.write((w) => settle(w, t.paymentId, t.id, outcome)) !== undefined) settled++;
      }
      return settled;
    },
  };
}
