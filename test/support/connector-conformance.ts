/**
 * The one conformance suite every PSP connector passes, each against its PSP (a fake written in
 * this project from the vendor's contract, or the simulated acquirer): authorize, capture and
 * refund in parts, void, soft and hard declines, the PSP's own 3-D Secure challenge, a lost answer
 * the reconciler's question (or the PSP's webhook) settles, a duplicate send charging once, and an
 * inbound notification with a bad signature refused. A connector that lacks a capability (no PSP
 * 3-D Secure, no inbound notifications) says so and that case is skipped with the reason.
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { Cvv, Pan } from '../../src/vault/card.ts';
import { money, type Currency } from '../../src/money/money.ts';
import type { Connector, ConnectorRequest, InboundNotification, LookupHint } from '../../src/processors/connector.ts';
import type { Outcome, ShopperRedirect } from '../../src/processors/outcome.ts';
import { suiteCards } from './fake-psps/bank.ts';

type Answer = Exclude<Outcome, { kind: 'unknown' }>;

export interface SubjectRun {
  readonly connector: Connector;
  /** Authorizations (and sales) the PSP has processed so far: a duplicate that charged twice shows as two. */
  charges(): number;
  /** The shopper at the PSP's challenge: passes or fails it and comes back with what the PSP appended to our return URL. */
  shopper?(redirect: ShopperRedirect, passed: boolean): Promise<Record<string, string>>;
  /** The signed notifications the PSP would have sent since the last call. */
  notifications?(): InboundNotification[];
  close(): Promise<void>;
}

export interface ConformanceSubject {
  readonly name: string;
  /** How an answer lost on the way back is settled: asking the PSP, or the PSP's own webhook. */
  readonly lostAnswers: 'lookup' | 'webhook';
  /** Why the PSP's own 3-D Secure is not tested, when it is not. */
  readonly noPspThreeDs?: string;
  /** Why inbound notifications are not tested, when they are not. */
  readonly noInbound?: string;
  /** A fresh connector against a fresh PSP; its call timeout is short (the lost-answer case waits for it). */
  start(): Promise<SubjectRun>;
}

export const returnUrl = 'https://gateway.example/hosted/psp-return/';
const card = (number: string) => ({ pan: new Pan(number), cvv: new Cvv('123'), brand: 'VISA' as const, holder: 'Jane Jones', expiryMonth: '05', expiryYear: '34' });
const eur = (minor: number) => money(minor, 'EUR' as Currency);
const attemptId = () => randomBytes(16).toString('hex');

export function runConformance(subject: ConformanceSubject) {
  describe(`connector conformance: ${subject.name}`, () => {
    let run: SubjectRun;
    before(async () => { run = await subject.start(); });
    after(async () => { await run?.close(); });

    const authorizeRequest = (number: string, extra: Partial<ConnectorRequest> = {}): ConnectorRequest => ({
      operation: 'authorize', attemptId: attemptId(), amount: eur(10_000), live: false, card: card(number), testParameters: {}, ...extra,
    });
    const followUp = (operation: 'capture' | 'refund' | 'void', original: Answer, minor: number): ConnectorRequest => ({
      operation, attemptId: attemptId(), amount: eur(minor), live: false, originalReference: original.pspReference!, testParameters: {},
    });
    const hintOf = (req: ConnectorRequest, pspReference?: string): LookupHint => ({ operation: req.operation, amount: req.amount, originalReference: req.originalReference, pspReference });

    /** The attempt's final outcome: its answer, or what the PSP's notifications (else its status) say later. */
    async function settled(req: ConnectorRequest, answer: Answer): Promise<Answer> {
      if (answer.kind !== 'pending' || answer.redirect) return answer;
      if (run.notifications) {
        for (const n of run.notifications()) {
          const r = await run.connector.inbound!(n);
          assert.ok(r.authentic, 'the PSP\'s own notification is authentic');
          const mine = r.settled.find((s) => s.attemptId === req.attemptId);
          if (mine) return mine.outcome;
        }
      }
      const known = await run.connector.lookup(req.attemptId, hintOf(req, answer.pspReference));
      assert.ok(known, `the PSP knows ${req.operation} ${req.attemptId}`);
      return known;
    }

    const send = async (req: ConnectorRequest) => settled(req, await run.connector.execute(req));

    async function authorized(): Promise<Answer> {
      const a = await send(authorizeRequest(suiteCards.approved));
      assert.equal(a.kind, 'approved', JSON.stringify(a));
      assert.ok(a.pspReference, 'an approval carries the PSP\'s reference');
      run.notifications?.();
      return a;
    }

    test('authorize approves with the PSP\'s reference', async () => {
      await authorized();
    });

    test('captures in parts, then refunds in parts, each approved; more than is left is refused', async () => {
      const a = await authorized();
      const captures: Answer[] = [];
      for (const part of [3_000, 7_000]) {
        captures.push(await send(followUp('capture', a, part)));
        assert.equal(captures.at(-1)!.kind, 'approved', `capture ${part}`);
      }
      // Each refund names the capture whose money it gives back (a PSP that refunds per transaction reads it).
      const refund = (minor: number) => ({ ...followUp('refund', a, minor), refundedReference: captures.at(-1)!.kind === 'approved' ? captures.at(-1)!.pspReference : undefined });
      for (const part of [2_500, 2_500]) assert.equal((await send(refund(part))).kind, 'approved', `refund ${part}`);
      if (subject.name !== 'simulator') {
        // The simulated acquirer keeps no balances (the engine's amount rules stand before it); real PSPs refuse.
        assert.equal((await send(refund(6_000))).kind, 'declined', 'refunding more than was captured');
      }
    });

    test('void releases an authorization; a capture after it is refused', async () => {
      const a = await authorized();
      assert.equal((await send(followUp('void', a, 10_000))).kind, 'approved');
      if (subject.name !== 'simulator') assert.equal((await send(followUp('capture', a, 1_000))).kind, 'declined');
    });

    test('declines say soft or hard', async () => {
      const soft = await send(authorizeRequest(suiteCards.soft));
      assert.equal(soft.kind === 'declined' && soft.reason, 'soft', JSON.stringify(soft));
      assert.ok(soft.acquirerCode, 'the PSP\'s own code travels beside the neutral reason');
      const hard = await send(authorizeRequest(suiteCards.hard));
      assert.equal(hard.kind === 'declined' && hard.reason, 'hard', JSON.stringify(hard));
      run.notifications?.();
    });

    test('the PSP\'s 3-D Secure: pending with its redirect, completed when the shopper is back', { skip: subject.noPspThreeDs }, async () => {
      for (const passed of [true, false]) {
        const req = authorizeRequest(suiteCards.challenge, { returnUrl: returnUrl + 'x' });
        const pending = await run.connector.execute(req);
        assert.equal(pending.kind, 'pending', JSON.stringify(pending));
        assert.ok(pending.kind === 'pending' && pending.action === 'three_ds' && pending.redirect, 'a redirect to pass through');
        const back = await run.shopper!(pending.redirect, passed);
        const done = await run.connector.complete!({ attemptId: req.attemptId, amount: req.amount, pspReference: pending.pspReference, parameters: back });
        assert.equal(done.kind, passed ? 'approved' : 'declined', JSON.stringify(done));
        if (passed) assert.equal((await send(followUp('capture', done, 10_000))).kind, 'approved', 'the authenticated payment captures');
      }
      run.notifications?.();
    });

    test('a lost answer leaves the attempt unknown; the reconciler (or the PSP\'s webhook) settles it, charged once', async () => {
      const req = authorizeRequest(suiteCards.silent);
      const before = run.charges();
      const lost = await Promise.race([
        run.connector.execute(req).then(() => 'answered', () => 'unknown'),
        new Promise((r) => setTimeout(r, 2_500, 'unknown').unref()),
      ]);
      assert.equal(lost, 'unknown');
      let known: Answer | undefined;
      if (subject.lostAnswers === 'lookup') known = await run.connector.lookup(req.attemptId, hintOf(req));
      else {
        await assert.rejects(run.connector.lookup(req.attemptId, hintOf(req)), 'no status API to ask: it says so rather than guess');
        for (const n of run.notifications!()) known ??= (await run.connector.inbound!(n)).settled.find((s) => s.attemptId === req.attemptId)?.outcome;
      }
      assert.equal(known?.kind, 'approved', JSON.stringify(known));
      assert.equal(run.charges() - before, 1);
      // An attempt the PSP never received is not invented.
      if (subject.lostAnswers === 'lookup') assert.equal(await run.connector.lookup(attemptId(), { operation: 'authorize', amount: eur(1), originalReference: undefined, pspReference: undefined }), undefined);
    });

    test('the same attempt sent twice charges once and answers the same', async () => {
      const req = authorizeRequest(suiteCards.approved);
      const before = run.charges();
      const first = await send(req);
      const second = await send(req);
      assert.equal(first.kind, 'approved');
      assert.equal(second.kind, 'approved');
      assert.equal(second.pspReference, first.pspReference);
      assert.equal(run.charges() - before, 1);
      run.notifications?.();
    });

    test('an inbound notification with a bad signature is refused and settles nothing', { skip: subject.noInbound }, async () => {
      const a = await authorized();
      await run.connector.execute(followUp('capture', a, 1_000));
      const [n] = run.notifications!();
      assert.ok(n, 'the PSP sent a notification');
      assert.ok((await run.connector.inbound!(n)).authentic, 'the genuine one passes');
      const forged = tamper(n);
      const r = await run.connector.inbound!(forged);
      assert.equal(r.authentic, false);
      assert.deepEqual(r.settled, []);
      const unsigned = { headers: {}, body: n.body.replace(/"hmacSignature":"[^"]*"/, '"hmacSignature":""') };
      assert.equal((await run.connector.inbound!(unsigned)).authentic, false, 'an unsigned one too');
    });
  });
}

/** The same notification with its signature altered (one character of the signed value changed). */
function tamper(n: InboundNotification): InboundNotification {
  const sig = n.headers['stripe-signature'];
  if (sig) return { headers: { ...n.headers, 'stripe-signature': sig.replace(/v1=(.)/, (_m, c: string) => `v1=${c === 'a' ? 'b' : 'a'}`) }, body: n.body };
  return { headers: n.headers, body: n.body.replace(/"value":(\d+)/, (_m, v: string) => `"value":${Number(v) + 1}`) };
}
