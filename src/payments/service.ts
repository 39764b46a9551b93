import type { Clock } from '../runtime/clock.ts';
import type { Ids } from '../runtime/ids.ts';
import type { Logger } from '../runtime/logger.ts';
import type { Currency, Money } from '../money/money.ts';
import type { Merchant } from '../merchants/model.ts';
import type { Tx, UnitOfWork } from '../storage/unit-of-work.ts';
import type { VaultService } from '../vault/service.ts';
import type { VaultWriter } from '../vault/store.ts';
import { checkCard, cvvLength, isExpired, type CardInput, type Cvv, type MaskedCard } from '../vault/card.ts';
import { registrationEvent, registrationRecord } from '../vault/registrations.ts';
import type { CvvCache } from '../vault/cvv-cache.ts';
import type { ThreeDsService } from '../threeds/service.ts';
import type { Challenge, ChallengePurpose } from '../threeds/store.ts';
import {
  authenticationDetails, challengeRefusals, challengeResultOf, externalResultOf, noAuthenticationRequest, planAuthentication,
  type AuthenticationPlan, type AuthenticationRequest, type AuthenticationResult, type ChallengeOutcome, type ExternalAuthentication,
} from '../threeds/model.ts';
import { ReturnNotOurs, type Connector, type ConnectorOperation, type ConnectorRequest, type PspCard, type PspDispute } from '../processors/connector.ts';
import { connectorOperationOf, toldOfOperation } from './psp-request.ts';
import { createReconciler } from './reconciler.ts';
import { defaultAccount } from '../processors/registry.ts';
import type { CascadeRules } from '../workflows/model.ts';
import { nextStep, noAccountLeft, pastShoppersWait } from './cascade.ts';
import { fail, ok, type PaymentError, type Result } from './errors.ts';
import {
  authorizationExpired, holdClosed, cancelPlan, decideFollowUp, initialOf, isOpen, recordedOnlyKinds, refundDrawsOn, refundParts, totalsOf,
  type DeclineReason, type FollowUpKind, type InitialKind, type OperationKind, type Outcome, type PaymentStatus, undoableKinds, attemptsOfOperation, uncovered } from './model.ts';
import type { PaymentObserver, Writers } from './change.ts';
import { createRunner, refusal, settlementOf, type AttemptPlan } from './runner.ts';
import { eachIsolated } from '../jobs/isolated.ts';
import { createLateApprovals } from './late-approvals.ts';
import { createLateApprovalStore } from './late-approvals-store.ts';
import type { AttemptRecord, Channel, LockedPayment, OperationRecord, PaymentRecord, PaymentStore } from './store.ts';

/** A bank transfer the shopper confirms at their (simulated) bank; no card involved. */
export interface BankTransferInput {
  readonly bankName: string | undefined;
}

/** Whose payments a caller may see: a /v1 entity's, or the executions channel's of the merchant. */
export type Scope = { readonly channel: 'opp'; readonly entityId: string } | { readonly channel: 'executions' };

export interface PayInput {
  readonly merchant: Merchant;
  readonly scope: Scope;
  /** `credit`: money to the card (a payout) — never authenticated, never followed up. */
  readonly kind: InitialKind;
  readonly amount: Money;
  /** Exactly one of `card`, `storedCard` and `bankTransfer`. */
  readonly card?: CardInput;
  /**
   * A vault card. Its security code is given as `cvv`, or taken by `takeCvv` only once the intent is
   * recorded: of two requests racing to authorize one thing, the one that records it gets the code.
   */
  readonly storedCard?: {
    readonly cardId: string; readonly cvv: Cvv | undefined; readonly takeCvv?: () => Promise<Cvv | undefined>; readonly registrationId?: string;
    /** The stored card with new details the payment brought, sealed as a new card the intent stores (`cardId` is its id). */
    readonly renewed?: { readonly card: CardInput; readonly sealed: ReturnType<VaultService['sealCard']> };
  };
  readonly bankTransfer?: BankTransferInput;
  /** Keep the new card as a /v1 registration of the scope's entity; its id is returned in the context as `registrationId`. */
  readonly createRegistration?: boolean;
  /** The merchant's 3-D Secure test switches; absent means the card's own behaviour. */
  readonly authentication?: AuthenticationRequest;
  /** Initiated by the merchant without the shopper (a recurring charge): nobody to authenticate, an exemption. */
  readonly merchantInitiated?: boolean;
  /** The merchant asked for one of a PSP's test systems, which a live merchant may not. */
  readonly testSystemRequested?: boolean;
  /** Where the shopper's browser may go after a hosted page (the first is required when one is needed). */
  readonly returnUrls: readonly string[];
  /** The workflow whose cascade routes the authorization; none: the merchant's `payment-acceptance`. */
  readonly workflowCode?: string;
  readonly merchantTransactionId: string | undefined;
  /** Refuse a second payment with the same merchant transaction id (enforced by the database). */
  readonly uniqueMerchantTransactionId?: boolean;
  /** Kept with the operation for the dialect; the engine never reads it. */
  readonly context: Readonly<Record<string, unknown>>;
  readonly testParameters: Readonly<Record<string, string>>;
  /** Answer once the intent is recorded; the authorization then runs on in the background. */
  readonly background?: boolean;
  /**
   * The gateway's public base URL as the shopper reaches it: a PSP that runs 3-D Secure itself
   * sends the shopper back under it. Absent: no PSP may send the shopper anywhere.
   */
  readonly shopperBaseUrl?: string;
  /**
   * The caller's own writes in the intent's unit of work (the executions dialect links its
   * execution); returning false refuses the payment and nothing is written.
   */
  readonly join?: (tx: Tx, paymentId: string) => Promise<boolean>;
}

export interface FollowUpInput {
  readonly merchant: Merchant;
  readonly scope: Scope;
  readonly kind: FollowUpKind;
  /** The operation the merchant named (a payment's id names its opening operation). */
  readonly referencedId: string;
  readonly amount: Money | undefined;
  /** The currency a void names without an amount (the /v1 dialect's `RV` may): checked like an amount's. */
  readonly currency?: Currency | undefined;
  readonly merchantTransactionId: string | undefined;
  readonly context: Readonly<Record<string, unknown>>;
  readonly testParameters: Readonly<Record<string, string>>;
  /**
   * The expiry job's void of an authorization the issuer releases about now anyway: refunds standing
   * on a capture its PSP reported failed no longer keep the hold (no capture could recover them).
   */
  readonly expiring?: boolean;
  /** A final capture: what it leaves of the authorization is released once it succeeds. */
  readonly final?: boolean;
  /**
   * A refund of the payment as a whole that no one transaction covers may be recorded as one refund
   * per transaction it draws on (the executions dialect's refund action, whose operations complete
   * it together). The /v1 dialect answers one refund with one id, so it does not ask for this.
   */
  readonly inParts?: boolean;
  /** The merchant named one transaction, whose kind and amount the follow-up must fit (`FollowUpRequest.namesTransaction`). */
  readonly namesTransaction?: boolean;
  /**
   * The caller's own writes in the unit of work that records the follow-up (the executions
   * dialect stores its answer under the idempotency key there, so a retry after a crash finds it).
   */
  readonly join?: (tx: Tx) => Promise<void>;
}

/** What a dialect renders: the operation, its payment, the payment's opening operation and the masked card. */
export interface PaymentView {
  readonly operation: OperationRecord;
  readonly initial: OperationRecord;
  readonly payment: PaymentRecord;
  readonly card: MaskedCard | undefined;
  /**
   * The hosted page the shopper must visit before the payment can go on (opening answer only);
   * with the PSP's own redirect when the PSP runs the challenge.
   */
  readonly challenge?: Pick<Challenge, 'id' | 'purpose' | 'pspRedirect'>;
}

export type FollowUpError = PaymentError | 'not_found';
/**
 * What became of a PSP's chargeback or reversal: recorded now, recorded before (sent again), come
 * before the event it follows (`early`: a reversal before its chargeback, a second chargeback before
 * the first one's reversal; PSPs do not order their notifications), or not recordable.
 */
export type DisputeRecording =
  | { readonly kind: 'recorded' | 'known'; readonly paymentId: string }
  | { readonly kind: 'not_found' | 'ambiguous' | 'early' }
  | { readonly kind: 'refused'; readonly paymentId: string; readonly error: FollowUpError };
export type PayError = PaymentError | 'not_allowed' | 'test_system_on_live_merchant';

export interface PaymentDetails {
  readonly payment: PaymentRecord;
  readonly operations: OperationRecord[];
  readonly attempts: AttemptRecord[];
}

export interface PaymentService {
  /** Creates a payment and runs its opening operation (synchronously, unless `background`). */
  pay(input: PayInput): Promise<Result<PaymentView, PayError>>;
  /** Runs a follow-up on a payment: the amount rules decide under the payment's lock before any PSP call. */
  followUp(input: FollowUpInput): Promise<Result<PaymentView, FollowUpError>>;
  /** Refunds what was captured and voids what is open, in one unit of work; the operations it started. */
  /** `voidOnly`: release the open authorization and nothing else (refused, under the lock, once anything is captured). */
  cancel(input: { merchant: Merchant; scope: Scope; paymentId: string; context: Readonly<Record<string, unknown>>; join?: (tx: Tx) => Promise<void>; voidOnly?: boolean }): Promise<Result<PaymentView[], FollowUpError>>;
  /** An operation in the caller's scope; another merchant's or channel's id is simply not found. */
  find(merchant: Merchant, scope: Scope, operationId: string): Promise<PaymentView | undefined>;
  /** The entity's operations with that reference, oldest first; `page` for one page of them. */
  findByMerchantTransactionId(merchant: Merchant, entityId: string, merchantTransactionId: string, page?: { offset: number; limit: number }, kinds?: readonly OperationKind[]): Promise<PaymentView[]>;
  countByMerchantTransactionId(merchant: Merchant, entityId: string, merchantTransactionId: string, kinds?: readonly OperationKind[]): Promise<number>;
  /** The payment with its operations and attempts, oldest first. */
  details(paymentId: string): Promise<PaymentDetails | undefined>;
  /**
   * The shopper finished the hosted page of a payment: a completed challenge authorizes (or sells)
   * with the authentication result, anything else ends the payment. Idempotent.
   */
  completeChallenge(paymentId: string, outcome: ChallengeOutcome): Promise<PaymentView>;
  /**
   * The shopper is back from a PSP's own 3-D Secure: the PSP is asked to finish the attempt (a
   * decline the cascade moves on from tries the next account). Undefined when no such attempt
   * exists; a return that comes twice changes nothing the second time.
   */
  completePspReturn(paymentId: string, attemptId: string, parameters: Readonly<Record<string, string>>, admit?: () => Promise<void>): Promise<PaymentView | undefined>;
  /**
   * A PSP's notification settles one of its account's attempts (an asynchronous capture, refund,
   * or an authorization whose answer was lost); false when nothing changed (unknown, another
   * account's, or settled already). With `reverses`, a decline of a capture or refund that had
   * succeeded undoes it: the operation fails, the payment's status and the ledger move back, and
   * the merchant hears of it as of any outcome.
   */
  settleFromPsp(accountId: string, attemptId: string, outcome: Exclude<Outcome, { kind: 'unknown' }>,
    options?: { reverses?: boolean; amount?: Money | 'unreadable'; settles?: readonly ConnectorOperation[] }): Promise<boolean>;
  /**
   * Records a chargeback, or its reversal, that a PSP reports on one of the account's payments, as
   * the merchant's own CB or CR would be (books, notifications). The same event of the same dispute
   * sent again records nothing more. One the payment's totals refuse (a chargeback of more than is
   * left after refunds, a reversal without its chargeback) is refused, for an operator.
   */
  recordDispute(accountId: string, dispute: PspDispute): Promise<DisputeRecording>;
  /**
   * Settles operations whose PSP outcome is open by asking the PSP (pending answers on a backoff,
   * expiring after the pending timeout), and takes up cascades a crash left; returns how many moved.
   * One payment that fails to settle is logged and never stops the others.
   */
  reconcile(): Promise<number>;
  /**
   * Reverses at the PSP the charges it approved after the gateway had ended their attempts as
   * failed (recorded as their notifications arrive); returns how many the PSP took.
   */
  reverseLateApprovals(): Promise<number>;
  /** Late approvals not reversed yet: waiting for their next try, or for an operator. */
  lateApprovalsUnsettled(): Promise<number>;
  /** Ends payments whose shopper never finished within the asynchronous timeout. */
  expireAwaiting(): Promise<number>;
  /**
   * Ends one payment waiting for its shopper, as the sweep would: the shopper came back to a
   * challenge past its expiry before the sweep closed it. False when it is not waiting.
   */
  expireAwaitingOf(paymentId: string): Promise<boolean>;
  /** The simulated bank's receipts: confirmed bank transfers older than the receipt delay get theirs. */
  confirmBankTransfers(): Promise<number>;
  /** Card authorizations left uncaptured past their expiry get their open rest voided (context `{expired: true}`). */
  expireAuthorizations(): Promise<number>;
  /**
   * The rest a capture released (final, or its PSP's `RestReleased`) that its own settlement could
   * not void (the process stopped, the store was away): captures that ended since `since` (the
   * last successful pass's start; undefined: within the last day) are looked at again, but no
   * further back than a day before `lastPass` (the last pass's start, whatever its end), so passes
   * that keep failing on one rest do not read ever more captures. Returns the rests voided.
   */
  releaseCaptureRests(since: number | undefined, lastPass?: number): Promise<number>;
  /** Registers a concern told of every payment change inside its unit of work. */
  observe(observer: PaymentObserver): void;
  /** Background authorizations still running in this process (tests and shutdown wait for them). */
  idle(): Promise<void>;
}


/** How long after it happened a dispute event may be told to wait for the one it follows (see recordDispute). */
const earlyDisputeEventMs = 24 * 3_600_000;

export function createPaymentService(deps: {
  uow: UnitOfWork;
  store: PaymentStore;
  vaultWriter: (tx: Tx) => VaultWriter;
  vault: VaultService;
  connectorFor: (accountId: string | undefined) => Promise<Connector | undefined>;
  /** The cascade of a merchant's workflow (its accounts resolved, in order). */
  rulesOf: (merchantId: string, workflowCode: string) => Promise<CascadeRules>;
  /** A PSP account's name and connector, for recording follow-ups' attempts. */
  accountOf: (accountId: string) => Promise<{ readonly name: string; readonly connector: string } | undefined>;
  threeds: ThreeDsService;
  cvvs: CvvCache;
  clock: Clock;
  ids: Ids;
  logger: Logger;
  pspTimeoutMs: number;
  /** How long a payment may wait for its shopper, or a PSP's pending answer for its outcome. */
  asyncTimeoutMs: number;
  /** How long the simulated bank takes to post a confirmed transfer's receipt. */
  bankReceiptDelayMs: number;
  /** How long a card authorization may stay uncaptured before its open rest is voided (default 7 days). */
  authorizationExpiryMs?: number;
  /** Per card brand, how long its authorizations hold (brands absent: `authorizationExpiryMs`). */
  authorizationExpiryByBrandMs?: Readonly<Record<string, number>>;
}): PaymentService {
  const { store, vault, threeds, cvvs, clock, ids, logger, pspTimeoutMs, asyncTimeoutMs, bankReceiptDelayMs } = deps;
  const observers: PaymentObserver[] = [];
  const runner = createRunner({ ...deps, observers, answeredAfterEnd: (attempt, outcome) => approvedAfterEnd(attempt, outcome) });
  const { write } = runner;
  const running = new Set<Promise<unknown>>();
  /** Expired attempts whose PSP a return asked about, and when (see mayAskAfterExpiry). */
  const askedAfterExpiry = new Map<string, number>();
  const lateApprovalStore = createLateApprovalStore(deps.uow);
  const lateApprovals = createLateApprovals({
    store: lateApprovalStore, payments: store,
    connectorFor: deps.connectorFor, clock, ids, logger, pspTimeoutMs,
  });

  const inScope = (p: PaymentRecord, merchant: Merchant, scope: Scope) =>
    p.merchantId === merchant.id && p.channel === scope.channel && (scope.channel !== 'opp' || p.entityId === scope.entityId);

  async function view(operationId: string): Promise<PaymentView> {
    const operation = (await store.operation(operationId))!;
    const payment = (await store.payment(operation.paymentId))!;
    // The opening operation's id is the payment's.
    const initial = operation.id === payment.id ? operation : (await store.operation(payment.id))!;
    const card = payment.cardId ? await vault.masked(payment.cardId) : undefined;
    return { operation, initial, payment, card };
  }

  const singleAccount = async (accountId: string | undefined): Promise<CascadeRules> => {
    if (accountId === undefined) return { accounts: [defaultAccount], moveOn: [] };
    const account = await deps.accountOf(accountId);
    return { accounts: [{ id: accountId, name: account?.name ?? accountId, connector: account?.connector ?? 'unknown' }], moveOn: [] };
  };

  /** The cascade of a workflow; the gateway's own acquirer when it names no account. */
  async function workflowRules(merchantId: string, workflowCode: string): Promise<CascadeRules> {
    const rules = await deps.rulesOf(merchantId, workflowCode);
    return rules.accounts.length > 0 ? rules : { accounts: [defaultAccount], moveOn: rules.moveOn };
  }

  /** The cascade an operation's attempts follow: the workflow's for an opening one, the authorizing account for follow-ups. */
  async function rulesFor(payment: PaymentRecord, op: Pick<OperationRecord, 'seq' | 'context'>): Promise<CascadeRules> {
    if (op.seq > 0 || payment.workflowCode === undefined) return singleAccount(payment.pspAccountId);
    const rules = await workflowRules(payment.merchantId, payment.workflowCode);
    // A card sent unauthenticated for its PSPs to run 3-D Secure moves on only to accounts that do:
    // one added to the cascade since (a simulated account, the gateway's own acquirer) would charge
    // it without the challenge its issuer may want.
    if (op.context.threeDsAtPsp !== true) return rules;
    const accounts: CascadeRules['accounts'][number][] = [];
    for (const account of rules.accounts) if (await runsThreeDs(account.id)) accounts.push(account);
    return { ...rules, accounts };
  }

  /**
   * Whether every PSP the cascade may try runs 3-D Secure itself (real PSPs' accounts, none
   * simulated). Only then may the engine's own gate stand aside: a cascade moving on from such a
   * PSP to one that runs none would charge a card its issuer wants challenged without authentication.
   */
  async function cascadeRunsThreeDs(rules: CascadeRules): Promise<boolean> {
    if (rules.accounts.length === 0) return false;
    for (const account of rules.accounts) if (!(await runsThreeDs(account.id))) return false;
    return true;
  }

  const runsThreeDs = async (accountId: string) => accountId !== defaultAccount.id && (await deps.connectorFor(accountId))?.runsThreeDs === true;

  /**
   * Whether a bank transfer can be made under `rules`: only the simulated bank takes one, so an
   * account of the cascade must be simulated, and the merchant not live. Otherwise the shopper would
   * be sent to the bank's page and confirm the transfer, and only then see it fail.
   */
  async function cascadeTakesBankTransfers(rules: CascadeRules, live: boolean): Promise<boolean> {
    if (live) return false;
    const accounts = rules.accounts.length > 0 ? rules.accounts : [defaultAccount];
    for (const account of accounts) {
      if ((await deps.connectorFor(account.id))?.simulated === true) return true;
    }
    return false;
  }

  /** The PSP request an operation's attempts send; the card is read back from the vault when not at hand. */
  async function requestFor(payment: PaymentRecord, op: OperationRecord, initial: OperationRecord, card: PspCard | undefined, testParameters: Readonly<Record<string, string>>,
    movingOn: boolean): Promise<AttemptPlan['request']> {
    const kind = op.kind as keyof typeof connectorOperationOf;
    const needsCard = kind === 'authorize' || kind === 'sale' || kind === 'rebill' || kind === 'credit';
    let pspCard = card;
    // A rebill on a renewed registration charges the registration's card of the day (see followUp).
    const cardId = kind === 'rebill' && typeof op.context.chargesCard === 'string' ? op.context.chargesCard : payment.cardId;
    if (!pspCard && needsCard && cardId) {
      const opened = await vault.open(cardId);
      if (!opened) throw new Error(`card of payment ${payment.id} vanished`);
      const cvv = op.seq === 0 ? await cvvs.take(payment.id) : undefined;
      // Said, as for an instrument: the next account may decline a card sent without its code.
      if (movingOn && !cvv) logger.info({ paymentId: payment.id }, 'no security code held for the cascade\'s next account (none was given, or its hold ran out); asking without it');
      pspCard = { pan: opened.pan, cvv, brand: opened.brand, holder: opened.holder, expiryMonth: opened.expiryMonth, expiryYear: opened.expiryYear };
    }
    const drawsOn = kind === 'refund' && typeof op.context.drawsOn === 'string' ? (await store.operation(op.context.drawsOn))?.pspReference : undefined;
    return {
      operation: connectorOperationOf[kind], amount: op.amount, live: payment.live,
      ...(pspCard ? { card: pspCard } : {}),
      ...(op.seq > 0 && initial.pspReference ? { originalReference: initial.pspReference } : {}),
      ...(drawsOn ? { refundedReference: drawsOn } : {}),
      ...toldOfOperation(op, kind, needsCard),
      testParameters,
    };
  }

  /** Whether a follow-up its PSP answered pending (with this code) is one the PSP carries out later by itself, however long that takes. */
  async function pendingLasts(accountId: string, acquirerCode: string | undefined): Promise<boolean> {
    const lasts = (await deps.connectorFor(accountId))?.pendingFollowUpsLast;
    return lasts === true || (typeof lasts === 'function' && lasts(acquirerCode));
  }

  function inBackground(p: Promise<unknown>) {
    const tracked = p.catch((err) => logger.error({ err: String(err) }, 'background payment work failed')).finally(() => running.delete(tracked));
    running.add(tracked);
  }

  const testParametersOf = (op: OperationRecord) => (op.context.testParameters ?? {}) as Record<string, string>;

  /**
   * Drives an operation from a recorded attempt (or its next one); returns the payment as the last
   * outcome's unit of work left it. `known` spares reading again what the caller holds already.
   */
  async function driveOperation(payment: PaymentRecord, op: OperationRecord, attempt: AttemptRecord | undefined, card: PspCard | undefined,
    testParameters: Readonly<Record<string, string>>, known: { initial?: OperationRecord; rules?: CascadeRules; takenUpAt?: number } = {}): Promise<LockedPayment | undefined> {
    // The opening operation is the payment's own id; a follow-up needs it for the PSP reference.
    const initial = op.seq === 0 ? op : known.initial ?? (await store.operation(payment.id)) ?? op;
    const returnBase = op.seq === 0 && typeof op.context.pspReturnUrl === 'string' ? op.context.pspReturnUrl : undefined;
    const plan: AttemptPlan = {
      rules: known.rules ?? await rulesFor(payment, op), rulesNow: () => rulesFor(payment, op),
      request: await requestFor(payment, op, initial, card, testParameters, (attempt?.seq ?? 0) > 0),
      ...(returnBase ? { returnBaseUrl: returnBase } : {}),
      ...(known.takenUpAt !== undefined ? { takenUpAt: known.takenUpAt } : {}),
    };
    let first = attempt;
    if (!first) {
      first = await write(async (w) => {
        const locked = await w.payments.lock(payment.id);
        const current = locked?.operations.find((o) => o.id === op.id);
        if (!locked || !current || current.status !== 'pending') return undefined;
        const last = attemptsOfOperation(locked.attempts, op.id).at(-1);
        if (last && last.status !== 'failed') return undefined;
        const next = await runner.recordAttempt(w, locked, op.id, plan.rules, current.details['3ds.transactionStatus'] !== undefined);
        // Nothing left to try (the rules changed since, or another node took the slot and ended it):
        // the operation ends with its last attempt's decline rather than waiting for ever.
        if (!next && last && nextStep(plan.rules, attemptsOfOperation(locked.attempts, op.id)).kind === 'declined') {
          await runner.settle(w, locked, op.id, { status: 'failed', reason: last.reason, resultCode: last.resultCode, pspReference: last.pspReference, details: current.details, at: clock.now() });
        }
        return next;
      });
    }
    const driven = await runner.drive(payment.id, op.id, first, plan);
    // The card as sent: a code taken back from a hold (a cascade resumed) is held again for the account after.
    await holdCvvForCascade(payment, op, plan.request.card, plan.rules, driven);
    return driven;
  }

  /**
   * An authorization left open at its PSP (the PSP's own 3-D Secure, a lost answer) may later move
   * on to the cascade's next account, resumed by the shopper's return or the reconciler, when the
   * card's security code is no longer at hand: it is held, sealed, for that next attempt (taken,
   * and so deleted, by it), no longer than an asynchronous payment lives. Nothing is held when no
   * account is left to move on to, so a payment answered at once writes nothing more.
   */
  async function holdCvvForCascade(payment: PaymentRecord, op: OperationRecord, card: PspCard | undefined, rules: CascadeRules, driven: LockedPayment | undefined): Promise<void> {
    if (op.seq !== 0 || !card?.cvv || !driven) return;
    const current = driven.operations.find((o) => o.id === op.id);
    if (!current || !isOpen(current.status)) return;
    if (attemptsOfOperation(driven.attempts, op.id).length >= rules.accounts.length) return;
    try {
      await cvvs.put(payment.id, card.cvv, clock.now() + asyncTimeoutMs);
      // Ended meanwhile (the shopper's return or a notification settled it on another node, whose
      // drop came before this hold): let go of the code now, as that settle would have.
      const latest = await store.operation(op.id);
      if (latest && !isOpen(latest.status)) await cvvs.drop(payment.id);
    } catch (err) {
      logger.warn({ err: String(err), paymentId: payment.id }, 'the security code could not be held for the cascade\'s next account');
    }
  }

  /**
   * Settles an open attempt with its PSP's answer, found after the first call (the shopper's return,
   * a notification, the reconciler). An authorization that ends so, with no account left to move
   * on to, lets go of the security code held for one at once: kept until its time ran out, it would
   * outlive the authorization it was captured for.
   */
  async function settleAttempt(paymentId: string, op: OperationRecord, attemptId: string, outcome: Outcome, rules: CascadeRules | undefined) {
    const r = await runner.settleAttempt(paymentId, attemptId, outcome, rules);
    if (r.changed && !r.next && op.seq === 0 && (outcome.kind === 'approved' || outcome.kind === 'declined')) {
      await cvvs.drop(paymentId).catch((err: unknown) => logger.warn({ err: String(err), paymentId }, 'a security code held for the cascade could not be deleted; its expiry removes it'));
    }
    return r;
  }

  /**
   * Before a shopper at a PSP's own 3-D Secure is given up on, the PSP is asked what it did: the
   * shopper may have finished there without their return reaching the gateway (the browser closed,
   * or the gateway was killed while asking on that return). A payment the PSP approved is settled
   * approved, as the return would have settled it; expired first, the approval could only be a
   * late approval, reversed, and the shopper's finished purchase undone. A decline is left to the
   * expiry: settled as a decline, a cascade would go on to its next account with the shopper gone.
   * Whether it settled.
   */
  async function settledAtPspBeforeExpiry(o: OperationRecord): Promise<boolean> {
    const open = attemptsOfOperation(await store.attemptsOf(o.paymentId), o.id).filter((a) => isOpen(a.status)).at(-1);
    const operation = connectorOperationOf[o.kind as keyof typeof connectorOperationOf];
    const connector = open && operation ? await deps.connectorFor(open.accountId) : undefined;
    if (!open || !connector || connector.statusApi === false) return false;
    let known: Outcome | undefined;
    try {
      known = await connector.lookup(open.id, { operation, amount: o.amount, originalReference: undefined, pspReference: open.pspReference });
    } catch (err) {
      logger.warn({ err: String(err), attemptId: open.id }, 'a PSP could not say what became of an attempt whose shopper did not come back: it expires, and is asked again after');
      return false;
    }
    if (known?.kind !== 'approved') return false;
    const payment = await store.payment(o.paymentId);
    if (!payment) return false;
    const rules = await rulesFor(payment, o);
    const r = await settleAttempt(o.paymentId, o, open.id, known, rules);
    if (!r.changed) return false;
    await threeds.close('payment', o.paymentId);
    return true;
  }

  /** Waits (in real time, at most a PSP timeout) while an operation is at a PSP, for a shopper's browser to follow it. */
  async function untilNotPending(operationId: string): Promise<void> {
    const until = performance.now() + pspTimeoutMs;
    while ((await store.operation(operationId))?.status === 'pending' && performance.now() < until) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  /** Ends an operation that waited for its shopper too long: its page closed, its held code dropped. */
  async function expireOne(o: OperationRecord): Promise<boolean> {
    if (await settledAtPspBeforeExpiry(o)) return true;
    // The page first, so that its shopper does not answer it while the payment ends; only one whose
    // time is up (the next PSP's, opened since a late return, is not this wait's).
    await threeds.expire('payment', o.paymentId, { lapsedOnly: true });
    return write(async (w) => {
      const locked = await w.payments.lock(o.paymentId);
      const current = locked?.operations.find((x) => x.id === o.id);
      // Still as read: a shopper back meanwhile may have been sent to the next PSP's challenge, a
      // fresh wait that is not this one's to end.
      if (!locked || current?.status !== 'awaiting' || current.updatedAt !== o.updatedAt) return false;
      const expired = refusal(challengeRefusals.expired, o.details, clock.now());
      // A shopper who never came back from a PSP's own 3-D Secure: its attempt ends with it.
      const open = attemptsOfOperation(locked.attempts, o.id).filter((a) => isOpen(a.status)).at(-1);
      if (open) await w.payments.settleAttempt(open, { ...expired, pspReference: open.pspReference });
      await runner.settle(w, locked, o.id, expired);
      return open ?? true;
    }).then(async (ended) => {
      if (ended !== false) {
        // Ended as read, its own page too, whatever time it was given.
        await threeds.expire('payment', o.paymentId);
        await cvvs.drop(o.paymentId);
      }
      // The shopper may have finished the PSP's challenge without coming back (their return lost,
      // the browser closed): asked, a PSP that charged the card makes it a late approval, reversed.
      if (typeof ended === 'object') inBackground(askAfterExpiry(ended, o));
      return ended !== false;
    });
  }

  /** Records follow-up operations decided under the payment's lock, in one unit of work. */
  async function recordFollowUps(payment: PaymentRecord, decide: (locked: LockedPayment) => Result<OperationRecord[], FollowUpError>, join?: (tx: Tx) => Promise<void>,
    guard?: (w: Writers, locked: LockedPayment) => Promise<FollowUpError | undefined>) {
    for (let read = payment, tries = 0; ; tries++) {
      // Follow-ups go to the account that holds the authorization (fixed once authorized), resolved
      // before the unit of work, whose transaction owns SQLite's one connection.
      const rules = await singleAccount(read.pspAccountId);
      const r = await write(async (w): Promise<Result<RecordedFollowUps, FollowUpError> | { moved: PaymentRecord }> => {
        const locked = await w.payments.lock(read.id);
        if (!locked) return fail('not_found');
        // The authorization was settled at its account since `read` was taken (a reconciler or a
        // PSP's notification approved it meanwhile): decided again with that account, never sent
        // to the one an unsettled payment falls back to.
        if (locked.payment.pspAccountId !== read.pspAccountId) return { moved: locked.payment };
        const refused = await guard?.(w, locked);
        if (refused) return fail(refused);
        const decided = decide(locked);
        if (!decided.ok) return decided;
        const attempts: (AttemptRecord | undefined)[] = [];
        for (const op of decided.value) {
          await w.payments.insertOperation(op);
          locked.operations.push(op);
          if (recordedOnly(op)) {
            // Chargebacks, their reversals and receipts report what the scheme or bank already did;
            // so does the void of a rest its PSP released with a capture.
            await runner.settle(w, locked, op.id, { status: 'succeeded', reason: undefined, resultCode: undefined, pspReference: op.pspReference, details: {}, at: op.createdAt });
            attempts.push(undefined);
          } else {
            attempts.push(await runner.recordAttempt(w, locked, op.id, rules, false));
            await runner.announce(w, locked, op.id);
          }
        }
        await join?.(w.tx);
        return ok({ ops: decided.value, attempts, locked, rules });
      });
      if (!('moved' in r)) return r;
      // An account is set once, so a second read finds it settled; more means something is wrong.
      if (tries >= 2) throw new Error(`the account of payment ${read.id} keeps changing`);
      read = r.moved;
    }
  }

  const newOperation = (payment: PaymentRecord, seq: number, kind: OperationKind, amount: Money, referencedId: string | undefined,
    merchantTransactionId: string | undefined, context: Readonly<Record<string, unknown>>): OperationRecord => {
    const now = clock.now();
    return {
      id: ids.hex32(), paymentId: payment.id, seq, merchantId: payment.merchantId, entityId: payment.entityId, kind,
      status: 'pending', amount, referencedId, resultCode: undefined, reason: undefined, pspReference: undefined,
      merchantTransactionId, shortId: ids.shortId(), context, details: {}, unknownSince: undefined, createdAt: now, updatedAt: now,
    };
  };

  /**
   * Follow-ups of the payment as a whole, decided in turn, each against the operations before it
   * (so their amounts add up): a refund in parts, one per transaction it draws on (a PSP that
   * refunds per transaction refuses one wider than any one capture), and a cancel's void after them.
   */
  function followUpsInTurn(locked: LockedPayment, steps: readonly { kind: FollowUpKind; amount: Money | undefined; context: Readonly<Record<string, unknown>> }[],
    merchantTransactionId: string | undefined): Result<OperationRecord[], FollowUpError> {
    const all = [...locked.operations];
    const initial = initialOf(all);
    const ops: OperationRecord[] = [];
    for (const step of steps) {
      const decided = decideFollowUp(all, { kind: step.kind, amount: step.amount, target: initial, awaitsReceipt: locked.payment.method === 'bank_transfer' });
      if (!decided.ok) return decided;
      const op = newOperation(locked.payment, all.length, step.kind, decided.value, initial.id, merchantTransactionId, step.context);
      ops.push(op);
      all.push(op);
    }
    return ok(ops);
  }

  /** A refund of `whole`, as one refund per transaction it draws on. */
  const refundSteps = (ops: LockedPayment['operations'], whole: Money, context: Readonly<Record<string, unknown>>) =>
    refundParts(ops, whole.amount).map((part) => ({
      kind: 'refund' as const, amount: { amount: part.amount, currency: whole.currency }, context: part.drawsOn ? { ...context, drawsOn: part.drawsOn } : context,
    }));

  /**
   * Sends recorded follow-ups to the PSP (in order), releases a final capture's rest afterwards,
   * and answers their views from what the units of work wrote.
   */
  async function runFollowUps(recorded: RecordedFollowUps, testParameters: Readonly<Record<string, string>>): Promise<PaymentView[]> {
    const { ops, attempts, rules } = recorded;
    let state: LockedPayment = recorded.locked;
    const initial = initialOf(state.operations);
    const inDoubt = new Set<string>();
    for (const [i, op] of ops.entries()) {
      if (recordedOnly(op)) continue;
      // Taken up now, after the calls before it: not held up since its attempt was recorded with theirs.
      const driven = await driveOperation(state.payment, op, attempts[i], undefined, testParameters, { initial, rules, takenUpAt: clock.now() }).catch(unrecorded(op.id));
      if (driven === 'unrecorded') {
        // The rest stay recorded, for the reconciler: the store that failed this one would likely fail them too.
        for (const rest of ops.slice(i)) inDoubt.add(rest.id);
        break;
      }
      state = driven ?? state;
      // Any follow-up that settles may be what a released rest waited for: the capture itself, or
      // another operation that was still in flight when the capture succeeded.
      // The follow-up is done and written: a release that cannot be written now (the store
      // unavailable) must not answer it as refused. The `release-capture-rests` job voids the rest
      // within minutes (a later follow-up's settlement may first), and an operator is told.
      if (restToRelease(state.operations)) {
        await releaseRest(state.payment).catch((err: unknown) => {
          logger.error({ err: String(err), paymentId: state.payment.id }, 'the rest of a final capture could not be released now; the release-capture-rests job releases it within minutes');
        });
      }
    }
    // The follow-ups are at the PSP whatever the store says now: an unreadable card (the store away)
    // leaves the answer without it rather than without the operations.
    const card = state.payment.cardId ? await vault.masked(state.payment.cardId).catch(() => undefined) : undefined;
    // An operation a racing reconciler settled is read again; the rest are as this call left them.
    return Promise.all(ops.map(async (op) => {
      if (inDoubt.has(op.id)) return inDoubtView(op.id, { operation: op, initial, payment: state.payment, card });
      const settled = state.operations.find((o) => o.id === op.id);
      return settled && settled.status !== 'pending' ? { operation: settled, initial, payment: state.payment, card } : view(op.id);
    }));
  }

  /**
   * For a caller waiting on an operation whose attempt is recorded: a failure past that point (the
   * PSP's answer not written, the database lost mid-commit) is logged and read as in doubt. The PSP
   * may have acted; the reconciler asks it and settles the operation, as after a lost answer. An
   * error would reach the merchant as a refusal with no id to find the payment by, for money the
   * PSP may have moved.
   */
  function unrecorded(operationId: string) {
    return (err: unknown): 'unrecorded' => {
      logger.error({ err: String(err), operationId }, 'a PSP call\'s outcome could not be recorded: left in doubt, the reconciler settles it with the PSP');
      return 'unrecorded';
    };
  }

  /**
   * How an operation left in doubt is answered: as the gateway now knows it, unknown while still open
   * (awaiting too: the shopper is back and the PSP has answered, so no page waits for them).
   */
  function asInDoubt(v: PaymentView): PaymentView {
    if (v.operation.status !== 'pending' && v.operation.status !== 'awaiting') return v;
    const operation = { ...v.operation, status: 'unknown' as const };
    return { ...v, operation, initial: v.initial.id === operation.id ? operation : v.initial };
  }

  /**
   * An operation left in doubt, answered as the store now has it, or, when the store cannot be read
   * either (the database that lost the outcome is still away: a restart, a failover), as the caller
   * last held it. Failing the answer would tell the merchant "nothing happened, send it again", with
   * no id, for a payment the PSP may have charged.
   */
  async function inDoubtView(operationId: string, held: PaymentView): Promise<PaymentView> {
    const v = await view(operationId).catch((err: unknown) => {
      logger.warn({ err: String(err), operationId }, 'an operation in doubt could not be read again; answered as last held');
      return held;
    });
    return asInDoubt(v);
  }

  /**
   * What is only recorded, never sent to a PSP: what the scheme or bank already did, and the void of
   * a rest the capture's PSP released with it (asking it again would be refused: nothing is left).
   */
  const recordedOnly = (op: OperationRecord) => recordedOnlyKinds.has(op.kind) || (op.kind === 'void' && op.context.releasedByPsp === true);

  /**
   * The capture that released the rest of its authorization, if any: a succeeded one the merchant
   * asked final, or one its PSP made final itself (a PSP that takes one capture per authorization
   * releases the rest with it, `RestReleased`). The PSP's release stands even when the card scheme
   * later rejects the capture (Adyen's CAPTURE_FAILED), and both may arrive before the release ran.
   */
  const releasingCapture = (ops: readonly OperationRecord[]) =>
    ops.findLast((o) => o.kind === 'capture' && (o.details.RestReleased === 'true' || (o.status === 'succeeded' && o.context.final === true)));

  /**
   * The capture whose released rest the books still hold, if any (read from a payment as last
   * seen; decided again under the lock). One void per capture: one its PSP refused is not sent
   * again, or every settlement (that void's own among them) would send the next; that rest is left
   * to the merchant's void or the expiry job's.
   */
  const restToRelease = (ops: readonly OperationRecord[]) => {
    const capture = releasingCapture(ops);
    if (!capture || !cancelPlan(ops).voidOpen) return undefined;
    return ops.some((o) => o.kind === 'void' && o.context.releases === capture.id) ? undefined : capture;
  };

  /**
   * What a released capture left of the authorization is voided: sent to the PSP after a final
   * capture, or only recorded when the PSP said the capture released it. Called wherever an
   * operation of the payment settles (its follow-up's run, the reconciler, the PSP's
   * notification), because the release must wait for every operation in flight: a second capture
   * sent beside the first would otherwise leave the rest held once the PSP refused it. Until then
   * the void is refused here and the in-flight operation's settlement calls again.
   */
  async function releaseRest(payment: PaymentRecord): Promise<boolean> {
    let capture: OperationRecord | undefined;
    const recorded = await recordFollowUps(payment, (locked) => {
      capture = restToRelease(locked.operations);
      if (!capture) return ok([]);
      const initial = initialOf(locked.operations);
      const releasedByPsp = capture.details.RestReleased === 'true';
      // A release its PSP reported happened whatever the books say (a refund left standing on a
      // capture the scheme then rejected would refuse a void the merchant asked for).
      const decided = decideFollowUp(locked.operations, { kind: 'void', amount: undefined, target: initial, awaitsReceipt: false, expiring: releasedByPsp });
      if (!decided.ok) return ok([]);
      return ok([newOperation(locked.payment, locked.operations.length, 'void', decided.value, initial.id, capture.merchantTransactionId,
        { ...capture.context, final: undefined, releases: capture.id, ...(releasedByPsp ? { releasedByPsp: true } : {}) })]);
    });
    if (!recorded.ok || recorded.value.ops.length === 0) return false;
    await runFollowUps(recorded.value, testParametersOf(capture!));
    return true;
  }

  /** After an operation of the payment settled outside its follow-up's run: releases what a capture released, read afresh. */
  async function releaseRestAfterSettling(paymentId: string): Promise<void> {
    const found = await service.details(paymentId);
    if (found && restToRelease(found.operations)) await releaseRest(found.payment);
  }

  /** A payment that says it is a later charge of a card kept on file (`standingInstruction.mode=REPEATED`). */
  function repeatedInstruction(input: PayInput): boolean {
    const si = input.context.standingInstruction;
    return typeof si === 'object' && si !== null && (si as Record<string, unknown>).mode === 'REPEATED';
  }

  /**
   * What the first transaction a later charge of a kept card names (a merchant-initiated one, or the
   * cardholder's REPEATED one) is to its card scheme. The id a successful INITIAL charge answered is
   * the scheme's where its PSP gave one, else the acquirer's reference or the gateway's own id:
   * when the merchant's id names such a transaction of its own,
   * the scheme's id is the one its answer carried, or none; an id the gateway does not know (the
   * merchant's card on file from elsewhere) is taken as the scheme's. A PSP told a reference of its
   * own as the scheme's may decline the charge or flag it.
   */
  async function initialTransactionOf(input: PayInput): Promise<{ initialSchemeTransactionId?: string | null }> {
    const si = input.context.standingInstruction;
    // Any later charge of a kept card, the merchant's or the cardholder's (a REPEATED standing
    // instruction): the id it names is resolved to the scheme's alike, or another PSP's reference
    // would go to the acquirer as the scheme's.
    const given = typeof si === 'object' && si !== null && (input.merchantInitiated || repeatedInstruction(input))
      ? (si as Record<string, unknown>).initialTransactionId : undefined;
    if (typeof given !== 'string') return {};
    const named = await store.operationNamed(input.merchant.id, given);
    if (!named) return { initialSchemeTransactionId: given };
    return { initialSchemeTransactionId: named.details.networkTransactionId ?? null };
  }

  /**
   * A card kept for later use (an executions instrument stored with its `futureUsage`, named in the
   * context as `cardOnFileUse`) is stored, to its card scheme, by its first approved charge: that
   * charge is flagged as the one that sets the credential up, as a /v1 payment that registers its
   * card is, and a later one the cardholder makes as a use of the kept card. Sent as a one-off, a
   * later charge of it on file would name no first transaction.
   */
  async function storesKeptCard(input: PayInput): Promise<{ storesCard?: true; usesKeptCard?: true }> {
    const cardId = input.storedCard?.cardId;
    if (!cardId || typeof input.context.cardOnFileUse !== 'string' || input.merchantInitiated) return {};
    return await store.approvedWithCard(cardId) ? { usesKeptCard: true } : { storesCard: true };
  }

  /** The card a payment uses, checked: a new one (sealed for the vault), a stored one (opened), or none (a bank transfer). */
  async function instrumentOf(input: PayInput, now: number): Promise<Result<Instrument, PayError>> {
    if ([input.card, input.storedCard, input.bankTransfer].filter(Boolean).length !== 1) {
      throw new Error('pay needs exactly one of card, storedCard and bankTransfer');
    }
    const renewed = input.storedCard?.renewed;
    if (renewed) {
      // The security code typed with a stored card is checked as a new card's is (its brand's length).
      const cardError = checkCard({ ...renewed.card, cvv: input.storedCard!.cvv }, now);
      if (cardError) return fail(cardError);
      return ok({ card: { ...renewed.card, cvv: input.storedCard!.cvv }, masked: renewed.sealed.masked, sealed: renewed.sealed, cardId: renewed.sealed.record.id });
    }
    const stored = input.storedCard ? await vault.open(input.storedCard.cardId) : undefined;
    if (input.storedCard && !stored) return fail('card_not_found');
    if (input.card) {
      const cardError = checkCard(input.card, now);
      if (cardError) return fail(cardError);
      const sealed = vault.sealCard(input.merchant.id, input.card);
      return ok({ card: input.card, masked: sealed.masked, sealed, cardId: sealed.record.id });
    }
    if (!stored) return ok({ card: undefined, masked: undefined, sealed: undefined, cardId: undefined });
    if (isExpired(stored.expiryMonth, stored.expiryYear, now)) return fail('card_expired');
    const cvv = input.storedCard!.cvv;
    if (cvv !== undefined && cvv.reveal().length !== cvvLength(stored.brand)) return fail('cvv_brand_mismatch');
    const { pan, ...masked } = stored;
    return ok({
      card: { pan, cvv: input.storedCard!.cvv, brand: stored.brand, holder: stored.holder, expiryMonth: stored.expiryMonth, expiryYear: stored.expiryYear },
      masked, sealed: undefined, cardId: input.storedCard!.cardId,
    });
  }

  /**
   * How the payment is authenticated: 3-D Secure's plan for a card, the shopper's bank for a
   * transfer. `pspAuthenticates`: every PSP of the cascade runs 3-D Secure itself, so the card goes
   * to it unauthenticated and it challenges the shopper (or not) on its own page; the engine's own
   * gate (whose issuer is simulated) would otherwise challenge, or refuse, before the PSP is asked.
   */
  function planOf(input: PayInput, card: CardInput | undefined, pspAuthenticates: boolean): AuthenticationPlan | { kind: 'bank' } {
    if (!card) return { kind: 'bank' };
    // Money to the card: the shopper proves nothing to receive it, so nobody is challenged.
    if (input.kind === 'credit') return { kind: 'none' };
    // Authenticated already by the merchant's own 3-D Secure server: its result goes to the PSP as
    // the gateway's own would, live or not, and nobody challenges the shopper a second time.
    const external = externalAuthenticationOf(input);
    if (external) return { kind: 'frictionless', result: externalResultOf(external) };
    if (pspAuthenticates) return { kind: 'none' };
    // The engine's own gate authenticates against a simulated issuer: a live merchant's shopper is
    // never put through it (its table cards and test switches mean nothing there). Its PSPs run
    // 3-D Secure themselves; a simulated account refuses its payments anyway.
    if (input.merchant.live) return { kind: 'none' };
    const asked = input.authentication ?? noAuthenticationRequest;
    // A merchant-initiated payment has no shopper to authenticate (an exemption, as for recurring charges).
    return planAuthentication(card.pan.reveal(), card.brand, input.merchantInitiated ? { ...asked, enrolled: false } : asked);
  }

  /** The merchant's own MPI's result, where it applies: a charge the merchant makes without the shopper authenticates nobody. */
  function externalAuthenticationOf(input: PayInput): ExternalAuthentication | undefined {
    return input.kind !== 'credit' && !input.merchantInitiated ? input.authentication?.external : undefined;
  }

  /** What the intent keeps of the merchant's MPI's result beside the ECI and status its details hold: the cryptogram and its ids, for the PSP. */
  function cryptogramContextOf(input: PayInput): { externalAuthentication?: Record<string, string> } {
    const e = externalAuthenticationOf(input);
    if (!e) return {};
    return {
      externalAuthentication: {
        authenticationValue: e.authenticationValue, ...(e.dsTransactionId !== undefined ? { dsTransactionId: e.dsTransactionId } : {}),
        ...(e.xid !== undefined ? { xid: e.xid } : {}),
      },
    };
  }

  /** The payment and its opening operation as the intent records them. */
  function intentOf(input: PayInput, instrument: Instrument, plan: IntentPlan, paymentId: string, awaiting: boolean, now: number, threeDsAtPsp: boolean) {
    const entityId = input.scope.channel === 'opp' ? input.scope.entityId : undefined;
    const newRegistration = input.createRegistration === true && instrument.sealed !== undefined && entityId !== undefined;
    const registrationId = newRegistration ? ids.hex32() : input.storedCard?.registrationId;
    const payment: PaymentRecord = {
      id: paymentId, merchantId: input.merchant.id, channel: input.scope.channel, entityId, initialKind: input.kind,
      status: 'pending', amount: input.amount.amount, currency: input.amount.currency, cardId: instrument.cardId,
      method: instrument.card ? 'card' : 'bank_transfer', live: input.merchant.live, pspAccountId: undefined,
      // Every payment follows its merchant's cascade: /v1 names no workflow, so it runs payment-acceptance's.
      workflowCode: input.workflowCode ?? 'payment-acceptance', version: 1, createdAt: now, updatedAt: now,
    };
    // The opening operation shares the payment's id: it is what the merchant calls "the payment".
    const operation: OperationRecord = {
      id: paymentId, paymentId, seq: 0, merchantId: input.merchant.id, entityId, kind: input.kind,
      status: awaiting ? 'awaiting' : 'pending', amount: input.amount, referencedId: undefined,
      resultCode: undefined, reason: undefined, pspReference: undefined,
      merchantTransactionId: input.merchantTransactionId, shortId: ids.shortId(),
      context: {
        ...input.context, ...(registrationId !== undefined ? { registrationId } : {}), testParameters: input.testParameters,
        // The card is stored by this payment, for later charges: its PSP is told so.
        ...(newRegistration ? { storesCard: true } : {}),
        // The cardholder is not there (a stored-credential charge the merchant starts): its PSP is told so.
        ...(input.merchantInitiated ? { merchantInitiated: true } : {}),
        // Sent unauthenticated for its PSPs to run 3-D Secure (every account of the cascade does): its
        // next account is one of those, whatever account the cascade has gained since.
        ...(threeDsAtPsp ? { threeDsAtPsp: true } : {}),
        // The merchant's own MPI's cryptogram and its ids, for the PSP (the ECI and status are in the details).
        ...cryptogramContextOf(input),
        // Where a PSP's own 3-D Secure returns the shopper (only with a shopper and a page to return
        // to), and the origins of the merchant's pages it goes on to from there: the forwarding page's
        // form must be allowed to end up at them. Never for a credit: the shopper proves nothing to
        // receive money, and sent a return address a PSP would challenge the card first.
        ...(input.shopperBaseUrl && input.returnUrls.length > 0 && !input.merchantInitiated && input.kind !== 'credit'
          ? { pspReturnUrl: `${input.shopperBaseUrl}/hosted/psp-return/${paymentId}`, pspReturnOrigins: [...new Set(input.returnUrls.map((u) => new URL(u).origin))] }
          : {}),
      },
      details: plan.kind === 'frictionless' ? authenticationDetails(plan.result) : {}, unknownSince: undefined, createdAt: now, updatedAt: now,
    };
    return { payment, operation, newRegistrationId: newRegistration ? registrationId : undefined, instrument };
  }

  /**
   * Intent first, with its first attempt, committed before any PSP hears of it: the sealed card, a
   * registration made with it, the payment, its opening operation (a duplicate merchant transaction
   * id refused by the database), the caller's own writes (`join`) and the outbox, in one unit of work.
   */
  async function recordIntent(input: PayInput, intent: ReturnType<typeof intentOf>, plan: IntentPlan,
    rules: CascadeRules | undefined, challenge: Challenge | undefined, now: number): Promise<Result<AttemptRecord | undefined, PayError>> {
    const { payment, operation, newRegistrationId: registrationId, instrument } = intent;
    return write(async (w): Promise<Result<AttemptRecord | undefined, PayError>> => {
      if (instrument.sealed) await w.vault.insertCard(instrument.sealed.record);
      if (registrationId && instrument.sealed && payment.entityId) {
        // The registration commits with the payment's intent: a token for a card the payment stored.
        await w.vault.insertInstrument(registrationRecord(registrationId, payment.merchantId, payment.entityId, instrument.sealed.record.id, now));
        const testMode = typeof operation.context.testMode === 'string' ? operation.context.testMode : undefined;
        await w.event(registrationEvent(ids.hex32(), 'created', { id: registrationId, merchantId: payment.merchantId, entityId: payment.entityId, card: instrument.sealed.masked }, now, { testMode }));
      }
      await w.payments.insertPayment(payment);
      if (!await w.payments.insertOperation(operation, { uniqueMerchantTransactionId: input.uniqueMerchantTransactionId === true })) {
        throw new DuplicateMerchantTransactionId();
      }
      if (input.join && !(await input.join(w.tx, payment.id))) throw new JoinRefused();
      const locked: LockedPayment = { payment, operations: [operation], attempts: [] };
      if (plan.kind === 'refused') {
        await runner.settle(w, locked, payment.id, refusal(plan.reason, authenticationDetails({ status: plan.status, eci: plan.eci, flow: 'frictionless' }), now));
        return ok(undefined);
      }
      if (plan.kind === 'declined') {
        await runner.settle(w, locked, payment.id, refusal(plan.reason, {}, now));
        return ok(undefined);
      }
      const attempt = rules ? await runner.recordAttempt(w, locked, payment.id, rules, plan.kind === 'frictionless') : undefined;
      await runner.announce(w, locked, payment.id, challenge ? { id: challenge.id, purpose: challenge.purpose } : undefined);
      return ok(attempt);
    }).catch((err: unknown) => {
      if (err instanceof DuplicateMerchantTransactionId) return fail('duplicate_merchant_transaction_id' as const);
      if (err instanceof JoinRefused) return fail('not_allowed' as const);
      throw err;
    });
  }

  /**
   * A follow-up the engine makes on its own (a bank's receipt, an expired authorization's void),
   * in the payment's own scope and filed under its merchant transaction id, so the merchant's
   * query finds it.
   */
  function ownFollowUp(p: PaymentRecord, ops: readonly OperationRecord[], kind: FollowUpKind, amount: Money | undefined, context: Readonly<Record<string, unknown>>) {
    const initial = initialOf(ops);
    const scope: Scope = p.channel === 'opp' ? { channel: 'opp', entityId: p.entityId! } : { channel: 'executions' };
    return service.followUp({
      merchant: { id: p.merchantId } as Merchant, scope, kind, referencedId: initial.id, amount,
      merchantTransactionId: initial.merchantTransactionId, context, testParameters: {}, expiring: context.expired === true,
    });
  }

  /**
   * A capture or refund its PSP confirmed, then reported failed (the card scheme rejected it): the
   * attempt and its operation fail, so the captured (or refunded) amount is open again, and the
   * change is told like any outcome (outbox event, ledger reversal, projections). Only the attempt
   * that succeeded the operation, and only once.
   */
  async function undoConfirmed(attempt: AttemptRecord, outcome: Extract<Outcome, { kind: 'declined' }>): Promise<boolean> {
    return write(async (w) => {
      const locked = await w.payments.lock(attempt.paymentId);
      const mine = locked?.attempts.find((a) => a.id === attempt.id);
      const op = locked?.operations.find((o) => o.id === attempt.operationId);
      if (!locked || !mine || !op || mine.status !== 'succeeded' || op.status !== 'succeeded') return false;
      if (!undoableKinds.has(op.kind)) {
        // A sale's or rebill's own capture the scheme rejected (Adyen sends CAPTURE_FAILED for an
        // automatic capture too): the money will not come, but the books have no capture of it to
        // undo. Acknowledged (the PSP would send it again for ever) and told as an error, once per
        // delivery, or the books would keep money captured that never arrives, unnoticed.
        logger.error({ paymentId: locked.payment.id, operationId: op.id, kind: op.kind, pspReference: outcome.pspReference ?? mine.pspReference, acquirerCode: outcome.acquirerCode, amount: op.amount },
          'the PSP reported a confirmed charge failed that the gateway cannot undo: the money will not come; refund or write it off with the PSP');
        return false;
      }
      const s = settlementOf(outcome, clock.now(), op.details);
      await w.payments.settleAttempt(mine, s);
      locked.attempts.splice(locked.attempts.indexOf(mine), 1, { ...mine, status: s.status, reason: s.reason, resultCode: s.resultCode, pspReference: s.pspReference ?? mine.pspReference, updatedAt: s.at });
      logger.warn({ paymentId: locked.payment.id, operationId: op.id, kind: op.kind, resultCode: s.resultCode }, 'PSP reported a confirmed operation failed: undone');
      await runner.settle(w, locked, op.id, { ...s, pspReference: s.pspReference ?? op.pspReference }, { undone: true });
      // Money back on hold: the expiry job must look at the payment again (it may have marked it closed).
      if (op.kind === 'capture' || op.kind === 'receipt') await w.payments.setHoldReleased(locked.payment.id, null);
      const short = uncovered(totalsOf(locked.operations.map((o) => (o.id === op.id ? { ...o, status: s.status } : o))));
      if (short > 0) {
        // The PSP paid shoppers back money it now says was never taken: only a new capture (the
        // hold is kept for it: no void but the expiry job's is allowed meanwhile) or the PSP's own
        // word that the refunds failed too makes the books whole.
        const voided = totalsOf(locked.operations).reversed;
        logger.error({ paymentId: locked.payment.id, operationId: op.id, uncovered: short, currency: op.amount.currency },
          voided ? 'refunds stand on a capture the PSP reported failed, and the authorization is voided: recover the amount with the PSP'
            : 'refunds stand on a capture the PSP reported failed: capture again to cover them (before the authorization expires), or have the PSP fail the refunds');
      }
      return true;
    });
  }

  /**
   * Under the payment's lock, so that a capture undone meanwhile (which opens the hold again under
   * the same lock) is never marked over: the job would not look at the payment again.
   */
  async function markHoldReleased(paymentId: string, at: number): Promise<void> {
    await write(async (w) => {
      const locked = await w.payments.lock(paymentId);
      if (locked && holdClosed(locked.operations)) await w.payments.setHoldReleased(paymentId, at);
    });
  }

  const service: PaymentService = {
    async pay(input) {
      const now = clock.now();
      // A live merchant's payments move real money: no test system may answer them.
      if (input.merchant.live && input.testSystemRequested) return fail('test_system_on_live_merchant');
      const instrument = await instrumentOf(input, now);
      if (!instrument.ok) return instrument;
      let { card } = instrument.value;
      const { masked } = instrument.value;
      const cascade = await workflowRules(input.merchant.id, input.workflowCode ?? 'payment-acceptance');
      // Only a shopper who is there can be sent to a PSP's own 3-D Secure.
      const pspAuthenticates = card !== undefined && !input.merchantInitiated && await cascadeRunsThreeDs(cascade);
      const bankTaken = card !== undefined || await cascadeTakesBankTransfers(cascade, input.merchant.live);
      const plan = bankTaken ? planOf(input, card, pspAuthenticates) : { kind: 'declined' as const, reason: 'not_supported' as const };
      const purpose: ChallengePurpose | undefined = plan.kind === 'challenge' ? '3ds' : plan.kind === 'bank' ? 'bank_transfer' : undefined;
      if (purpose && input.returnUrls.length === 0) return fail('return_url_required');
      const paymentId = ids.hex32();
      // The page is opened before the payment that points to it: a crash in between leaves only
      // an unreachable page behind, never a payment waiting on a page that does not exist.
      const challenge = purpose ? await threeds.open({
        merchantId: input.merchant.id, merchantName: input.merchant.name, purpose,
        subject: { kind: 'payment', id: paymentId }, amount: input.amount,
        instrumentLabel: masked ? `${masked.brand} •••• ${masked.last4}` : input.bankTransfer?.bankName ?? 'Bank transfer',
        returnUrls: input.returnUrls, expiresAt: now + asyncTimeoutMs,
      }) : undefined;
      // What a stored credential's charge is to the card scheme, read only for such charges (a later
      // one naming its first transaction, the card typed in or kept; a kept card's): none on a plain payment.
      const credential = (input.merchantInitiated || input.storedCard || repeatedInstruction(input)) ? { ...await initialTransactionOf(input), ...await storesKeptCard(input) } : {};
      const intent = intentOf(Object.keys(credential).length > 0 ? { ...input, context: { ...input.context, ...credential } } : input, instrument.value, plan, paymentId, challenge !== undefined, now,
        pspAuthenticates && plan.kind === 'none' && input.kind !== 'credit');
      const { payment, operation } = intent;
      const rules = challenge || plan.kind === 'refused' || plan.kind === 'declined' ? undefined : cascade;
      const recorded = await recordIntent(input, intent, plan, rules, challenge, now);
      if (!recorded.ok) return recorded;
      // Taken by the request that recorded the payment, and by no other; used, or gone with a refusal.
      // The payment is committed by now: a holder that fails (a database error, a code sealed under
      // a key no longer held) must not stop it, so it goes on without the code, as after its expiry.
      const taken = input.storedCard?.takeCvv && await input.storedCard.takeCvv().catch((err: unknown) => {
        logger.warn({ err: String(err), paymentId }, 'the held security code could not be taken; authorizing without it');
        return undefined;
      });
      if (card && taken) card = { ...card, cvv: taken };
      if (plan.kind === 'refused' || plan.kind === 'declined') return ok(await view(paymentId));
      if (challenge) {
        // Held once, for the one authorization after the challenge, no longer than the page lives. The
        // payment is committed by now: a hold that cannot be written must not hide its page from the
        // shopper, so it goes on without the code, as after its expiry.
        if (card?.cvv) {
          await cvvs.put(paymentId, card.cvv, challenge.expiresAt).catch((err: unknown) => {
            logger.warn({ err: String(err), paymentId }, 'the security code could not be held for after the challenge; authorizing without it');
          });
        }
        return ok({ operation, initial: operation, payment, card: masked, challenge: { id: challenge.id, purpose: challenge.purpose } });
      }
      const pspCard: PspCard | undefined = card && { pan: card.pan, cvv: card.cvv, brand: card.brand, holder: card.holder, expiryMonth: card.expiryMonth, expiryYear: card.expiryYear };
      const running = driveOperation(payment, operation, recorded.value, pspCard, input.testParameters, { ...(rules ? { rules } : {}) });
      if (input.background) {
        inBackground(running);
        return ok({ operation, initial: operation, payment, card: masked });
      }
      // Answered from what the outcome's unit of work wrote (read again only if a reconciler got there first).
      const after = await running.catch(unrecorded(paymentId));
      if (after === 'unrecorded') return ok(await inDoubtView(paymentId, { operation, initial: operation, payment, card: masked }));
      const settled = after?.operations.find((o) => o.id === paymentId);
      const answer = after && settled ? { operation: settled, initial: settled, payment: after.payment, card: masked } : await view(paymentId);
      // The PSP sent the shopper to its own 3-D Secure: the answer carries the page that forwards there.
      const pspChallenge = answer.operation.status === 'awaiting' ? await threeds.openOf('payment', paymentId) : undefined;
      return ok(pspChallenge ? { ...answer, challenge: { id: pspChallenge.id, purpose: pspChallenge.purpose, ...(pspChallenge.pspRedirect ? { pspRedirect: pspChallenge.pspRedirect } : {}) } } : answer);
    },

    async followUp(input) {
      const target = await store.operation(input.referencedId);
      const owner = target && await store.payment(target.paymentId);
      if (!target || !owner || !inScope(owner, input.merchant, input.scope)) return fail('not_found');
      const registrationId = input.kind === 'rebill' ? initialOf(await store.operationsOf(owner.id)).context.registrationId : undefined;
      // A rebill charges the stored card again: one past its expiry is refused, as a new payment with it would be.
      if (input.kind === 'rebill' && owner.cardId && typeof registrationId !== 'string') {
        const card = await vault.masked(owner.cardId);
        if (card && isExpired(card.expiryMonth, card.expiryYear, clock.now())) return fail('card_expired');
      }
      // A rebill of a payment made with a registration charges that registration as it is now: once
      // the merchant deleted it (a subscription cancelled, acknowledged), it is not charged again;
      // once a later payment renewed it (a reissued card's expiry), the renewed card is charged.
      // Held in the rebill's unit of work, so a deletion and a rebill at once end one way or the other.
      let registrationCard: string | undefined;
      const holdRegistration = typeof registrationId === 'string' ? async (w: Writers): Promise<FollowUpError | undefined> => {
        const held = await w.vault.heldCard(registrationId);
        if (!held) return 'registration_deleted';
        if (isExpired(held.expiryMonth, held.expiryYear, clock.now())) return 'card_expired';
        registrationCard = held.cardId;
        return undefined;
      } : undefined;
      const recorded = await recordFollowUps(owner, (locked) => {
        const current = locked.operations.find((o) => o.id === target.id)!;
        const decided = decideFollowUp(locked.operations, {
          kind: input.kind, amount: input.amount, currency: input.currency, target: current, awaitsReceipt: locked.payment.method === 'bank_transfer', expiring: input.expiring === true, namesTransaction: input.namesTransaction === true,
        });
        if (!decided.ok) return decided;
        const drawsOn = input.kind === 'refund' ? refundDrawsOn(locked.operations, current, decided.value.amount) : undefined;
        // Wider than any one transaction it could draw on: in parts, where the caller can answer for several.
        if (input.kind === 'refund' && input.inParts && drawsOn === undefined && current.id === initialOf(locked.operations).id) {
          return followUpsInTurn(locked, refundSteps(locked.operations, decided.value, { ...input.context, testParameters: input.testParameters }), input.merchantTransactionId);
        }
        return ok([newOperation(locked.payment, locked.operations.length, input.kind, decided.value, target.id, input.merchantTransactionId,
          { ...input.context, testParameters: input.testParameters, ...(input.final ? { final: true } : {}), ...(drawsOn ? { drawsOn } : {}),
            ...(registrationCard && registrationCard !== locked.payment.cardId ? { chargesCard: registrationCard } : {}) })]);
      }, input.join, holdRegistration);
      if (!recorded.ok) return recorded;
      return ok((await runFollowUps(recorded.value, input.testParameters))[0]!);
    },

    async recordDispute(accountId, dispute) {
      // An event may come before the one it follows only so long: its chargeback, refused or
      // never ours, may never come, and the PSP would be asked for it again for days while no
      // operator is told. Past this, it is refused as any event that cannot be recorded.
      const mayBeEarly = dispute.occurredAt !== undefined && Math.abs(clock.now() - dispute.occurredAt) < earlyDisputeEventMs;
      // Named by the dispute alone, it is the payment that dispute's chargeback was recorded on.
      const found = await store.paymentsByPspReference(accountId, dispute.paymentReference ?? dispute.disputeReference);
      if (found.length > 1) return { kind: 'ambiguous' };
      const payment = found[0] === undefined ? undefined : await store.payment(found[0]);
      // Named by its dispute alone, before that dispute's chargeback is recorded.
      if (!payment) return { kind: dispute.paymentReference === undefined && mayBeEarly ? 'early' : 'not_found' };
      let known = false;
      let early = false;
      const recorded = await recordFollowUps(payment, (locked) => {
        const ops = locked.operations;
        const mine = ops.filter((o) => o.pspReference === dispute.disputeReference && o.status === 'succeeded');
        // Told again: the same event, or one the dispute's course has had already. A PSP's event id
        // may rest on fields its signature does not cover (Adyen's eventDate), so a replay of a signed
        // notification with those changed is known by what it says: each event of a dispute's course
        // comes once (Adyen's CHARGEBACK, CHARGEBACK_REVERSED, then SECOND_CHARGEBACK, whose end is
        // a pre-arbitration's event; Stripe's funds_withdrawn and funds_reinstated), and a reversal
        // gives back a chargeback still standing, never one reversed already.
        const course = mine.filter((o) => o.kind === 'chargeback' || o.kind === 'chargeback_reversal');
        const toldBefore = mine.some((o) => o.context.pspEventId === dispute.eventId)
          || course.some((o) => o.context.pspEvent === dispute.event)
          || (dispute.kind === 'chargeback_reversal' && course.at(-1)?.kind === 'chargeback_reversal');
        if (toldBefore) {
          known = true;
          return ok([]);
        }
        // A reversal gives back its own dispute's latest chargeback, never another dispute's (one the
        // gateway refused to record has none here, and an operator is told).
        const target = dispute.kind === 'chargeback' ? initialOf(ops) : mine.filter((o) => o.kind === 'chargeback').at(-1);
        if (!target) {
          // No chargeback stands at all: its own is still on its way. One of another dispute
          // standing means this dispute's chargeback was refused (an operator was told).
          early = totalsOf(ops).chargedBack === 0;
          return fail('chargeback_reversal_requires_chargeback');
        }
        const decided = decideFollowUp(ops, { kind: dispute.kind, amount: dispute.amount, target, awaitsReceipt: locked.payment.method === 'bank_transfer', reportedByPsp: true });
        if (!decided.ok) {
          // The issuer's second round, before the reversal of the first round of the same dispute; or
          // a chargeback of money whose own notice is still on its way (the sale's answer, or a
          // capture's, which the PSP does not send in order): either may be recorded once it is in.
          early = (decided.error === 'multiple_chargebacks' && course.at(-1)?.kind === 'chargeback')
            || (dispute.kind === 'chargeback' && ops.some((o) => isOpen(o.status)));
          return decided;
        }
        const op = newOperation(locked.payment, ops.length, dispute.kind, decided.value, target.id, undefined, { pspEvent: dispute.event, pspEventId: dispute.eventId });
        return ok([{ ...op, pspReference: dispute.disputeReference }]);
      });
      if (!recorded.ok) return early && mayBeEarly ? { kind: 'early' } : { kind: 'refused', paymentId: payment.id, error: recorded.error };
      return { kind: known ? 'known' : 'recorded', paymentId: payment.id };
    },

    async cancel(input) {
      const owner = await store.payment(input.paymentId);
      if (!owner || !inScope(owner, input.merchant, input.scope)) return fail('not_found');
      const recorded = await recordFollowUps(owner, (locked) => {
        // A capture on its way is money the plan could neither refund (not captured yet) nor void
        // (no longer open): cancelled beside it, the payment kept what it captured.
        if (totalsOf(locked.operations).inFlightCaptures > 0) return fail('reference_pending');
        const plan = cancelPlan(locked.operations);
        if (input.voidOnly && plan.refund) return fail('reversal_after_capture');
        // One refund per capture it gives back, then the void of the uncaptured rest.
        const steps = [
          ...(plan.refund ? refundSteps(locked.operations, plan.refund, input.context) : []),
          ...(plan.voidOpen ? [{ kind: 'void' as const, amount: undefined, context: input.context }] : []),
        ];
        if (steps.length === 0) return fail(totalsOf(locked.operations).chargedBack > 0 ? 'charged_back' : 'reversal_after_capture');
        return followUpsInTurn(locked, steps, initialOf(locked.operations).merchantTransactionId);
      }, input.join);
      if (!recorded.ok) return recorded;
      return ok(await runFollowUps(recorded.value, {}));
    },

    async find(merchant, scope, operationId) {
      const o = await store.operation(operationId);
      const p = o && await store.payment(o.paymentId);
      if (!o || !p || !inScope(p, merchant, scope)) return undefined;
      return view(o.id);
    },

    async findByMerchantTransactionId(merchant, entityId, mtx, page, kinds) {
      const list = await store.byMerchantTransactionId(entityId, mtx, page, kinds);
      const views: PaymentView[] = [];
      for (const o of list) if (o.merchantId === merchant.id) views.push(await view(o.id));
      return views;
    },

    async details(paymentId) {
      const payment = await store.payment(paymentId);
      if (!payment) return undefined;
      return { payment, operations: await store.operationsOf(paymentId), attempts: await store.attemptsOf(paymentId) };
    },

    async completeChallenge(paymentId, outcome) {
      const payment = await store.payment(paymentId);
      if (!payment) throw new Error(`payment ${paymentId} vanished`);
      const masked = payment.cardId ? await vault.masked(payment.cardId) : undefined;
      const result: AuthenticationResult | undefined = masked ? challengeResultOf(masked.brand, outcome) : undefined;
      const details = result ? authenticationDetails(result) : {};
      // The engine's own challenge: its 3-D Secure was not left to the PSPs.
      const rules = await rulesFor(payment, { seq: 0, context: {} });
      let deregistered = false;
      const resumed = await write(async (w) => {
        const locked = await w.payments.lock(paymentId);
        const initial = locked && initialOf(locked.operations);
        if (!locked || !initial || initial.status !== 'awaiting') return undefined;
        // Awaiting a PSP's own 3-D Secure (an attempt is open): only the PSP's answer finishes it.
        if (locked.attempts.some((a) => a.operationId === initial.id && isOpen(a.status))) return undefined;
        const at = clock.now();
        if (outcome !== 'completed') {
          await runner.settle(w, locked, initial.id, refusal(challengeRefusals[outcome], details, at));
          return undefined;
        }
        // Paying with a registration the merchant deleted while the shopper was at the challenge:
        // the deletion was acknowledged, so the card is not charged (as for a payment that was on
        // its way when the deletion came).
        const registrationId = initial.context.registrationId;
        if (typeof registrationId === 'string' && !await w.vault.holdEnabled(registrationId)) {
          await runner.settle(w, locked, initial.id, refusal('instrument_removed', details, at));
          deregistered = true;
          return undefined;
        }
        // From here the PSP may be asked: the operation is an ordinary intent the reconciler knows.
        await w.payments.resumeOperation(initial.id, details, at);
        const op: OperationRecord = { ...initial, status: 'pending', resultCode: undefined, details, updatedAt: at };
        locked.operations.splice(locked.operations.indexOf(initial), 1, op);
        const attempt = await runner.recordAttempt(w, locked, op.id, rules, result !== undefined);
        await runner.announce(w, locked, op.id);
        return { op, attempt };
      });
      if (outcome !== 'completed' || deregistered) await cvvs.drop(paymentId);
      if (!resumed) return view(paymentId);
      const driven = await driveOperation(payment, resumed.op, resumed.attempt, undefined, testParametersOf(resumed.op), { rules }).catch(unrecorded(resumed.op.id));
      return driven === 'unrecorded' ? inDoubtView(paymentId, { operation: resumed.op, initial: resumed.op, payment, card: masked }) : view(paymentId);
    },

    async completePspReturn(paymentId, attemptId, parameters, admit) {
      const attempt = await store.attempt(attemptId);
      if (!attempt || attempt.paymentId !== paymentId) return undefined;
      const op = await store.operation(attempt.operationId);
      const payment = await store.payment(paymentId);
      // Only a payment that could be sent to a PSP's own 3-D Secure has a return to take; for any
      // other (no shopper to send back), the address names nothing, whoever guessed it.
      if (!op || !payment || typeof op.context.pspReturnUrl !== 'string') return undefined;
      // Counted only now: an address naming no return costs reads, never a write of the store.
      await admit?.();
      if (op.status !== 'awaiting' || attempt.status !== 'pending') {
        // Back after the gateway gave up on the shopper: the PSP may have charged the card once its
        // own 3-D Secure was done. Asked (never finished: that would authorize now), not assumed.
        if (attempt.status === 'failed' && attempt.reason === 'expired') {
          // Only a return carrying what the PSP appends for this attempt asks: one without it (a
          // stranger, a prefetch) would spend the merchant's PSP allowance, and the ask it used up.
          const back = { attemptId, amount: op.amount, pspReference: attempt.pspReference, parameters };
          const connector = await deps.connectorFor(attempt.accountId);
          if (connector?.returnNames?.(back) !== false && mayAskAfterExpiry(attempt.id, clock.now())) {
            if (!(await askAfterExpiry(attempt, op))) askedAfterExpiry.delete(attempt.id);
          }
        }
        return view(op.id);
      }
      const connector = await deps.connectorFor(attempt.accountId);
      let outcome: Outcome;
      try {
        outcome = connector?.complete
          ? await connector.complete({ attemptId, amount: op.amount, pspReference: attempt.pspReference, parameters })
          : { kind: 'declined', reason: 'provider_error', acquirerCode: undefined, message: 'the connector cannot finish a PSP redirect', pspReference: attempt.pspReference, details: {} };
      } catch (err) {
        // Nothing learnt. A return without this attempt's result (a prefetch, or one forged from
        // the payment's id, which names its first attempt too) or naming another payment changes
        // nothing: the attempt keeps awaiting the shopper's real return. So does a lost answer from
        // a PSP that cannot be asked (Adyen), whose result may exist only in the shopper's browser:
        // their reload asks again (the call is idempotent), its notification settles it, and the
        // challenge's expiry ends it. Settled unknown, it would take no return and stay unknown for
        // good. A lost answer from a PSP that can be asked is unknown: the reconciler asks it.
        if (err instanceof ReturnNotOurs || connector?.statusApi === false) {
          logger.warn({ err: String(err), attemptId }, 'psp return could not be completed: the attempt keeps awaiting the shopper');
          return view(op.id);
        }
        logger.warn({ err: String(err), attemptId }, 'psp return could not be completed: unknown, the reconciler asks the PSP');
        outcome = { kind: 'unknown' };
      }
      if (outcome.kind === 'pending' && outcome.action === 'three_ds') {
        // The PSP still waits for the shopper at its 3-D Secure: this return brought nothing (a
        // prefetch, a link scanner, or a stranger who knows the payment's id, which names its first
        // attempt). Settled, it would end the shopper's challenge while they are in it: a payment
        // left pending with its page closed, their real return then refused. It keeps awaiting them.
        logger.warn({ attemptId }, 'psp return came before the shopper finished the PSP\'s 3-D Secure: the attempt keeps awaiting the shopper');
        return view(op.id);
      }
      const rules = await rulesFor(payment, op);
      // The PSP has answered: should its answer not be written, the shopper still goes on to the
      // shop, the payment in doubt until the reconciler (or the PSP's notification) settles it.
      const r = await settleAttempt(paymentId, op, attemptId, outcome, rules).catch(unrecorded(op.id));
      const held: PaymentView = { operation: op, initial: op, payment, card: undefined };
      if (r === 'unrecorded') return inDoubtView(op.id, held);
      if (!r.changed) {
        await approvedAfterEnd(attemptId, outcome);
        // Ended meanwhile by the PSP's notification, whose cascade may still be calling the next
        // PSP: the shopper goes where that step leads (its page, or the outcome), not to the shop
        // while the payment will wait for them there.
        await untilNotPending(op.id);
      }
      // Only a return that ended its attempt ends its challenge: a later one (a reload, or after the
      // PSP's notification) would close the one the cascade opened at the next PSP meanwhile.
      else await threeds.close('payment', paymentId);
      const driven = r.next && await driveOperation(payment, { ...op, status: 'pending' }, r.next, undefined, testParametersOf(op), { rules }).catch(unrecorded(op.id));
      return driven === 'unrecorded' ? inDoubtView(op.id, held) : view(op.id);
    },

    async settleFromPsp(accountId, attemptId, outcome, options = {}) {
      const attempt = await store.attempt(attemptId);
      // Not an attempt: perhaps the gateway's reversal of a late approval, which the PSP confirms the same way.
      if (!attempt) return lateApprovals.reversalSettled(accountId, attemptId, outcome);
      // A notification of one account never settles another's attempts.
      if (attempt.accountId !== accountId) return false;
      // An item about another operation than the attempt's (a cancellation or refund made in the
      // PSP's own portal names the payment's opening attempt) is money the PSP moved without the
      // gateway asking: it answers nothing of ours, and is told as an error for an operator. Taken
      // as the answer of a lost authorization, a cancellation recorded that authorization approved.
      if (options.settles) {
        const op = await store.operation(attempt.operationId);
        const kind = op && op.kind in connectorOperationOf ? connectorOperationOf[op.kind as keyof typeof connectorOperationOf] : undefined;
        if (op && (kind === undefined || !options.settles.includes(kind))) {
          logger.error({ paymentId: attempt.paymentId, attemptId, operation: op.kind, event: outcome.acquirerCode, pspReference: outcome.pspReference, ...(options.amount ? { amount: options.amount } : {}) },
            'PSP notification of an action the gateway did not ask for (made in the PSP\'s own portal?): not recorded; see to it at the PSP and on the payment');
          return false;
        }
      }
      // A confirmed operation its PSP now reports failed is undone; what a capture's PSP released
      // with it stays released (releaseRest reads the capture's details, whatever its status).
      const undo = async (confirmed: AttemptRecord, declined: Extract<Outcome, { kind: 'declined' }>) => {
        const changed = await undoConfirmed(confirmed, declined);
        if (changed) inBackground(releaseRestAfterSettling(confirmed.paymentId));
        return changed;
      };
      if (options.reverses && attempt.status === 'succeeded' && outcome.kind === 'declined') return undo(attempt, outcome);
      if (!isOpen(attempt.status)) {
        await approvedAfterEnd(attempt, outcome);
        return false;
      }
      const payment = await store.payment(attempt.paymentId);
      const op = await store.operation(attempt.operationId);
      if (!payment || !op) return false;
      // An approval for another amount or currency than the attempt asked is not its answer: money
      // may have moved as nobody asked. The attempt stays open for the reconciler and an operator.
      const stated = options.amount;
      if (outcome.kind === 'approved' && stated && op.kind !== 'void'
        && (stated === 'unreadable' || stated.amount !== op.amount.amount || stated.currency !== op.amount.currency)) {
        logger.error({ paymentId: payment.id, attemptId, asked: op.amount, approved: stated }, 'PSP notification approves another amount than the attempt asked; not settled');
        return false;
      }
      // Told days later (a PSP's notifications held up by an outage) that a shopper's payment was
      // declined, the cascade does not move on (see pastShoppersWait).
      const rules = pastShoppersWait(op, attempt.createdAt, clock.now(), asyncTimeoutMs) ? noAccountLeft : await rulesFor(payment, op);
      const r = await settleAttempt(payment.id, op, attemptId, outcome, rules);
      if (!r.changed) {
        // A reversal read while the confirmation it reverses was being recorded (Adyen's
        // CAPTURE_FAILED and CAPTURE handled at once, by two nodes or two deliveries): it undoes the
        // confirmation now, rather than being dropped as a repeat.
        const confirmed = options.reverses && outcome.kind === 'declined' ? await store.attempt(attemptId) : undefined;
        if (confirmed?.status === 'succeeded' && outcome.kind === 'declined') return undo(confirmed, outcome);
        // Ended under the lock since it was read (the reconciler found it never received, say).
        await approvedAfterEnd(attemptId, outcome);
      }
      if (r.changed && op.status === 'awaiting') await threeds.close('payment', payment.id);
      if (r.next) inBackground(driveOperation(payment, { ...op, status: 'pending' }, r.next, undefined, testParametersOf(op), { rules }));
      // A capture the PSP confirms only now (Adyen's CAPTURE webhook after its `received`) releases its
      // rest now that it succeeded, never before; so may any follow-up that was in flight beside it.
      if (r.changed && op.seq > 0) inBackground(releaseRestAfterSettling(payment.id));
      return r.changed;
    },

    async expireAwaiting() {
      const stale = await store.awaitingBefore(clock.now() - asyncTimeoutMs, 100);
      let expired = 0;
      await eachIsolated(stale, async (o) => { if (await expireOne(o)) expired++; }, logger, 'expire-awaiting', (o) => o.paymentId);
      return expired;
    },

    async expireAwaitingOf(paymentId) {
      const o = await store.operation(paymentId);
      return o !== undefined && o.status === 'awaiting' && expireOne(o);
    },

    async confirmBankTransfers() {
      const due = await store.bankTransfersAwaitingReceipt(clock.now() - bankReceiptDelayMs, 100);
      let confirmed = 0;
      await eachIsolated(due, async (p) => {
        const ops = await store.operationsOf(p.id);
        const t = totalsOf(ops);
        // A receipt confirmed it (the merchant's own is final, a part of it too), or it was reversed
        // before any: nothing more is awaited, and the sweep never reads it again.
        if (t.received > 0 || t.reversed) { await write((w) => w.payments.setReceiptSettled(p.id, clock.now())); return; }
        // What the shopper transferred and no receipt confirms yet (a DB's money counts as captured
        // from the start, so its open amount is not authorized less captured).
        const open = initialOf(ops).amount.amount - t.received - t.inFlightReceipts;
        if (open <= 0) return;
        const r = await ownFollowUp(p, ops, 'receipt', { amount: open, currency: initialOf(ops).amount.currency }, {});
        if (r.ok) confirmed++;
      }, logger, 'confirm-bank-transfers', (p) => p.id);
      return confirmed;
    },

    async expireAuthorizations() {
      const now = clock.now();
      const expiryOf = (brand: string | undefined) => (brand !== undefined ? deps.authorizationExpiryByBrandMs?.[brand] : undefined) ?? deps.authorizationExpiryMs ?? 7 * 86_400_000;
      // Candidates are those old enough for the shortest expiry; each is then held to its brand's.
      const shortest = Math.min(expiryOf(undefined), ...Object.values(deps.authorizationExpiryByBrandMs ?? {}));
      let expired = 0;
      let after: { createdAt: number; id: string } | undefined;
      // Pages through every candidate so that payments whose void keeps failing never hide the rest.
      for (;;) {
        const page = await store.openHoldsBefore(now - shortest, after, 100);
        await eachIsolated(page, async (p) => {
          const ops = await store.operationsOf(p.id);
          if (holdClosed(ops)) { await markHoldReleased(p.id, now); return; }
          // A bank transfer's rest is released once a receipt said what arrived (the merchant's own
          // receipt is final); before any, its money is still on its way from the shopper's bank.
          if (p.method === 'bank_transfer' && totalsOf(ops).received === 0) return;
          if (!authorizationExpired(ops, now - expiryOf(p.brand), await store.attemptsOf(p.id), asyncTimeoutMs)) return;
          // A void like the merchant's own, to the account holding the authorization, under the
          // payment's lock (decideFollowUp checks it again); what a partial capture left is released.
          const r = await ownFollowUp(p, ops, 'void', undefined, { expired: true });
          if (r.ok && r.value.operation.status === 'succeeded') {
            expired++;
            await markHoldReleased(p.id, now);
          } else if (!r.ok || r.value.operation.status === 'failed') {
            logger.warn({ paymentId: p.id, error: r.ok ? r.value.operation.reason : r.error }, 'an expired authorization could not be voided');
          }
        }, logger, 'expire-authorizations', (p) => p.id);
        if (page.length < 100) return expired;
        const last = page.at(-1)!;
        after = { createdAt: last.createdAt, id: last.id };
      }
    },

    async releaseCaptureRests(since, lastPass) {
      const now = clock.now();
      // A capture settling now releases its own rest; one that ended more than twice the PSP
      // timeout ago had its chance. Reaching back past the previous pass by as much again covers
      // a capture whose unit committed while that pass read.
      const to = now - 2 * pspTimeoutMs;
      // A previous pass's start ahead of this clock (stepped back since) reaches back from now. It
      // reaches back to the last pass that succeeded however long ago the gateway last ran (down for
      // days), never further than a day before the last pass (passes failing for days on one rest
      // whose void is refused), nor than the longest an authorization holds (its expiry voids the
      // rest). The first pass of a store looks at the last day.
      const day = 86_400_000;
      const longestHold = Math.max(deps.authorizationExpiryMs ?? 7 * day, ...Object.values(deps.authorizationExpiryByBrandMs ?? {}));
      const from = since === undefined ? now - day
        : Math.max(Math.min(since, now) - 4 * pspTimeoutMs, Math.min(lastPass ?? since, now) - day, now - longestHold);
      let released = 0;
      let failed = 0;
      for (const status of ['succeeded', 'failed'] as const) {
        let after: { updatedAt: number; id: string } | undefined;
        for (;;) {
          const page = await store.capturesEndedBetween(status, from, to, after, 100);
          const releasing = page.filter((c) => c.details.RestReleased === 'true' || (c.status === 'succeeded' && c.context.final === true));
          failed += (await eachIsolated(releasing, async (c) => {
            const found = await service.details(c.paymentId);
            if (!found || !restToRelease(found.operations)) return;
            if (await releaseRest(found.payment)) released++;
          }, logger, 'release-capture-rests', (c) => c.paymentId)).failed;
          if (page.length < 100) break;
          const last = page.at(-1)!;
          after = { updatedAt: last.updatedAt, id: last.id };
        }
      }
      // A pass that could not release every rest it found fails, so that the next one reaches back
      // to the last pass that did: counted a success, it would move the window past
      // those captures, and their rests would be held until the authorization expired.
      if (failed > 0) throw new Error(`${failed} released rests could not be voided now; tried again on the next pass`);
      return released;
    },

    // An entity id names one merchant's entity: the caller authenticated both together.
    countByMerchantTransactionId: (_merchant, entityId, mtx, kinds) => store.countByMerchantTransactionId(entityId, mtx, kinds),

    reconcile: () => reconciler.reconcile(),

    reverseLateApprovals: () => lateApprovals.reverseDue(),
    lateApprovalsUnsettled: () => lateApprovalStore.unsettled(),

    observe(observer) { observers.push(observer); },

    async idle() {
      while (running.size > 0) await Promise.all([...running]);
    },
  };

  /**
   * A PSP's approval of an attempt that had ended by then: if the gateway ended it (never received,
   * expired), money moved for a payment the merchant was told failed, and the gateway gives it back.
   */
  async function approvedAfterEnd(attempt: AttemptRecord | string, outcome: Outcome): Promise<void> {
    if (outcome.kind !== 'approved') return;
    const ended = typeof attempt === 'string' ? await store.attempt(attempt) : attempt;
    if (ended?.status === 'failed') await lateApprovals.found(ended, outcome);
  }

  /**
   * Whether an expired attempt's PSP may be asked now about a return to it: once per ten minutes
   * per node once it has said how the attempt ended (a PSP still waiting for the shopper, or one that
   * could not say, may be asked again by their next return). Asked on every return, the shopper's
   * reloads would spend the merchant's PSP allowance (an OPP-family acquirer's two status calls a
   * minute) on a payment long over.
   */
  function mayAskAfterExpiry(attemptId: string, now: number): boolean {
    const last = askedAfterExpiry.get(attemptId);
    if (last !== undefined && now - last < 600_000) return false;
    askedAfterExpiry.delete(attemptId);
    askedAfterExpiry.set(attemptId, now);
    // Bounded: the oldest entry goes first (a Map keeps insertion order).
    if (askedAfterExpiry.size > 10_000) askedAfterExpiry.delete(askedAfterExpiry.keys().next().value!);
    return true;
  }

  /**
   * An attempt at a PSP's own 3-D Secure ended as expired (its shopper back late, or never): what the
   * PSP did meanwhile. True once the PSP said how the attempt ended (or cannot be asked).
   */
  async function askAfterExpiry(attempt: AttemptRecord, op: OperationRecord): Promise<boolean> {
    const connector = await deps.connectorFor(attempt.accountId);
    const operation = connectorOperationOf[op.kind as keyof typeof connectorOperationOf];
    // A PSP that cannot be asked tells by its notification, which makes a charge a late approval too.
    if (!connector || !operation || connector.statusApi === false) return true;
    try {
      const known = await connector.lookup(attempt.id, { operation, amount: op.amount, originalReference: undefined, pspReference: attempt.pspReference });
      // Read again: the attempt given may be as it was before its expiry ended it.
      if (known) await approvedAfterEnd(attempt.id, known);
      return known?.kind !== 'pending';
    } catch (err) {
      // Its notification, if the PSP sends them, still tells; otherwise an operator sees the charge in the PSP's report.
      logger.warn({ err: String(err), attemptId: attempt.id }, 'a PSP could not say what became of an expired attempt its shopper came back from');
      return false;
    }
  }

  /** An operation whose next attempt never started, ended: with its last attempt's decline, or expired. */
  async function endUntried(paymentId: string, operationId: string): Promise<boolean> {
    const ended = await write(async (w) => {
      const locked = await w.payments.lock(paymentId);
      const current = locked?.operations.find((o) => o.id === operationId);
      if (!locked || !current || current.status !== 'pending') return false;
      const last = attemptsOfOperation(locked.attempts, operationId).at(-1);
      if (last && last.status !== 'failed') return false;
      const at = clock.now();
      await runner.settle(w, locked, operationId, last
        ? { status: 'failed', reason: last.reason, resultCode: last.resultCode, pspReference: last.pspReference, details: current.details, at }
        : refusal('expired', current.details, at));
      return true;
    });
    if (ended) await cvvs.drop(paymentId).catch((err: unknown) => logger.warn({ err: String(err), paymentId }, 'a security code held for the cascade could not be deleted; its expiry removes it'));
    return ended;
  }

  const reconciler = createReconciler({
    store, runner, details: (id) => service.details(id), rulesFor, settleAttempt, pendingLasts, releaseRestAfterSettling, endUntried,
    goOn: (payment, op, attempt, rules) => inBackground(driveOperation(payment, op, attempt, undefined, testParametersOf(op), { rules })),
    connectorFor: deps.connectorFor, now: () => clock.now(), logger, pspTimeoutMs, asyncTimeoutMs,
    authorizationExpiryMs: deps.authorizationExpiryMs ?? 7 * 86_400_000,
  });

  return service;
}

/**
 * How a payment's intent proceeds: its 3-D Secure plan, the bank's page for a transfer, or declined
 * before anything is sent (a bank transfer no account of the cascade takes).
 */
type IntentPlan = AuthenticationPlan | { readonly kind: 'bank' } | { readonly kind: 'declined'; readonly reason: DeclineReason };

/** The card a payment uses, checked, with what the intent stores of it. */
interface Instrument {
  readonly card: CardInput | undefined;
  readonly masked: MaskedCard | undefined;
  readonly sealed: ReturnType<VaultService['sealCard']> | undefined;
  readonly cardId: string | undefined;
}

/** Follow-ups recorded in one unit of work, with the payment as it left it and the account rules they go by. */
interface RecordedFollowUps {
  readonly ops: OperationRecord[];
  readonly attempts: (AttemptRecord | undefined)[];
  readonly locked: LockedPayment;
  readonly rules: CascadeRules;
}

class DuplicateMerchantTransactionId extends Error {}
class JoinRefused extends Error {}

