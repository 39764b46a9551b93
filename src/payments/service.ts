import type { Clock } from '../runtime/clock.ts';
import type { Ids } from '../runtime/ids.ts';
import type { Logger } from '../runtime/logger.ts';
import type { Money } from '../money/money.ts';
import type { Entity, Merchant } from '../merchants/model.ts';
import type { VaultService } from '../vault/service.ts';
import { isExpired, type CardInput, type Cvv, type MaskedCard } from '../vault/card.ts';
import { registrationEvent, registrationRecord } from '../vault/registrations.ts';
import type { CvvCache } from '../vault/cvv-cache.ts';
import type { ThreeDsService } from '../threeds/service.ts';
import type { Challenge, ChallengePurpose } from '../threeds/store.ts';
import {
  authenticationDetails, challengeRefusalCodes, challengeResultOf, noAuthenticationRequest, planAuthentication,
  type AuthenticationPlan, type AuthenticationRequest, type AuthenticationResult, type ChallengeOutcome,
} from '../threeds/model.ts';
import type { Authentication, Processor, ProcessingMode, PspOperation, PspRequest, PspResult } from '../processors/port.ts';
import { successCodeByMode } from '../processors/result-codes.ts';
import { fail, ok, type PaymentError, type Result } from './errors.ts';
import {
  canTransition, checkCard, decideBackOffice, initialOf, paymentStatusOf, totalsOf,
  type BackOfficeType, type PaymentStatus, type InitialType, type TransactionStatus,
} from './model.ts';
import type { PaymentRecord, PaymentStore, PaymentWriter, TransactionOutcome, TransactionRecord } from './store.ts';

/** A bank transfer the shopper confirms at their (simulated) bank; no card involved. */
export interface BankTransferInput {
  readonly bankName: string | undefined;
}

export interface InitiateInput {
  readonly merchant: Merchant;
  readonly entity: Entity;
  readonly type: InitialType;
  readonly amount: Money;
  /** Exactly one of `card`, `storedCard` (a registration's) and `bankTransfer`. */
  readonly card?: CardInput;
  readonly storedCard?: { readonly cardId: string; readonly cvv: Cvv | undefined; readonly registrationId: string };
  readonly bankTransfer?: BankTransferInput;
  /** Keep the card as a /v1 registration; its id comes back in the echo as `registrationId`. */
  readonly createRegistration?: boolean;
  /** The merchant's 3-D Secure test switches; absent means the card's own behaviour. */
  readonly authentication?: AuthenticationRequest;
  /** Where the shopper's browser goes after a hosted page; required when one is needed. */
  readonly returnUrl?: string | undefined;
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
  /** The hosted page the shopper must visit before the payment can go on (initial answer only). */
  readonly challenge?: Pick<Challenge, 'id' | 'purpose'>;
}

export type BackOfficeError = PaymentError | 'not_found';

/** An authorization of a card already in the vault, at one named PSP account (a cascade step). */
export interface AuthorizeStoredInput {
  readonly merchant: Merchant;
  readonly entity: Entity;
  /** Chosen by the caller and recorded before this call, so a crash cannot orphan the attempt. */
  readonly paymentId: string;
  readonly amount: Money;
  readonly cardId: string;
  /** Held in memory only, for this one authorization. */
  readonly cvv: Cvv | undefined;
  readonly account: string | undefined;
  readonly authentication: Authentication | undefined;
  readonly merchantTransactionId: string | undefined;
  readonly echo: Readonly<Record<string, unknown>>;
}

export interface PaymentService {
  initiate(input: InitiateInput): Promise<Result<TransactionView>>;
  backOffice(input: BackOfficeInput): Promise<Result<TransactionView, BackOfficeError>>;
  /** A transaction of the merchant's entity; another merchant's id is simply not found. */
  find(merchant: Merchant, entity: Entity, transactionId: string): Promise<TransactionView | undefined>;
  /** The entity's transactions with that reference, oldest first; `page` for one page of them. */
  findByMerchantTransactionId(merchant: Merchant, entity: Entity, merchantTransactionId: string, page?: { offset: number; limit: number }): Promise<TransactionView[]>;
  countByMerchantTransactionId(merchant: Merchant, entity: Entity, merchantTransactionId: string): Promise<number>;
  /** Settles attempts whose PSP answer was lost by asking the PSP; returns how many were settled. */
  reconcile(): Promise<number>;
  /**
   * Pre-authorizes a stored card at one PSP account (intent, call, outcome). An id that already has
   * a payment is not sent again: its recorded state is returned (a resumed cascade never re-sends).
   */
  authorizeStored(input: AuthorizeStoredInput): Promise<Result<TransactionView, PaymentError | 'card_not_found'>>;
  /** The payment and its transactions, oldest first. */
  transactionsOf(paymentId: string): Promise<{ payment: PaymentRecord; transactions: TransactionRecord[] } | undefined>;
  /**
   * The shopper finished the hosted page of a payment: a completed challenge authorizes (or
   * debits) with the authentication result, anything else ends the payment. Idempotent: a payment
   * no longer awaiting its shopper is returned as it is.
   */
  completeAuthentication(paymentId: string, outcome: ChallengeOutcome): Promise<TransactionView>;
  /** Ends payments whose shopper never finished within the asynchronous timeout (100.396.103). */
  expireAwaiting(): Promise<number>;
  /** The simulated bank's receipts: confirmed bank transfers older than the receipt delay get their RC. */
  confirmBankTransfers(): Promise<number>;
}


const pspOperationOf: Record<InitialType | 'CP' | 'RV' | 'RF' | 'RB', PspOperation> = {
  PA: 'authorize', DB: 'debit', 'PA.CP': 'debit', CP: 'capture', RV: 'reverse', RF: 'refund', RB: 'rebill',
};

const statusOfOutcome: Record<PspResult['outcome'], TransactionStatus> = {
  approved: 'succeeded', declined: 'failed', pending: 'pending',
};

/** The code an attempt shows while its PSP answer is lost. */
export const uncertainResultCode = '900.100.300';

/** Back-office operations that report what already happened elsewhere: recorded without a PSP call. */
const recordedOnly = new Set<BackOfficeType>(['CB', 'CR', 'RC']);

export function createPaymentService(deps: {
  store: PaymentStore;
  vault: VaultService;
  processor: Processor;
  threeds: ThreeDsService;
  cvvs: CvvCache;
  clock: Clock;
  ids: Ids;
  logger: Logger;
  pspTimeoutMs: number;
  /** How long a payment may wait for its shopper (decision 6). */
  asyncTimeoutMs: number;
  /** How long the simulated bank takes to post a confirmed transfer's receipt. */
  bankReceiptDelayMs: number;
}): PaymentService {
  const { store, vault, processor, threeds, cvvs, clock, ids, logger, pspTimeoutMs, asyncTimeoutMs, bankReceiptDelayMs } = deps;
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

  /** `known` details (the authentication's) stay on the attempt beside what the PSP reports. */
  function outcomeOf(result: PspResult | undefined, known: Readonly<Record<string, string>> = {}): TransactionOutcome {
    if (!result) return { status: 'unknown', resultCode: uncertainResultCode, pspReference: undefined, details: known, at: clock.now() };
    return {
      status: statusOfOutcome[result.outcome], resultCode: result.code,
      pspReference: result.pspReference || undefined, details: { ...known, ...result.details }, at: clock.now(),
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
    if (!current || (current.status !== 'pending' && current.status !== 'unknown' && current.status !== 'awaiting')) return undefined;
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

  /** The outcome that ends an attempt before any PSP hears of it. */
  const refusal = (code: string, details: Readonly<Record<string, string>>): TransactionOutcome =>
    ({ status: 'failed', resultCode: code, pspReference: undefined, details, at: clock.now() });

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
      outcome = outcomeOf(await callPsp(req), t.details);
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

  /** Everything a PSP call of an initial transaction needs; the card is read back from the vault when not at hand. */
  async function initialRequest(t: TransactionRecord, payment: PaymentRecord, card: CardInput | undefined, testParameters: Readonly<Record<string, string>>, authentication?: AuthenticationResult): Promise<PspRequest> {
    let pspCard = card ? { ...card } : undefined;
    if (!pspCard && payment.cardId) {
      const opened = await vault.open(payment.cardId);
      if (!opened) throw new Error(`card of payment ${payment.id} vanished`);
      pspCard = { pan: opened.pan, cvv: cvvs.take(payment.id), brand: opened.brand, holder: opened.holder, expiryMonth: opened.expiryMonth, expiryYear: opened.expiryYear };
    }
    return {
      operation: pspOperationOf[t.type as InitialType], attemptId: t.id, amount: t.amount, mode: payment.mode as ProcessingMode,
      ...(pspCard ? { card: pspCard } : {}),
      ...(authentication ? { authentication: { status: authentication.status, eci: authentication.eci } } : {}),
      testParameters,
    };
  }

  /**
   * Records a back-office transaction on a payment the caller has already found, and runs it:
   * the §6 rules decide under the payment's lock, recorded-only types settle in the same
   * transaction, the rest go to the PSP afterwards.
   */
  async function performBackOffice(target: TransactionRecord, type: BackOfficeType, amount: Money | undefined, merchantTransactionId: string | undefined, echo: Readonly<Record<string, unknown>>, testParameters: Readonly<Record<string, string>>): Promise<Result<TransactionView, BackOfficeError>> {
    const now = clock.now();
    const id = ids.hex32();
    const needsPsp = !recordedOnly.has(type);
    const decided = await store.write(async (w): Promise<Result<{ t: TransactionRecord; payment: PaymentRecord; originalReference: string | undefined }, BackOfficeError>> => {
      const locked = await w.lock(target.paymentId);
      if (!locked) return fail('not_found');
      const current = locked.transactions.find((t) => t.id === target.id)!;
      const decision = decideBackOffice(locked.transactions, { type, amount, target: current });
      if (!decision.ok) return decision;
      const t: TransactionRecord = {
        id, paymentId: target.paymentId, seq: locked.transactions.length, merchantId: target.merchantId, entityId: target.entityId, type,
        status: 'pending', amount: decision.value, referencedId: target.id, resultCode: undefined, pspReference: undefined,
        merchantTransactionId, shortId: ids.shortId(), echo, details: {},
        createdAt: now, updatedAt: now,
      };
      await w.insertTransaction(t);
      if (!needsPsp) {
        // Chargebacks, their reversals and receipts report what the scheme or bank already did.
        const code = successCodeByMode[locked.payment.mode as ProcessingMode];
        await settle(w, target.paymentId, id, { status: 'succeeded', resultCode: code, pspReference: undefined, details: {}, at: now });
      }
      return ok({ t, payment: locked.payment, originalReference: initialOf(locked.transactions).pspReference });
    });
    if (!decided.ok) return decided;
    if (!needsPsp) return ok(await view(id));
    const { t, payment, originalReference } = decided.value;
    const opened = type === 'RB' && payment.cardId ? await vault.open(payment.cardId) : undefined;
    return ok(await runAttempt(t, payment, undefined, {
      operation: pspOperationOf[type as 'CP' | 'RV' | 'RF' | 'RB'], attemptId: id, amount: t.amount,
      mode: payment.mode as ProcessingMode, originalReference,
      ...(opened ? { card: { pan: opened.pan, cvv: undefined, brand: opened.brand, holder: opened.holder, expiryMonth: opened.expiryMonth, expiryYear: opened.expiryYear } } : {}),
      testParameters,
    }));
  }

  return {
    async initiate(input) {
      const now = clock.now();
      const mode: ProcessingMode = input.merchant.live ? 'LIVE' : input.testMode ?? 'INTERNAL';
      if ([input.card, input.storedCard, input.bankTransfer].filter(Boolean).length !== 1) {
        throw new Error('initiate needs exactly one of card, storedCard and bankTransfer');
      }
      const stored = input.storedCard ? await vault.open(input.storedCard.cardId) : undefined;
      if (input.storedCard && !stored) throw new Error(`card ${input.storedCard.cardId} of a registration vanished`);
      const card: CardInput | undefined = input.card ?? (stored && {
        pan: stored.pan, cvv: input.storedCard!.cvv, brand: stored.brand, holder: stored.holder, expiryMonth: stored.expiryMonth, expiryYear: stored.expiryYear,
      });
      if (card) {
        const cardError = checkCard(card, now);
        if (cardError) return fail(cardError);
      }
      const plan: AuthenticationPlan | { kind: 'bank' } = card
        ? planAuthentication(card.pan.reveal(), card.brand, input.authentication ?? noAuthenticationRequest)
        : { kind: 'bank' };
      const purpose: ChallengePurpose | undefined = plan.kind === 'challenge' ? '3ds' : plan.kind === 'bank' ? 'bank_transfer' : undefined;
      if (purpose && input.returnUrl === undefined) return fail('return_url_required');
      const sealed = input.card ? vault.sealCard(input.merchant.id, input.card) : undefined;
      const masked: MaskedCard | undefined = sealed?.masked ?? (stored && (({ pan: _pan, ...rest }) => rest)(stored));
      const cardId = sealed?.record.id ?? input.storedCard?.cardId;
      const paymentId = ids.hex32();
      const registrationId = input.createRegistration && card ? ids.hex32() : input.storedCard?.registrationId;
      // The page is opened before the payment that points to it: a crash in between leaves only
      // an unreachable page behind, never a payment waiting on a page that does not exist.
      const challenge = purpose ? await threeds.open({
        merchantId: input.merchant.id, merchantName: input.merchant.name, purpose,
        subject: { kind: 'payment', id: paymentId }, amount: input.amount,
        instrumentLabel: masked ? `${masked.brand} •••• ${masked.last4}` : input.bankTransfer?.bankName ?? 'Bank transfer',
        returnUrls: [input.returnUrl!], expiresAt: now + asyncTimeoutMs,
      }) : undefined;
      const payment: PaymentRecord = {
        id: paymentId, merchantId: input.merchant.id, entityId: input.entity.id, initialType: input.type,
        status: 'pending', amount: input.amount.amount, currency: input.amount.currency, cardId,
        method: card ? 'card' : 'bank_transfer', mode, version: 1, createdAt: now, updatedAt: now,
      };
      const authenticated = plan.kind === 'frictionless' ? authenticationDetails(plan.result) : {};
      // The initial transaction shares the payment's id: it is what the merchant calls "the payment".
      const transaction: TransactionRecord = {
        id: paymentId, paymentId, seq: 0, merchantId: input.merchant.id, entityId: input.entity.id, type: input.type,
        status: challenge ? 'awaiting' : 'pending', amount: input.amount, referencedId: undefined,
        resultCode: challenge ? '000.200.000' : undefined, pspReference: undefined,
        merchantTransactionId: input.merchantTransactionId, shortId: ids.shortId(),
        echo: {
          ...input.echo,
          ...(input.returnUrl !== undefined ? { shopperResultUrl: input.returnUrl } : {}),
          ...(registrationId !== undefined ? { registrationId } : {}),
        },
        details: authenticated, createdAt: now, updatedAt: now,
      };
      // Intent first, committed before the PSP hears of it (DESIGN rule 1).
      const recorded = await store.write(async (w) => {
        if (input.entity.uniqueMerchantTransactionId && input.merchantTransactionId !== undefined
          && await w.merchantTransactionIdTaken(input.entity.id, input.merchantTransactionId)) return false;
        if (sealed) await w.insertCard(sealed.record);
        if (input.createRegistration && registrationId && cardId && masked) {
          // The registration commits with the payment's intent: a token for a card the payment stored.
          await w.insertInstrument(registrationRecord(registrationId, input.merchant.id, input.entity.id, cardId, now));
          await w.addEvent(registrationEvent(ids.hex32(), 'created', { id: registrationId, merchantId: input.merchant.id, entityId: input.entity.id, card: masked }, now));
        }
        await w.insertPayment(payment);
        await w.insertTransaction(transaction);
        if (plan.kind === 'refused') {
          await settle(w, paymentId, paymentId, refusal(plan.code, authenticationDetails({ status: plan.status, eci: plan.eci, flow: 'frictionless' })));
        } else if (challenge) {
          await w.addEvent({
            id: ids.hex32(), merchantId: input.merchant.id, type: 'transaction.awaiting', subjectId: paymentId, createdAt: now,
            payload: { paymentId, transactionId: paymentId, transactionType: input.type, status: 'awaiting', resultCode: '000.200.000', paymentStatus: 'pending' },
          });
        }
        return true;
      });
      if (!recorded) return fail('duplicate_merchant_transaction_id');
      if (plan.kind === 'refused') return ok(await view(paymentId));
      if (challenge) {
        // Kept in memory only, for the one authorization after the challenge (DESIGN rule 5).
        if (card?.cvv) cvvs.put(paymentId, card.cvv, challenge.expiresAt);
        return ok({ transaction, payment, card: masked, challenge: { id: challenge.id, purpose: challenge.purpose } });
      }
      const result = plan.kind === 'frictionless' ? plan.result : undefined;
      return ok(await runAttempt(transaction, payment, masked, await initialRequest(transaction, payment, card, input.testParameters, result)));
    },

    async backOffice(input) {
      const target = await store.transaction(input.referencedId);
      if (!target || target.merchantId !== input.merchant.id || target.entityId !== input.entity.id) return fail('not_found');
      return performBackOffice(target, input.type, input.amount, input.merchantTransactionId, input.echo, input.testParameters);
    },

    async completeAuthentication(paymentId, outcome) {
      const payment = await store.payment(paymentId);
      if (!payment) throw new Error(`payment ${paymentId} vanished`);
      const masked = payment.cardId ? await vault.masked(payment.cardId) : undefined;
      const result = masked ? challengeResultOf(masked.brand, outcome) : undefined;
      const details = result ? authenticationDetails(result) : {};
      const resumed = await store.write(async (w) => {
        const locked = await w.lock(paymentId);
        const initial = locked && initialOf(locked.transactions);
        if (!locked || !initial || initial.status !== 'awaiting') return undefined;
        if (outcome !== 'completed') {
          await settle(w, paymentId, initial.id, refusal(challengeRefusalCodes[outcome], details));
          return undefined;
        }
        // From here the PSP may be asked: the attempt is an ordinary intent the reconciler knows.
        const at = clock.now();
        await w.resumeTransaction(initial.id, details, at);
        return { ...initial, status: 'pending' as const, resultCode: undefined, details, updatedAt: at };
      });
      if (outcome !== 'completed') cvvs.drop(paymentId);
      if (!resumed) return view(paymentId);
      const testParameters = (resumed.echo.customParameters ?? {}) as Record<string, string>;
      return runAttempt(resumed, payment, masked, await initialRequest(resumed, payment, undefined, testParameters, result));
    },

    async expireAwaiting() {
      const stale = await store.awaitingBefore(clock.now() - asyncTimeoutMs, 100);
      let expired = 0;
      for (const t of stale) {
        await threeds.expire('payment', t.paymentId);
        cvvs.drop(t.paymentId);
        if (await store.write((w) => settle(w, t.paymentId, t.id, refusal(challengeRefusalCodes.expired, t.details))) !== undefined) expired++;
      }
      return expired;
    },

    async confirmBankTransfers() {
      const due = await store.bankTransfersAwaitingReceipt(clock.now() - bankReceiptDelayMs, 100);
      let confirmed = 0;
      for (const p of due) {
        const txs = await store.transactionsOf(p.id);
        const initial = initialOf(txs);
        const t = totalsOf(txs);
        const open = t.authorized - t.captured - t.inFlightCaptures;
        if (open <= 0 || t.reversed) continue;
        // Filed under the payment's own merchantTransactionId so the merchant's query finds it.
        const r = await performBackOffice(initial, 'RC', { amount: open, currency: initial.amount.currency }, initial.merchantTransactionId, {}, {});
        if (r.ok) confirmed++;
      }
      return confirmed;
    },

    async find(merchant, entity, transactionId) {
      const t = await store.transaction(transactionId);
      if (!t || t.merchantId !== merchant.id || t.entityId !== entity.id) return undefined;
      return view(t.id);
    },

    async countByMerchantTransactionId(merchant, entity, mtx) {
      return entity.merchantId === merchant.id ? store.countByMerchantTransactionId(entity.id, mtx) : 0;
    },

    async findByMerchantTransactionId(merchant, entity, mtx, page) {
      const list = await store.byMerchantTransactionId(entity.id, mtx, page);
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

    async authorizeStored(input) {
      const existing = await store.payment(input.paymentId);
      if (existing) return ok(await view(input.paymentId));
      const opened = await vault.open(input.cardId);
      if (!opened) return fail('card_not_found');
      const now = clock.now();
      if (isExpired(opened.expiryMonth, opened.expiryYear, now)) return fail('card_expired');
      const mode: ProcessingMode = input.merchant.live ? 'LIVE' : 'INTERNAL';
      const paymentId = input.paymentId;
      const payment: PaymentRecord = {
        id: paymentId, merchantId: input.merchant.id, entityId: input.entity.id, initialType: 'PA',
        status: 'pending', amount: input.amount.amount, currency: input.amount.currency, cardId: input.cardId,
        method: 'card', mode, version: 1, createdAt: now, updatedAt: now,
      };
      const transaction: TransactionRecord = {
        id: paymentId, paymentId, seq: 0, merchantId: input.merchant.id, entityId: input.entity.id, type: 'PA',
        status: 'pending', amount: input.amount, referencedId: undefined, resultCode: undefined, pspReference: undefined,
        merchantTransactionId: input.merchantTransactionId, shortId: ids.shortId(), echo: input.echo, details: {},
        createdAt: now, updatedAt: now,
      };
      // Intent first, committed before the PSP hears of it (DESIGN rule 1).
      await store.write(async (w) => {
        await w.insertPayment(payment);
        await w.insertTransaction(transaction);
      });
      const { pan, ...masked } = opened;
      return ok(await runAttempt(transaction, payment, masked, {
        operation: 'authorize', attemptId: paymentId, amount: input.amount, mode,
        card: { pan, cvv: input.cvv, brand: opened.brand, holder: opened.holder, expiryMonth: opened.expiryMonth, expiryYear: opened.expiryYear },
        testParameters: {},
        ...(input.account !== undefined ? { account: input.account } : {}),
        ...(input.authentication !== undefined ? { authentication: input.authentication } : {}),
      }));
    },

    async transactionsOf(paymentId) {
      const payment = await store.payment(paymentId);
      if (!payment) return undefined;
      return { payment, transactions: await store.transactionsOf(paymentId) };
    },
  };
}
