import { isOpen } from '../payments/model.ts';
import type { OperationRecord } from '../payments/store.ts';
import type { ActionKind } from './deps.ts';
import { amountText } from './format.ts';

/** What an operator's last action of a kind did: every operation it recorded, taken together. */
export interface ActionOutcome {
  readonly operations: readonly OperationRecord[];
  /** `succeeded`, `failed`, `partly succeeded` (some parts refused), or the open status of a part not ended yet. */
  readonly status: string;
  readonly text: string;
}

const actionIdOf = (o: OperationRecord): string | undefined => {
  const a = o.context.executionAction as { id?: unknown } | undefined;
  return typeof a?.id === 'string' ? a.id : undefined;
};

/**
 * The latest action of `kind` on a payment. An executions refund wider than any one capture is
 * recorded as one refund per capture, all carrying the same action: they are one action here, so
 * the result page and the audit log tell the amount it gave back and whether every part did.
 */
export function latestActionOf(operations: readonly OperationRecord[], kind: ActionKind): ActionOutcome | undefined {
  const last = operations.filter((o) => o.kind === kind).at(-1);
  if (!last) return undefined;
  const action = actionIdOf(last);
  const parts = action === undefined ? [last] : operations.filter((o) => o.kind === kind && actionIdOf(o) === action);
  const currency = last.amount.currency;
  const sum = (ops: readonly OperationRecord[]) => ops.reduce((n, o) => n + o.amount.amount, 0);
  const open = parts.find((o) => isOpen(o.status));
  const succeeded = parts.filter((o) => o.status === 'succeeded');
  const failed = parts.find((o) => o.status === 'failed');
  const status = open ? open.status : succeeded.length === parts.length ? 'succeeded' : succeeded.length === 0 ? 'failed' : 'partly succeeded';
  const amount = status === 'partly succeeded'
    ? `${amountText(sum(succeeded), currency)} of ${amountText(sum(parts), currency)}`
    : amountText(sum(parts), currency);
  const reason = failed?.reason && status !== 'succeeded' ? `: ${failed.reason}` : '';
  return { operations: parts, status, text: `${kind[0]!.toUpperCase()}${kind.slice(1)} ${status} (${amount})${reason}.` };
}
