import { createHash } from 'node:crypto';
import { referenceHex } from '../../runtime/ids.ts';
import { describeResultCode } from '../../processors/result-codes.ts';

/** `YYYY-MM-DD hh:mm:ss+0000`, the platform's timestamp form. */
export function oppTimestamp(ms: number): string {
  return new Date(ms).toISOString().replace('T', ' ').slice(0, 19) + '+0000';
}

/** `<40 hex>@YYYY-MM-DD hh:mm:ss +0000`: which build answered, as the platform prints it. */
export function buildNumberOf(version: string, startedAt: number): string {
  const hash = createHash('sha1').update(`switchyard@${version}`).digest('hex');
  return `${hash}@${oppTimestamp(startedAt).replace('+0000', ' +0000')}`;
}

/** Request correlation id: `<entityId>_<32 hex>`. */
export function newNdc(entityId: string | undefined): string {
  return `${entityId ?? referenceHex(16)}_${referenceHex(16)}`;
}

export interface ParameterError {
  readonly name: string;
  readonly value: string | null;
  readonly message: string;
}

/** A refusal as the dialect answers it when no route was reached (a URL the router could not read). */
export function refusalEnvelope(code: string, parameterErrors: readonly ParameterError[], buildNumber: string, now: number) {
  return { result: resultOf(code, parameterErrors), buildNumber, timestamp: oppTimestamp(now), ndc: newNdc(undefined) };
}

export function resultOf(code: string, parameterErrors?: readonly ParameterError[]) {
  return parameterErrors && parameterErrors.length > 0
    ? { code, description: describeResultCode(code), parameterErrors }
    : { code, description: describeResultCode(code) };
}
