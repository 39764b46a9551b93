import type { Tx } from '../storage/unit-of-work.ts';
import type { CheckoutRecord } from './model.ts';

/** The checkout writes inside a unit of work. */
export interface CheckoutWriter {
  /** Claims an open, unexpired checkout for a payment; false when it is paid, expired or gone. */
  claim(id: string, paymentId: string, now: number): Promise<boolean>;
  /** Opens the checkout again if `paymentId` is still its payment (that payment was declined). */
  reopen(id: string, paymentId: string): Promise<void>;
}

export interface CheckoutStore {
  insert(c: CheckoutRecord): Promise<void>;
  get(id: string): Promise<CheckoutRecord | undefined>;
  /** Removes checkouts no payment ever claimed that expired before `before`; the number removed. */
  purgeUnpaid(before: number): Promise<number>;
  writer(tx: Tx): CheckoutWriter;
}
