import pino, { type Logger, type DestinationStream } from 'pino';
import { scrubJsonLine } from './scrub.ts';
import { currentRequestId, currentTrace } from './request-context.ts';

/**
 * Field paths that may carry card data or secrets anywhere in a log object. Pino censors them by
 * name; the PAN scrubber on the serialized line is the backstop for free text.
 */
export const redactPaths = [
  'req.headers.authorization', 'req.headers["x-api-key"]', 'headers.authorization',
  '*.card.number', '*.card.cvv', 'card.number', 'card.cvv', '*["card.number"]', '*["card.cvv"]',
  'body', 'req.body', '*.password', '*.accessToken', '*.apiKey', '*.secret',
  // A PSP account's settings may hold its credentials (a connector's secretSettings).
  'settings', '*.settings', '*.hmacKey', '*.webhookSecret', '*.secretKey',
];

export function createLogger(options: { level?: string; destination?: DestinationStream } = {}): Logger {
  const dest = options.destination ?? pino.destination({ dest: 1, sync: false });
  // Each line is JSON; the scrubber keeps it so. The time is an ISO string: an epoch-ms number has
  // 13 digits and one in ten passes the Luhn check, which would have it redacted as a PAN.
  const scrubbing: DestinationStream = { write: (line: string) => dest.write(scrubJsonLine(line)) };
  return pino({
    level: options.level ?? process.env.LOG_LEVEL ?? 'info',
    redact: { paths: redactPaths, censor: '[REDACTED]' },
    base: { service: 'switchyard' },
    timestamp: pino.stdTimeFunctions.isoTime,
    // A fraction to the microsecond, at most: Fastify's `responseTime` (2.924160680820884) is 16
    // digits around a dot, which the scrubber reads as a grouped card number one time in five.
    formatters: {
      log: (obj) => {
        for (const [k, v] of Object.entries(obj)) if (typeof v === 'number' && !Number.isInteger(v) && Number.isFinite(v)) obj[k] = Math.round(v * 1000) / 1000;
        return obj;
      },
    },
    // Lines written by services while they work for a request carry its id; the request's own
    // logger (Fastify's child) has it bound already, and a second copy would repeat the key.
    mixin: (_obj, _level, logger) => {
      const requestId = currentRequestId();
      const traceId = currentTrace()?.traceId;
      return {
        ...(requestId === undefined || logger.bindings().requestId !== undefined ? {} : { requestId }),
        ...(traceId === undefined ? {} : { traceId }),
      };
    },
  }, scrubbing);
}

export type { Logger };
