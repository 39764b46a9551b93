import type { Money } from '../money/money.ts';
import type { CardBrand, Cvv, Pan } from '../vault/card.ts';
import type { Outcome } from './outcome.ts';

/** What a connector may be asked to do; a connector lists the ones its PSP offers. */
export const connectorOperations = ['authorize', 'sale', 'capture', 'void', 'refund', 'rebill', 'credit'] as const;
export type ConnectorOperation = (typeof connectorOperations)[number];

/** A card as a PSP receives it: the PAN and CVV are values that print masked. */
export interface PspCard {
  readonly pan: Pan;
  readonly cvv: Cvv | undefined;
  readonly brand: CardBrand;
  readonly holder: string | undefined;
  readonly expiryMonth: string;
  readonly expiryYear: string;
}

/** A 3-D Secure result as a PSP receives it; a cascade passes the same one to every PSP it tries. */
export interface Authentication {
  /** The issuer's final transStatus (the challenge's result, or the ARes's when frictionless). */
  readonly status: string;
  readonly eci: string | undefined;
  /** Whether the ARes asked for a challenge (its transStatus `C`), which the shopper then answered. */
  readonly flow: 'frictionless' | 'challenge';
  /** The protocol's version, e.g. 2.2.0. */
  readonly version: string | undefined;
  /**
   * Where the merchant's own 3-D Secure server ran it (an external MPI): the issuer's cryptogram
   * (CAVV, AAV) and the ids of that authentication, which the PSP passes to the issuer.
   */
  readonly authenticationValue?: string;
  readonly dsTransactionId?: string;
  readonly xid?: string;
}

export interface StoredCredential {
  readonly use: 'initial' | 'subsequent';
  /**
   * Who makes this charge: the cardholder (the first, which stores the card, or a later one-click
   * payment with it, the shopper there) or the merchant (a renewal, a top-up, a rebill: nobody there).
   */
  readonly initiatedBy: 'cardholder' | 'merchant';
  /**
   * What the card is kept for: charges on a schedule (`recurring`, `installment`), merchant-initiated
   * charges at no fixed time (`unscheduled`), or the cardholder's own later payments with it
   * (`card_on_file`: one-click, the shopper there each time).
   */
  readonly type: 'recurring' | 'installment' | 'unscheduled' | 'card_on_file';
  /** On a subsequent charge: the first transaction's id as the merchant gave it (an OPP acquirer's standing instruction). */
  readonly initialTransactionId?: string;
  /**
   * On a subsequent charge: the card scheme's id of the first transaction (Visa's transaction id,
   * Mastercard's trace id), where known. Absent when the merchant's id names a transaction of the
   * gateway's whose answer carried none (its answer's fallback was the acquirer's reference, which
   * a scheme does not know).
   */
  readonly schemeTransactionId?: string;
}

/** A postal address as the merchant gave it; any part may be missing. */
export interface PostalAddress {
  readonly street1?: string;
  readonly street2?: string;
  readonly city?: string;
  readonly state?: string;
  readonly postcode?: string;
  /** ISO 3166-1 alpha-2. */
  readonly country?: string;
  /** Who receives it (a shipping address). */
  readonly givenName?: string;
  readonly surname?: string;
}

/**
 * The shopper's browser as 3-D Secure 2 describes it, each value as the browser reported it: the
 * screen in pixels, the colour depth in bits, `timezone` the minutes UTC is ahead of local time
 * (JavaScript's `getTimezoneOffset()`), the flags `true` or `false`.
 */
export interface ShopperBrowser {
  readonly acceptHeader?: string;
  readonly userAgent?: string;
  readonly language?: string;
  readonly screenHeight?: string;
  readonly screenWidth?: string;
  readonly screenColorDepth?: string;
  readonly timezone?: string;
  readonly javaEnabled?: string;
  readonly javascriptEnabled?: string;
  readonly challengeWindow?: string;
}

/**
 * The shopper as the merchant described them, for the PSP's risk checks: the issuer's 3-D Secure 2
 * decision (e-mail, IP, browser, billing address) and the address check (AVS). The browser and the
 * IP are absent when the shopper is not there (a merchant-initiated charge).
 */
export interface Shopper {
  readonly email?: string;
  readonly ip?: string;
  readonly phone?: string;
  readonly givenName?: string;
  readonly surname?: string;
  readonly browser?: ShopperBrowser;
  readonly billing?: PostalAddress;
  readonly shipping?: PostalAddress;
}

/** The merchant's own references of a payment as stored: at most 255 characters as given, longer where a card number in one was masked. */
export interface MerchantReferences {
  readonly order?: string;
  readonly invoice?: string;
}

export interface ConnectorRequest {
  readonly operation: ConnectorOperation;
  /** Our attempt id: the PSP's idempotency key, and what the reconciler asks about later. */
  readonly attemptId: string;
  readonly amount: Money;
  /** A live merchant's payments reach the PSP's production system; the rest its test system. */
  readonly live: boolean;
  /** Card data for operations that reach the issuer (authorize, sale, rebill, credit). */
  readonly card?: PspCard;
  /** The PSP's reference of the original authorization or sale, for follow-ups. */
  readonly originalReference?: string;
  /**
   * A refund: the PSP's reference of the transaction whose money it gives back (a capture, the
   * sale, a rebill), for a PSP that refunds per transaction rather than per payment.
   */
  readonly refundedReference?: string;
  /**
   * A merchant-initiated charge of a stored card (a subscription's renewal, an unscheduled top-up):
   * the cardholder is not there, so the PSP must not ask for 3-D Secure, and is told so.
   */
  readonly merchantInitiated?: boolean;
  /**
   * A charge of a card kept on file, as the schemes want it flagged: the first one, which the
   * cardholder makes and which stores the card (`initial`), or a later one (`subsequent`), made by
   * the merchant (with `merchantInitiated`) or by the cardholder; what the later ones are (a subscription's, on a fixed
   * schedule; instalments; unscheduled); and the scheme's id of the first transaction where the
   * merchant gave it. Absent for a charge that neither stores a card nor uses a stored one.
   */
  readonly storedCredential?: StoredCredential;
  readonly authentication?: Authentication;
  /** On an operation that reaches the issuer: the shopper, where the merchant described them. */
  readonly shopper?: Shopper;
  /**
   * On an operation that reaches the issuer: the text the merchant asked to be shown on the
   * shopper's statement, as given; each connector fits it to its PSP's rules.
   */
  readonly statementText?: string;
  /**
   * On an operation that reaches the issuer: the merchant's own references of the payment, as
   * stored (a card number typed into one is masked), so that the PSP's portal, reports and dispute
   * notices name the merchant's order and not only our attempt id: `order` its reference of the
   * payment (`/v1` merchantTransactionId, an execution's merchantReference), `invoice` its invoice
   * number (`/v1` merchantInvoiceId). Each connector sends them under its PSP's own names.
   */
  readonly merchantReferences?: MerchantReferences;
  /** Switches the merchant sent for a PSP's test system (ignored by live systems). */
  readonly testParameters: Readonly<Record<string, string>>;
  /**
   * Where a PSP that runs 3-D Secure itself sends the shopper back (our return endpoint for this
   * attempt); absent when nobody can come back (a follow-up, a merchant-initiated charge).
   */
  readonly returnUrl?: string;
}

/** The shopper came back from a PSP's redirect: what the return carried (query and form fields). */
export interface ShopperReturn {
  readonly attemptId: string;
  /** What the attempt asked: an approval the PSP gives for another amount is not its answer. */
  readonly amount: Money;
  /** The PSP's reference the pending answer gave, if any. */
  readonly pspReference: string | undefined;
  readonly parameters: Readonly<Record<string, string>>;
}

/** What the engine knows of an attempt when it asks the PSP about it again. */
export interface LookupHint {
  readonly operation: ConnectorOperation;
  readonly amount: Money;
  /** The PSP's reference of the original payment, for follow-ups. */
  readonly originalReference: string | undefined;
  /** The PSP's reference its pending answer gave to this attempt, if any. */
  readonly pspReference: string | undefined;
}

/** An inbound HTTP notification from a PSP, as its endpoint received it. */
export interface InboundNotification {
  readonly headers: Readonly<Record<string, string | undefined>>;
  readonly body: string;
}

/** What a PSP's notification says about our attempts (each settles the attempt it names). */
export interface InboundResult {
  /** Whether the notification is authentic (signature checked); unauthentic ones change nothing. */
  readonly authentic: boolean;
  readonly settled: readonly {
    readonly attemptId: string;
    readonly outcome: Exclude<Outcome, { kind: 'unknown' }>;
    /**
     * The PSP takes back what it confirmed earlier: a capture or refund it reported successful
     * failed after all (Adyen's CAPTURE_FAILED, REFUND_FAILED, when the card scheme rejects it).
     * Applied to that attempt even though it is settled; any other item settles open attempts only.
     */
    readonly reverses?: boolean;
    /**
     * What the PSP says it approved, where its notification names an amount (ISO minor units): an
     * authorization, sale, capture or refund approved for another amount is not taken as the one
     * asked for. `unreadable`: the notification names an amount the gateway cannot read (a currency
     * it does not know, a fraction the currency has not), which is no more the one asked.
     */
    readonly amount?: Money | 'unreadable';
    /**
     * The operations the item is about (Adyen's CANCELLATION a void, its REFUND a refund): an item
     * naming an attempt of another operation (a cancellation or refund made in the PSP's own portal
     * names the payment's opening attempt) is money the PSP moved without the gateway asking, and
     * settles nothing. Absent: any operation.
     */
    readonly settles?: readonly ConnectorOperation[];
  }[];
  /** Chargebacks and their reversals the card scheme made on the account's payments: each is recorded on its payment. */
  readonly disputes?: readonly PspDispute[];
  /**
   * What the PSP reports that the gateway does not record by itself — a dispute's course (a dispute
   * opened, a pre-arbitration's end), a chargeback whose amount cannot be read, a refund made in the
   * PSP's own portal —: each names the event and the PSP's reference of the payment, for an
   * operator. Told loudly, never dropped in silence.
   */
  readonly unrecorded?: readonly { readonly event: string; readonly pspReference: string | undefined; readonly amount?: string }[];
  /** What the PSP expects as the HTTP answer body. */
  readonly answer: string;
}

/** A PSP without a status API: nothing was asked, so no PSP call is counted (nor failed). */
export class NoStatusApi extends Error {
  constructor(psp: string) {
    super(`${psp} has no status API: the account's webhook settles this attempt`);
    this.name = 'NoStatusApi';
  }
}

/**
 * What a shopper's browser brought back from a PSP's own 3-D Secure finishes nothing of this
 * attempt: none of the PSP's result is in it (a prefetch, a forged return), or it is another
 * payment's. Nothing was learnt, so nothing is settled.
 */
export class ReturnNotOurs extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ReturnNotOurs';
  }
}

/**
 * Money a card scheme moved on one of an account's payments without being asked by the gateway: a
 * chargeback (the shopper's bank took it back) or a chargeback's reversal (the merchant defended it).
 */
export interface PspDispute {
  readonly kind: 'chargeback' | 'chargeback_reversal';
  /** The PSP's own name of the event (Adyen's eventCode, Stripe's event type), kept with the record. */
  readonly event: string;
  /**
   * The PSP's reference of the payment charged back: what it answered for the payment's approval.
   * Absent where the PSP names only the dispute (Adyen's reversal and second chargeback): the
   * payment is then the one that dispute's chargeback was recorded on.
   */
  readonly paymentReference: string | undefined;
  /** The PSP's reference of the dispute, which every event of its course names. */
  readonly disputeReference: string;
  /**
   * The event's own identity within its dispute (Stripe's event id; Adyen's event code and date):
   * a notification sent again (PSPs send until acknowledged, and sometimes twice) records nothing
   * more, while a dispute's second round (a second chargeback, its reversal) is a movement of its own.
   */
  readonly eventId: string;
  /** In ISO minor units. */
  readonly amount: Money;
  /** When the PSP says the event happened (Adyen's eventDate, Stripe's event time), if it says. */
  readonly occurredAt?: number;
}

/**
 * The one interface every PSP connector implements. It answers neutral outcomes (never a dialect's
 * codes). `execute` may never settle (a lost answer): the engine bounds it with its own timeout,
 * records the attempt `unknown` and later asks `lookup`. A connector never retries a charge itself.
 *
 * @example
 * const outcome = await connector.execute({ operation: 'authorize', attemptId, amount, live: false, card, testParameters: {} });
 */
export interface Connector {
  readonly name: string;
  readonly operations: readonly ConnectorOperation[];
  /** A simulated PSP moves no money: only test-mode merchants' payments may reach it. */
  readonly simulated?: boolean;
  /** How long the engine waits for one call before recording it unknown; the gateway's PSP timeout when absent. */
  readonly timeoutMs?: number;
  /**
   * The PSP runs 3-D Secure itself: given a `returnUrl` it challenges the shopper on its own page
   * (answering `pending` with a redirect, finished by `complete`). The engine's own gate then
   * leaves to it the card payments whose cascade starts at this account.
   */
  readonly runsThreeDs?: boolean;
  /**
   * How long after an attempt was sent `lookup` may still miss it (a search that indexes new
   * payments late). Until then the engine takes "not found" as "not yet", never as "never
   * received": deciding that too early would decline, or send on to the next PSP, a payment the
   * PSP has in fact charged.
   */
  readonly lookupLagMs?: number;
  /**
   * The PSP answers a request sent again under the same idempotency key (our attempt id) with the
   * first one's outcome and never makes it twice (Adyen, Stripe). Where it cannot be asked what
   * became of a request, sending it again is then the way to find out.
   */
  readonly dedupesByKey?: boolean;
  /** `false`: the PSP cannot be asked what became of an attempt (`lookup` throws `NoStatusApi`); its notifications settle it. */
  readonly statusApi?: false;
  /**
   * `true`: a capture, refund or void the PSP reports pending is one it accepted and carries out
   * later by itself, however long that takes (Stripe holds a refund pending until the account's
   * balance covers it): the gateway keeps it pending until the PSP says how it ended, never ending
   * it at the shopper's timeout. Without it such a follow-up still pending after that timeout
   * ends expired, as a PSP of the Open Payment Platform family ends its own pending transactions.
   * A predicate says it per pending answer, by the PSP's code (the Open Payment Platform's
   * half-hour pending ends, its pending "that may change after several days" lasts).
   */
  readonly pendingFollowUpsLast?: true | ((acquirerCode: string | undefined) => boolean);
  execute(request: ConnectorRequest): Promise<Exclude<Outcome, { kind: 'unknown' }>>;
  /**
   * What the PSP knows of an attempt; undefined means it never received it. Throws when the PSP
   * cannot say now; throws `NoStatusApi`, without calling anyone, for PSPs that cannot ever be
   * asked (their webhooks settle it instead).
   */
  lookup(attemptId: string, hint?: LookupHint): Promise<Exclude<Outcome, { kind: 'unknown' }> | undefined>;
  /**
   * Finishes an attempt whose pending answer sent the shopper to the PSP's own 3-D Secure, once
   * the shopper is back (Adyen's /payments/details, Stripe's retrieve, an OPP acquirer's query).
   * Connectors that never answer with a redirect leave it out.
   */
  complete?(shopperReturn: ShopperReturn): Promise<Exclude<Outcome, { kind: 'unknown' }>>;
  /**
   * Whether a shopper's return carries what the PSP appends to it for this attempt (Stripe's
   * `payment_intent`, an acquirer's payment `id`, Adyen's `redirectResult`), without asking the
   * PSP. The return address needs no credential: a request without it (a prefetch, one made from
   * the payment's id alone) must not make the gateway call the PSP under the merchant's key.
   * Connectors that leave it out take every return as the PSP's.
   */
  returnNames?(shopperReturn: ShopperReturn): boolean;
  /** The PSP's own notifications (asynchronous captures, refunds): verified and mapped to outcomes. */
  inbound?(notification: InboundNotification): Promise<InboundResult>;
}

/** A PSP account as a factory builds its connector: its settings (secrets opened) and its request timeout. */
export interface ConnectorAccount {
  readonly id: string;
  readonly settings: unknown;
  /** How long one call to the PSP may take before it is abandoned (the attempt is then unknown). */
  readonly timeoutMs: number;
}

/**
 * Builds a connector for one PSP account from that account's settings (validated by `parseSettings`).
 *
 * @example
 * export const acmeFactory: ConnectorFactory = { name: 'acme', secretSettings: ['apiKey'], parseSettings, create: (a) => createAcme(a) };
 */
export interface ConnectorFactory {
  readonly name: string;
  /**
   * Top-level settings that hold credentials (API keys, bearer tokens, webhook HMAC keys): sealed
   * at rest under the vault's key ring, shown back only masked, never logged. Each must be a string.
   */
  readonly secretSettings?: readonly string[];
  /**
   * Settings that say which PSP, and which account there, the account's payments are at (a base
   * URL, an entity or merchant account): an account holding payments keeps them, since their
   * captures, refunds, voids and lookups must reach where they were made. Credentials and behaviour
   * may change.
   */
  readonly identitySettings?: readonly string[];
  /** A simulated PSP: accounts of live merchants may not use it. */
  readonly simulated?: boolean;
  /**
   * The PSP posts its own notifications (asynchronous outcomes) to each account's inbound endpoint,
   * `/psp-notifications/{merchantId}/{accountName}`, which the operator must configure at the PSP.
   */
  readonly takesNotifications?: boolean;
  /** Reads settings from untrusted JSON (admin API, CLI); the reason they are refused otherwise. */
  parseSettings(input: unknown): { ok: true; value: unknown } | { ok: false; error: string };
  create(account: ConnectorAccount): Connector;
}
