import { exponentOf, isCurrency } from '../money/money.ts';
import { formatSigned } from '../processors/settlement-report.ts';
import { readInstant } from '../runtime/instant.ts';
import type { Posting } from './model.ts';

export const exportFormats = ['csv', 'json'] as const;
export type ExportFormat = (typeof exportFormats)[number];
export const isExportFormat = (v: unknown): v is ExportFormat => exportFormats.includes(v as ExportFormat);

const columns = ['id', 'created_at', 'merchant_id', 'payment_id', 'operation_id', 'transfer_id', 'psp_account_id', 'currency', 'debit', 'credit', 'amount_minor', 'amount', 'phase'] as const;

/** RFC 4180: quote a field holding a comma, quote or line break, doubling its quotes. */
const field = (v: string) => (/[",\r\n]/.test(v) ? `"${v.replaceAll('"', '""')}"` : v);

const decimal = (p: Posting) => (isCurrency(p.currency) ? formatSigned(p.amount, p.currency) : String(p.amount));

/** A row per posting, for spreadsheets and accounting imports: both minor units and the decimal amount. */
export function postingsCsv(postings: readonly Posting[]): string {
  const rows = postings.map((p) => [
    p.id, new Date(p.createdAt).toISOString(), p.merchantId, p.paymentId, p.operationId, p.transferId, p.pspAccountId, p.currency,
    p.debit, p.credit, String(p.amount), decimal(p), p.phase,
  ].map(field).join(','));
  return [columns.join(','), ...rows].join('\r\n') + '\r\n';
}

/** The same postings as JSON lines' worth of objects, with the window they cover. */
export function postingsJson(postings: readonly Posting[], window: { from: number; to: number }): string {
  return JSON.stringify({
    from: new Date(window.from).toISOString(), to: new Date(window.to).toISOString(),
    postings: postings.map((p) => ({ ...p, createdAt: new Date(p.createdAt).toISOString(), decimal: decimal(p), exponent: isCurrency(p.currency) ? exponentOf(p.currency) : undefined })),
  }) + '\n';
}

/** Reads an export window's bound: an ISO date or date-time (UTC unless it names an offset), or epoch milliseconds. */
export function parseInstant(v: unknown): number | undefined {
  if (typeof v !== 'string' || v === '') return undefined;
  if (/^\d{1,15}$/.test(v)) return Number(v);
  return readInstant(v);
}
