import type { Clock } from '../runtime/clock.ts';
import type { VaultService } from '../vault/service.ts';
import type { ThreeDsService } from '../threeds/service.ts';
import { challengeResultOf, noAuthenticationRequest, planAuthentication } from '../threeds/model.ts';
import type { ExecutionService, ThreeDsGate } from './service.ts';
import { shopperStepOf } from './model.ts';

/**
 * Executions' use of the shared 3-D Secure concern: the simulator table decides the card's flow,
 * a challenge is one hosted page (shown once per execution, whatever the cascade does next), and
 * its outcome runs the cascade with the authentication result before the shopper is sent back to
 * the merchant's `returnInfo` URL (never a URL from the page's query string).
 */
export function createExecutionsThreeDs(deps: {
  threeds: ThreeDsService; vault: VaultService; clock: Clock; publicUrl: string | undefined; challengeTtlMs: number;
}): { gate: ThreeDsGate; register(executions: ExecutionService): void } {
  const { threeds, vault, clock } = deps;
  return {
    gate: {
      async authenticate({ merchant, execution, cardId, amount, returnInfo }) {
        const card = await vault.open(cardId);
        if (!card) return { kind: 'none' };
        const plan = planAuthentication(card.pan.reveal(), card.brand, noAuthenticationRequest);
        switch (plan.kind) {
          case 'none': return { kind: 'none' };
          case 'frictionless': return { kind: 'authenticated', authentication: { status: plan.result.status, eci: plan.result.eci } };
          case 'refused': return { kind: 'refused', resultCode: plan.code };
          case 'challenge': {
            const challenge = await threeds.open({
              merchantId: merchant.id, merchantName: merchant.name, purpose: '3ds', subject: { kind: 'execution', id: execution.id },
              amount, instrumentLabel: `${card.brand} •••• ${card.last4}`,
              returnUrls: [returnInfo.success, returnInfo.cancel, returnInfo.error, returnInfo.pending].filter((u) => u !== undefined),
              expiresAt: clock.now() + deps.challengeTtlMs,
            });
            return { kind: 'challenge', action: { kind: '3ds', challengeId: challenge.id, href: threeds.urlOf(challenge, deps.publicUrl ?? execution.authorize!.baseUrl) } };
          }
        }
      },
    },
    register(executions) {
      threeds.onOutcome('execution', async (challenge, outcome) => {
        const before = await executions.challengeDone(challenge.subject.id, outcome, undefined, async (cardId) => {
          const card = await vault.masked(cardId);
          if (!card) return undefined;
          const r = challengeResultOf(card.brand, outcome);
          return { status: r.status, eci: r.eci };
        });
        const info = before?.authorize?.returnInfo;
        const step = before ? shopperStepOf(before) : undefined;
        if (!before || !info || !step) throw new Error(`challenge ${challenge.id} names no execution awaiting it`);
        return step.kind === 'return' ? step.url : info.pending ?? info.success;
      });
    },
  };
}
