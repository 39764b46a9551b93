import type { Clock } from '../runtime/clock.ts';
import type { Ids } from '../runtime/ids.ts';
import { fail, ok, type Result } from '../runtime/result.ts';
import type { ChallengeOutcome } from './model.ts';
import type { Challenge, ChallengePurpose, ChallengeStore, SubjectKind } from './store.ts';

export type OpenChallengeInput = Pick<Challenge, 'merchantId' | 'merchantName' | 'purpose' | 'subject' | 'amount' | 'instrumentLabel' | 'expiresAt' | 'pspRedirect'> & {
  /** Every URL the shopper may be sent to afterwards; their origins become the page's form-action. */
  readonly returnUrls: readonly string[];
};

/**
 * Runs what a finished challenge means for its subject (authorize, decline, cancel) and returns the
 * URL the shopper's browser goes to next. Registered once per subject kind by the composition root.
 */
export type OutcomeHandler = (challenge: Challenge, outcome: ChallengeOutcome) => Promise<string>;

export type FinishError = 'not_found' | 'used' | 'expired';

/**
 * Runs what the shopper's return from a PSP-run challenge means for the payment (the PSP asked to
 * finish the attempt) and returns the URL the browser goes to next; undefined when the payment or
 * attempt is unknown. Registered once by the composition root.
 */
/**
 * `admit` is called once the return names an attempt that has one, before anything is asked or
 * written for it; it throws to refuse the return (too many from one source).
 */
export type ReturnHandler = (paymentId: string, attemptId: string, parameters: Readonly<Record<string, string>>, admit: () => Promise<void>) => Promise<string | undefined>;

export interface ThreeDsService {
  open(input: OpenChallengeInput): Promise<Challenge>;
  get(id: string): Promise<Challenge | undefined>;
  /** The hosted page's address, e.g. `urlOf(id, 'https://pay.example')` → `https://pay.example/hosted/3ds/{id}`. */
  urlOf(challenge: Pick<Challenge, 'id' | 'purpose'>, baseUrl: string): string;
  onOutcome(kind: SubjectKind, handler: OutcomeHandler): void;
  /**
   * Where a browser goes that answers a challenge answered already (the shopper finished it in
   * another tab): where the subject's dialect sends a shopper now, without acting again.
   */
  onAnswered(kind: SubjectKind, handler: (challenge: Challenge) => Promise<string | undefined>): void;
  /**
   * A challenge past its expiry that the sweep has not closed yet, reached by the shopper: the
   * subject is ended as the sweep would end it, and the handler says where the shopper goes then.
   */
  onLapsed(kind: SubjectKind, handler: (challenge: Challenge) => Promise<string | undefined>): void;
  /** Where a shopper goes who reaches `challenge` past its expiry (see `onLapsed`); undefined: nowhere known. */
  lapsed(challenge: Challenge): Promise<string | undefined>;
  /**
   * Where a shopper goes who comes back to a challenge that has ended (answered, or closed by the
   * payment's timeout): Back from the merchant's page reloads it. Undefined: nowhere known.
   */
  whereNow(challenge: Challenge): Promise<string | undefined>;
  /**
   * The shopper's answer: accepted once, before expiry; returns where to send the browser. Answered
   * already, the browser goes where the first answer's would go now.
   */
  finish(id: string, outcome: ChallengeOutcome): Promise<Result<string, FinishError>>;
  /**
   * Closes the subject's open challenge without the shopper (its payment timed out). `lapsedOnly`:
   * only one whose own time is up, not one opened since (the next PSP's, after a late return).
   */
  expire(kind: SubjectKind, subjectId: string, options?: { lapsedOnly?: boolean }): Promise<void>;
  /** The subject's open challenge, if any. */
  openOf(kind: SubjectKind, subjectId: string): Promise<Challenge | undefined>;
  /** Closes a PSP-run challenge once its shopper is back (a used forwarding page cannot be replayed). */
  close(kind: SubjectKind, subjectId: string): Promise<void>;
  onReturn(handler: ReturnHandler): void;
  /** The shopper is back from a PSP-run challenge: where to send the browser (undefined: nothing known). */
  returned(paymentId: string, attemptId: string, parameters: Readonly<Record<string, string>>, admit: () => Promise<void>): Promise<string | undefined>;
}

/** Path of the hosted page for each purpose. */
export const hostedPaths: Readonly<Record<ChallengePurpose, string>> = { '3ds': '/hosted/3ds', bank_transfer: '/hosted/bank' };

const statusOfOutcome = { completed: 'completed', failed: 'failed', cancelled: 'cancelled' } as const;

export function createThreeDsService(deps: { store: ChallengeStore; clock: Clock; ids: Ids }): ThreeDsService {
  const { store, clock, ids } = deps;
  const handlers = new Map<SubjectKind, OutcomeHandler>();
  const answered = new Map<SubjectKind, (challenge: Challenge) => Promise<string | undefined>>();
  const lapses = new Map<SubjectKind, (challenge: Challenge) => Promise<string | undefined>>();
  let returnHandler: ReturnHandler | undefined;
  const service: ThreeDsService = {
    async open(input) {
      const challenge: Challenge = {
        id: ids.hex32(), merchantId: input.merchantId, merchantName: input.merchantName, purpose: input.purpose,
        subject: input.subject, amount: input.amount, instrumentLabel: input.instrumentLabel,
        returnOrigins: [...new Set(input.returnUrls.map((u) => new URL(u).origin))],
        status: 'open', createdAt: clock.now(), expiresAt: input.expiresAt, resolvedAt: undefined,
        ...(input.pspRedirect ? { pspRedirect: input.pspRedirect } : {}),
      };
      await store.insert(challenge);
      return challenge;
    },
    get: (id) => store.get(id),
    urlOf: (c, baseUrl) => `${baseUrl}${hostedPaths[c.purpose]}/${c.id}`,
    onOutcome(kind, handler) { handlers.set(kind, handler); },
    onAnswered(kind, handler) { answered.set(kind, handler); },
    onLapsed(kind, handler) { lapses.set(kind, handler); },
    lapsed: (challenge) => lapses.get(challenge.subject.kind)?.(challenge) ?? Promise.resolve(undefined),
    async finish(id, outcome) {
      const challenge = await store.get(id);
      if (!challenge) return fail('not_found');
      const now = clock.now();
      if (!await store.resolve(id, statusOfOutcome[outcome], now, now)) {
        if (challenge.status === 'open' && challenge.expiresAt <= now) {
          // Past its expiry, not swept yet: the shopper is not left on a dead page.
          const back = await lapses.get(challenge.subject.kind)?.(challenge);
          return back ? ok(back) : fail('expired');
        }
        // Answered in another tab, or closed by the payment's timeout while this page stood open:
        // this tab goes where the payment now sends the shopper (back to the merchant's result).
        const current = await store.get(id);
        const back = current && await service.whereNow(current);
        return back ? ok(back) : fail('used');
      }
      const handler = handlers.get(challenge.subject.kind);
      if (!handler) throw new Error(`no outcome handler for ${challenge.subject.kind}`);
      return ok(await handler(challenge, outcome));
    },
    async whereNow(challenge) {
      const ended = challenge.status === 'completed' || challenge.status === 'failed' || challenge.status === 'cancelled' || challenge.status === 'expired';
      return ended ? answered.get(challenge.subject.kind)?.(challenge) : undefined;
    },
    async expire(kind, subjectId, options = {}) {
      const open = await store.openOf(kind, subjectId);
      const now = clock.now();
      if (open && (!options.lapsedOnly || open.expiresAt <= now)) await store.resolve(open.id, 'expired', now, 0);
    },
    openOf: (kind, subjectId) => store.openOf(kind, subjectId),
    async close(kind, subjectId) {
      const open = await store.openOf(kind, subjectId);
      if (open) await store.resolve(open.id, 'completed', clock.now(), 0);
    },
    onReturn(handler) { returnHandler = handler; },
    async returned(paymentId, attemptId, parameters, admit) {
      if (!returnHandler) throw new Error('no handler for shoppers back from a PSP');
      return returnHandler(paymentId, attemptId, parameters, admit);
    },
  };
  return service;
}
