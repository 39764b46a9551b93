import type { ConnectorOperation } from './connector.ts';
import type { Outcome } from './outcome.ts';

/**
 * Refuses an approval of a payment (an authorization or a sale) that carries no reference of the
 * PSP's: every capture, void and refund of it is sent naming that reference, so recorded approved
 * it would be money held that nothing could release or take. Thrown, the attempt stays unknown
 * until the PSP's notification or a lookup names the payment.
 */
export function referencedApproval(psp: string, operation: ConnectorOperation, outcome: Outcome): void {
  if (outcome.kind === 'approved' && (operation === 'authorize' || operation === 'sale') && !outcome.pspReference) {
    throw new Error(`${psp} approved the payment without its reference: not taken as this request's outcome (no capture, void or refund could name it)`);
  }
}
