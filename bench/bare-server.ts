/**
 * The baseline: plain node:http answering every request with a canned payment answer, so the
 * gateway's figures can be read against what this machine does with no gateway work at all.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

// Shaped and sized like the gateway's answer to a DB payment, so both runs move similar bytes.
const body = JSON.stringify({
  id: '48342a26e364adbdff32d7a82f584a30', paymentType: 'DB', paymentBrand: 'VISA', amount: '92.00', currency: 'EUR',
  descriptor: '0975.0298.7005 Demo_Merchant_Channel',
  result: { code: '000.100.110', description: "Request successfully processed in 'Merchant in Integrator Test Mode'" },
  resultDetails: { ConnectorTxID1: '48342a26e364adbdff32d7a82f584a30', AcquirerResponse: 'APPROVED' },
  card: { bin: '420000', last4Digits: '0000', holder: 'Jane Jones', expiryMonth: '05', expiryYear: '2034' },
  risk: { score: '0' },
  buildNumber: 'dfbeb8253f661afb889726bc6a01dd3574f3f49f@2026-11-21 17:19:15 +0000',
  timestamp: '2026-11-21 17:19:17+0000',
  ndc: 'ddc392cff20a27441406ff7a646926d4_956ac187298f6d421d2ac35450455bf3',
});
const headers = {
  'content-type': 'application/json;charset=UTF-8',
  'content-length': Buffer.byteLength(body),
  'cache-control': 'no-store',
};

const server = createServer((req, res) => {
  // Read the whole request body before answering, as the gateway must.
  req.resume();
  req.on('end', () => res.writeHead(200, headers).end(body));
});
server.listen(Number(process.env.PORT ?? 0), '127.0.0.1', () => {
  process.stdout.write(`bare server listening on http://127.0.0.1:${(server.address() as AddressInfo).port}\n`);
});
