import { createHmac, timingSafeEqual } from 'node:crypto';
import { isObject } from '../http.ts';
import { clipText } from '../../runtime/utf8.ts';

/** One notification item of Adyen's standard webhook (the fields read here). */
export interface NotificationItem {
  readonly pspReference: string;
  readonly originalReference: string | undefined;
  readonly merchantAccountCode: string;
  readonly merchantReference: string;
  readonly value: number;
  readonly currency: string;
  readonly eventCode: string;
  readonly success: string;
  readonly reason: string | undefined;
  readonly hmacSignature: string | undefined;
  /** When the event happened (not signed): tells apart two events of one dispute that share code and reference. */
  readonly eventDate?: string | undefined;
}

/**
 * The string Adyen signs for each item: pspReference, originalReference, merchantAccountCode,
 * merchantReference, amount value, amount currency, eventCode and success, joined by colons.
 */
export const signedString = (i: Omit<NotificationItem, 'reason' | 'hmacSignature'>): string =>
  [i.pspReference, i.originalReference ?? '', i.merchantAccountCode, i.merchantReference, String(i.value), i.currency, i.eventCode, i.success].join(':');

/** The item's HMAC-SHA256 under the account's hex key, base64 (as `additionalData.hmacSignature`). */
export const signItem = (i: Omit<NotificationItem, 'reason' | 'hmacSignature'>, hexKey: string): string =>
  createHmac('sha256', Buffer.from(hexKey, 'hex')).update(signedString(i), 'utf8').digest('base64');

export function verifyItem(i: NotificationItem, hexKey: string): boolean {
  if (i.hmacSignature === undefined) return false;
  const expected = Buffer.from(signItem(i, hexKey), 'base64');
  const given = Buffer.from(i.hmacSignature, 'base64');
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/** The items of a webhook body; undefined when it is not one (a malformed body is refused whole). */
export function itemsOf(body: string): NotificationItem[] | undefined {
  let json: unknown;
  try { json = JSON.parse(body); } catch { return undefined; }
  if (!isObject(json) || !Array.isArray(json.notificationItems)) return undefined;
  const items: NotificationItem[] = [];
  for (const wrapper of json.notificationItems) {
    const n = isObject(wrapper) ? wrapper.NotificationRequestItem : undefined;
    if (!isObject(n) || !isObject(n.amount)) return undefined;
    const { pspReference, merchantAccountCode, merchantReference, eventCode, success } = n;
    const value = n.amount.value;
    const currency = n.amount.currency;
    if (typeof pspReference !== 'string' || typeof merchantAccountCode !== 'string' || typeof merchantReference !== 'string'
      || typeof eventCode !== 'string' || typeof success !== 'string' || typeof value !== 'number' || typeof currency !== 'string') return undefined;
    const additional = isObject(n.additionalData) ? n.additionalData : {};
    items.push({
      pspReference, merchantAccountCode, merchantReference, eventCode, success, value, currency,
      originalReference: typeof n.originalReference === 'string' ? n.originalReference : undefined,
      reason: typeof n.reason === 'string' ? n.reason : undefined,
      eventDate: typeof n.eventDate === 'string' ? clipText(n.eventDate, 64) : undefined,
      hmacSignature: typeof additional.hmacSignature === 'string' ? additional.hmacSignature : undefined,
    });
  }
  return items;
}
