import type { Money } from '../money/money.ts';
import type { FastifyInstance } from 'fastify';
import { jsonAnswer, object, str, textAnswer } from '../runtime/json-schema.ts';
import type { Logger } from '../runtime/logger.ts';
import type { DisputeRecording } from '../payments/service.ts';
import type { Connector, ConnectorOperation, PspDispute } from '../processors/connector.ts';
import type { Outcome } from '../processors/outcome.ts';
import { hasControlCharacter } from '../runtime/control-characters.ts';
import { createRefusalAllowance } from '../runtime/refusal-allowance.ts';
import { sourceOf } from '../runtime/source-address.ts';
import type { Clock } from '../runtime/clock.ts';

export interface PspNotificationDeps {
  /** The id and connector of a merchant's PSP account, by the account's name. */
  accountOf(merchantId: string, name: string): Promise<{ id: string; connector: Connector | undefined } | undefined>;
  /** Settles one of the account's attempts by what the PSP says of it; whether anything changed. */
  settle(accountId: string, attemptId: string, outcome: Exclude<Outcome, { kind: 'unknown' }>, reverses: boolean, amount: Money | 'unreadable' | undefined,
    settles: readonly ConnectorOperation[] | undefined): Promise<boolean>;
  /** Records a chargeback or its reversal on the account's payment it names. */
  recordDispute(accountId: string, dispute: PspDispute): Promise<DisputeRecording>;
  logger: Logger;
  clock: Clock;
}

const namePattern = /^[A-Za-z0-9_.-]{1,64}$/;

/**
 * The inbound endpoint of each PSP account, `/psp-notifications/{merchantId}/{accountName}`, where
 * a PSP posts its own notifications (Adyen's standard webhook, Stripe's events). The body is read
 * as the exact bytes the PSP signed; the account's connector verifies the signature and says what
 * the notification settles. A notification that fails its signature is refused (401) and changes
 * nothing; an authentic one is acknowledged as the PSP expects, even when it names nothing of
 * ours, so the PSP does not send it again for ever.
 */
/** Text without control characters (undefined counts: nothing to look up). */
const plainText = (s: string | undefined) => s === undefined || !hasControlCharacter(s);

export async function registerPspNotificationRoutes(app: FastifyInstance, deps: PspNotificationDeps): Promise<void> {
  const forged = createRefusalAllowance({ perWindow: 5 });
  // A failure answers 500 without its message (a database's words are nobody's business); the PSP
  // sends the notification again.
  app.setErrorHandler(async (err: Error & { statusCode?: number }, req, reply) => {
    const status = err.statusCode && err.statusCode < 500 ? err.statusCode : 500;
    if (status === 500) req.log.error({ err: String(err) }, 'PSP notification failed');
    return reply.code(status).send({ error: status === 500 ? 'internal error' : 'the request could not be read' });
  });
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'string', bodyLimit: 1 << 20 }, (_req, body, done) => done(null, body));

  const refusal = object({ error: str() }, ['error']);
  const schema = {
    summary: "A PSP's own notifications for one PSP account (Adyen standard webhooks, Stripe events)",
    description: 'The body is read as the exact bytes the PSP signed; the account\'s connector checks the signature (Adyen HMAC, Stripe-Signature) before anything changes.',
    tags: ['psp notifications'],
    params: object({ merchantId: str('The merchant.'), account: str("The PSP account's name.") }, ['merchantId', 'account']),
    response: {
      200: textAnswer('Acknowledged as the PSP expects (e.g. `[accepted]` for Adyen).', 'text/plain'),
      401: jsonAnswer('The signature is not valid: nothing changed.', refusal),
      404: jsonAnswer('No PSP account of that name takes notifications.', refusal),
      503: jsonAnswer('An event of a dispute came before the one it follows (a reversal before its chargeback): everything else in it was taken, and the PSP sends it again later.', refusal),
    },
  };
  app.post<{ Params: { merchantId: string; account: string }; Body: string | undefined }>('/psp-notifications/:merchantId/:account', { schema }, async (req, reply) => {
    reply.header('cache-control', 'no-store');
    const { merchantId, account } = req.params;
    const found = namePattern.test(merchantId) && namePattern.test(account) ? await deps.accountOf(merchantId, account) : undefined;
    if (!found?.connector?.inbound) return reply.code(404).send({ error: 'no PSP account here takes notifications' });
    const headers: Record<string, string | undefined> = {};
    for (const [k, v] of Object.entries(req.headers)) headers[k] = Array.isArray(v) ? v.join(',') : v;
    const result = await found.connector.inbound({ headers, body: typeof req.body === 'string' ? req.body : '' });
    if (!result.authentic) {
      // Anyone who knows the address can send these: a few lines per account and source address in
      // ten minutes, then one saying the rest are counted, and their count. Every one was a warn
      // line, so a real wrong key (its notifications settling nothing) read like a stranger's noise.
      const source = sourceOf(req.ip);
      const allowed = forged.take(`${merchantId}/${account} ${source}`, deps.clock.now());
      const summary = allowed.summary;
      if (summary?.kind === 'counted') deps.logger.warn({ account, merchantId, source, count: summary.count, from: new Date(summary.from).toISOString(), to: new Date(summary.to).toISOString() }, 'PSP notifications refused for a bad signature, counted since the last line');
      if (allowed.write) deps.logger.warn({ account, merchantId, source }, 'PSP notification refused: bad signature');
      else if (summary?.kind === 'limited') deps.logger.warn({ account, merchantId, source, until: new Date(summary.until).toISOString() }, `PSP notifications refused for a bad signature: more than ${summary.perWindow} from this address, the rest are counted`);
      return reply.code(401).send({ error: 'signature not valid' });
    }
    let settled = 0;
    for (const s of result.settled) {
      // Our attempt ids hold no control character: a reference with one names nothing of ours
      // (and would reach the store only to be refused there, failing the whole batch for ever).
      if (!plainText(s.attemptId)) { deps.logger.warn({ account, merchantId }, 'PSP notification item names no attempt of ours (a control character in its reference): ignored'); continue; }
      if (await deps.settle(found.id, s.attemptId, s.outcome, s.reverses === true, s.amount, s.settles)) settled++;
    }
    deps.logger.info({ account, merchantId, items: result.settled.length, settled }, 'PSP notification received');
    // PSPs do not order their notifications: a reversal can come before its chargeback, a second
    // chargeback before the first one's reversal. Acknowledged, the early one would be lost and the
    // books would keep what the dispute's end undid; refused, the PSP sends it again later, and
    // what this delivery settled is known by then (each item records once).
    let early = false;
    for (const d of result.disputes ?? []) {
      if ((d.paymentReference !== undefined && !plainText(d.paymentReference)) || !plainText(d.disputeReference)) {
        deps.logger.error({ account, merchantId, event: d.event, amount: d.amount }, 'PSP dispute names no payment of ours (a control character in its references): reconcile it on the payment by hand');
        continue;
      }
      const r = await deps.recordDispute(found.id, d);
      const fields = { account, merchantId, event: d.event, pspReference: d.paymentReference, disputeReference: d.disputeReference, amount: d.amount };
      const what = d.kind === 'chargeback' ? 'PSP chargeback' : 'PSP chargeback reversal';
      if (r.kind === 'early') {
        early = true;
        deps.logger.warn(fields, `${what} came before the event it follows: the PSP is asked to send it again`);
      } else if (r.kind === 'recorded' || r.kind === 'known') {
        deps.logger.info({ ...fields, paymentId: r.paymentId, recorded: r.kind === 'recorded' }, `${what} ${r.kind === 'recorded' ? 'recorded' : 'received again: recorded before'}`);
      } else {
        // The money moved all the same: an operator reconciles it by hand, so it is told as an error.
        const why = r.kind === 'refused' ? r.error : r.kind === 'ambiguous' ? 'names more than one payment' : 'names no payment of this account';
        deps.logger.error({ ...fields, ...(r.kind === 'refused' ? { paymentId: r.paymentId } : {}), why }, `${what} not recorded (${why}): reconcile it on the payment by hand`);
      }
    }
    // What the gateway does not record by itself (a dispute's course, a refund made in the PSP's
    // portal): an operator acts on it, so it is told as an error.
    for (const u of result.unrecorded ?? []) {
      deps.logger.error({ account, merchantId, event: u.event, pspReference: u.pspReference, amount: u.amount }, 'PSP reports money it moved that the gateway does not record by itself (a dispute\'s course, or an action in the PSP\'s own portal): see to it at the PSP and on the payment');
    }
    if (early) return reply.code(503).send({ error: 'a dispute event came before the one it follows; send it again later' });
    return reply.code(200).type('text/plain; charset=utf-8').send(result.answer);
  });
}
