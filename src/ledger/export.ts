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
const csvRow = (p: Posting) => [
  p.id, new Date(p.createdAt).toISOString(), p.merchantId, p.paymentId, p.operationId, p.transferId, p.pspAccountId, p.currency,
  p.debit, p.credit, String(p.amount), decimal(p), p.phase,
].map(field).join(',');

const jsonPosting = (p: Posting) => ({ ...p, createdAt: new Date(p.createdAt).toISOString(), decimal: decimal(p), exponent: isCurrency(p.currency) ? exponentOf(p.currency) : undefined });

/**
 * An export as it is written, a page of postings at a time: a quarter of a busy gateway's postings
 * (hundreds of thousands) would otherwise be held in memory whole, twice (the rows, then the text).
 * CSV: a header, then a CRLF-ended row per posting. JSON: `{from, to, postings: [...]}` and a line end.
 */
export async function* postingsExport(pages: AsyncIterable<readonly Posting[]>, format: ExportFormat, window: { from: number; to: number }): AsyncGenerator<string> {
  if (format === 'csv') {
    yield `${columns.join(',')}\r\n`;
    for await (const page of pages) if (page.length > 0) yield page.map((p) => `${csvRow(p)}\r\n`).join('');
    return;
  }
  yield `{"from":${JSON.stringify(new Date(window.from).toISOString())},"to":${JSON.stringify(new Date(window.to).toISOString())},"postings":[`;
  let first = true;
  for await (const page of pages) {
    if (page.length === 0) continue;
    yield (first ? '' : ',') + page.map((p) => JSON.stringify(jsonPosting(p))).join(',');
    first = false;
  }
  yield ']}\n';
}

/**
 * Reads an export window's bound: an ISO date or date-time (UTC unless it names an offset), the
 * ISO basic date (`20261206`, as `date +%Y%m%d` prints it), or epoch milliseconds (ten digits or
 * more: a shorter run of digits would be a moment of January 1970, which no export means).
 */
export function parseInstant(v: unknown): number | undefined {
  if (typeof v !== 'string' || v === '') return undefined;
  const basic = /^(\d{4})(\d{2})(\d{2})$/.exec(v);
  if (basic) return readInstant(`${basic[1]}-${basic[2]}-${basic[3]}`);
  if (/^\d{1,15}$/.test(v)) return v.length >= 10 ? Number(v) : undefined;
  return readInstant(v);
}
