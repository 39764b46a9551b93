/**
 * What an operation's PSP request says besides the money and the card: whether the shopper is
 * there, the stored credential's use, the shopper as the merchant described them, the statement
 * text, the merchant's references and the 3-D Secure result; read from the operation as recorded.
 */
import type { ConnectorOperation, ConnectorRequest, MerchantReferences, Shopper, StoredCredential } from '../processors/connector.ts';
import type { OperationKind } from './model.ts';
import { shopperOf, statementTextOf } from './shopper.ts';
import type { OperationRecord } from './store.ts';

/** The PSP operation each operation kind is sent as (chargebacks, their reversals and receipts are only recorded). */
export const connectorOperationOf: Readonly<Record<Exclude<OperationKind, 'chargeback' | 'chargeback_reversal' | 'receipt'>, ConnectorOperation>> = {
  authorize: 'authorize', sale: 'sale', credit: 'credit', capture: 'capture', void: 'void', refund: 'refund', rebill: 'rebill',
};

type Told = Pick<ConnectorRequest, 'merchantInitiated' | 'storedCredential' | 'shopper' | 'statementText' | 'merchantReferences' | 'authentication'>;

/** The request's fields of `op` (of kind `kind`); `reachesIssuer` for an authorization, a sale, a rebill or a credit. */
export function toldOfOperation(op: OperationRecord, kind: OperationKind, reachesIssuer: boolean): Told {
  const status = op.details['3ds.transactionStatus'];
  return {
    // A rebill charges the stored card with nobody there: merchant-initiated, as a standing instruction's charge.
    ...(chargedWithoutShopper(op, kind) ? { merchantInitiated: true } : {}),
    ...storedCredentialOf(op, kind),
    // What the issuer decides on: the shopper as the merchant described them, and the statement text.
    ...(reachesIssuer ? shopperFieldsOf(op, kind) : {}),
    ...(reachesIssuer ? merchantReferencesOf(op) : {}),
    ...(status !== undefined && op.seq === 0 ? {
      authentication: {
        status, eci: op.details['3ds.acsEci'], flow: op.details['3ds.flow'] === 'challenge' ? 'challenge' : 'frictionless', version: op.details['3ds.version'],
        ...externalCryptogramOf(op.context.externalAuthentication),
      },
    } : {}),
  };
}

/** A charge the merchant makes without the shopper there: a stored credential's merchant-initiated one, or a rebill. */
const chargedWithoutShopper = (op: OperationRecord, kind: OperationKind) => (op.seq === 0 && op.context.merchantInitiated === true) || kind === 'rebill';

/** The merchant's MPI's cryptogram and ids as the intent kept them (text only). */
function externalCryptogramOf(kept: unknown): { authenticationValue?: string; dsTransactionId?: string; xid?: string } {
  if (typeof kept !== 'object' || kept === null) return {};
  const k = kept as Record<string, unknown>;
  const text = (v: unknown) => typeof v === 'string' ? v : undefined;
  const value = text(k.authenticationValue);
  if (value === undefined) return {};
  const ds = text(k.dsTransactionId);
  const xid = text(k.xid);
  return { authenticationValue: value, ...(ds !== undefined ? { dsTransactionId: ds } : {}), ...(xid !== undefined ? { xid } : {}) };
}

/** A charge made without the shopper there (a merchant-initiated one, a rebill) tells no browser or IP address: none is theirs. */
function shopperFieldsOf(op: OperationRecord, kind: OperationKind): { shopper?: Shopper; statementText?: string } {
  const present = !chargedWithoutShopper(op, kind);
  const shopper = shopperOf(op.context, present);
  const statementText = statementTextOf(op.context);
  return { ...(shopper ? { shopper } : {}), ...(statementText !== undefined ? { statementText } : {}) };
}

/** The merchant's reference of the operation and its invoice number (the `/v1` echo's), where given. */
function merchantReferencesOf(op: OperationRecord): { merchantReferences?: MerchantReferences } {
  const order = op.merchantTransactionId;
  const invoice = typeof op.context.merchantInvoiceId === 'string' ? op.context.merchantInvoiceId : undefined;
  if (order === undefined && invoice === undefined) return {};
  return { merchantReferences: { ...(order !== undefined ? { order } : {}), ...(invoice !== undefined ? { invoice } : {}) } };
}

/**
 * How a charge of a card kept on file is told to its PSP: the merchant's standing instruction
 * (its type, the scheme's id of the first transaction) on a merchant-initiated charge; the
 * first, cardholder-initiated payment that stores the card (a registration made with it, or a
 * standing instruction's INITIAL mode); and a later payment the cardholder makes with it (a
 * REPEATED standing instruction from the cardholder, or an executions instrument charged again),
 * which the schemes want flagged as a stored card's use too.
 */
function storedCredentialOf(op: OperationRecord, kind: OperationKind): { storedCredential?: StoredCredential } {
  const given = op.context.standingInstruction;
  const si = (typeof given === 'object' && given !== null ? given : {}) as Record<string, unknown>;
  const byMerchant = chargedWithoutShopper(op, kind);
  const repeatedByCardholder = op.seq === 0 && !byMerchant && kind !== 'credit' && (si.mode === 'REPEATED' || op.context.usesKeptCard === true);
  const subsequent = byMerchant || repeatedByCardholder;
  const initial = op.seq === 0 && !subsequent && kind !== 'credit'
    && (op.context.storesCard === true || si.mode === 'INITIAL' || op.context.recurringType === 'INITIAL');
  if (!subsequent && !initial) return {};
  const kept = op.context.cardOnFileUse;
  const type = kept === 'recurring' || kept === 'unscheduled' || kept === 'card_on_file' ? kept
    : si.type === 'RECURRING' ? 'recurring' : si.type === 'INSTALLMENT' ? 'installment' : 'unscheduled';
  const first = subsequent && typeof si.initialTransactionId === 'string' ? si.initialTransactionId : undefined;
  // Resolved when the payment was asked for (a string, or null for none); a payment recorded before
  // that was resolved takes the merchant's id as the scheme's, as it was then.
  const resolved = op.context.initialSchemeTransactionId;
  const scheme = resolved === undefined ? first : typeof resolved === 'string' && first ? resolved : undefined;
  return {
    storedCredential: {
      use: subsequent ? 'subsequent' : 'initial', initiatedBy: byMerchant ? 'merchant' : 'cardholder', type,
      ...(first ? { initialTransactionId: first } : {}), ...(scheme ? { schemeTransactionId: scheme } : {}),
    },
  };
}
