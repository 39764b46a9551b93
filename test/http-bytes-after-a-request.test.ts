/**
 * A client that counts Content-Length in characters instead of bytes (a body with "Müller" in it,
 * sent raw as UTF-8) leaves the body's last bytes after the declared length. Node reads the
 * request the length declares, the payment is made and approved, and the left-over bytes are read
 * as the next request on the socket, which Node's parser refuses. The refusal of those bytes must
 * not take the place of the payment's own answer (the merchant read "invalid parameter, nothing
 * done" for a payment that was charged, and paid again): that answer goes out, and the answer of
 * every request read whole after it, then the socket closes once idle.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { opp, startGateway, type Gateway } from './support/harness.ts';
import { execution, tokenOf, wf } from './support/executions.ts';

let gw: Gateway;
// A socket left idle after its answers closes within a second here (the keep-alive timeout).
before(async () => { gw = await startGateway({ env: { SWITCHYARD_KEEP_ALIVE_TIMEOUT_MS: '1000', SWITCHYARD_LONG_POLL_MS: '1500' } }); });
after(async () => { await gw?.close(); });

/** Writes `data` on one socket, each chunk `gapMs` after the one before; what came back once the socket closed. */
function exchange(data: Buffer[], gapMs = 0): Promise<string> {
  const { hostname, port } = new URL(gw.url);
  return new Promise((resolve) => {
    const s = connect(Number(port), hostname);
    let out = '';
    const t = setTimeout(() => { s.destroy(); resolve(out); }, 10_000);
    s.on('data', (d) => { out += d.toString('utf8'); });
    s.on('error', () => undefined);
    s.on('close', () => { clearTimeout(t); resolve(out); });
    s.on('connect', async () => {
      for (const d of data) {
        if (s.destroyed) return;
        s.write(d);
        if (gapMs > 0) await new Promise((r) => setTimeout(r, gapMs));
      }
    });
  });
}

const longPollOf = async () => {
  const token = await tokenOf(gw);
  const id = await execution(gw, token);
  return `GET ${wf}/${id}?waitWhile[status]=${encodeURIComponent(JSON.stringify(['created', 'new', 'initialized', 'init']))} HTTP/1.1\r\nHost: gateway\r\nAuthorization: Bearer ${token}\r\n\r\n`;
};

const madeAs = async (merchantTransactionId: string) => {
  let stored = await opp(gw, 'GET', '/v1/query', { merchantTransactionId });
  for (let i = 0; i < 50 && stored.status !== 200; i++) {
    await new Promise((r) => setTimeout(r, 100));
    stored = await opp(gw, 'GET', '/v1/query', { merchantTransactionId });
  }
  assert.equal(stored.status, 200, 'the payment was made');
  assert.equal(stored.body.payments[0].result.code, '000.100.110', 'and approved: the card was charged');
  return stored.body.payments[0] as { id: string };
};

test('a payment made from a body whose Content-Length fell short is answered with its own result, never a refusal', async () => {
  const body = `entityId=${gw.merchant.entityId}&amount=3.00&currency=EUR&paymentType=DB&card.number=4200000000000000`
    + '&card.holder=J\u00fcrgen M\u00fcller&card.expiryMonth=05&card.expiryYear=2034&card.cvv=123&paymentBrand=VISA&merchantTransactionId=order-17';
  // Two non-ASCII characters: the length in characters is two bytes short of the UTF-8 body.
  const head = `POST /v1/payments HTTP/1.1\r\nHost: gateway\r\nAuthorization: Bearer ${gw.merchant.accessToken}\r\n`
    + `Content-Type: application/x-www-form-urlencoded; charset=UTF-8\r\nContent-Length: ${body.length}\r\n\r\n`;
  const answer = await exchange([Buffer.from(head, 'latin1'), Buffer.from(body, 'utf8')]);

  // What the gateway made of the request it read (the reference cut two characters short).
  const payment = await madeAs('order-');

  const statusLine = answer.split('\r\n', 1)[0];
  const firstBody = answer.split('\r\n\r\n')[1] ?? '';
  assert.equal(statusLine, 'HTTP/1.1 200 OK',
    `the first answer on the socket is the payment's own, not a refusal of it: ${statusLine} ${firstBody.slice(0, 200)}`);
  assert.ok(firstBody.includes(payment.id), 'the answer names the payment that was made');
});

test('pipelined: a long-poll, then a payment read whole, then bytes that are not HTTP: both are answered, in turn', async () => {
  const body = `entityId=${gw.merchant.entityId}&amount=4.00&currency=EUR&paymentType=DB&card.number=4200000000000000`
    + '&card.holder=Jane Doe&card.expiryMonth=05&card.expiryYear=2034&card.cvv=123&paymentBrand=VISA&merchantTransactionId=pipe-2';
  const payment = `POST /v1/payments HTTP/1.1\r\nHost: gateway\r\nAuthorization: Bearer ${gw.merchant.accessToken}\r\n`
    + `Content-Type: application/x-www-form-urlencoded\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
  const answer = await exchange([Buffer.from(await longPollOf() + payment + '\u0001\u0002 not http\r\n\r\n', 'latin1')]);
  const made = await madeAs('pipe-2');
  // Each answer's status line (the second follows the first's body at once).
  const statusLines = answer.match(/HTTP\/1\.1 \d{3} [A-Za-z ]+\r\n/g)?.map((l) => l.trim());
  assert.deepEqual(statusLines, ['HTTP/1.1 200 OK', 'HTTP/1.1 200 OK'], `the long-poll, then the payment: ${answer}`);
  assert.ok(answer.includes(made.id), `the pipelined payment that was charged (${made.id}) is answered before the socket closes`);
});

test('bytes written again and again behind a held long-poll add nothing to its answer each time', async () => {
  const warnings: string[] = [];
  const onWarning = (w: Error) => { warnings.push(`${w.name}: ${w.message}`); };
  process.on('warning', onWarning);
  try {
    const junk = Array.from({ length: 30 }, () => Buffer.from('\u0001 not http\r\n', 'latin1'));
    const answer = await exchange([Buffer.from(await longPollOf(), 'latin1'), ...junk], 20);
    assert.match(answer, /^HTTP\/1\.1 200 OK/, 'the long-poll is answered');
    assert.deepEqual(warnings.filter((w) => /MaxListenersExceeded/.test(w)), [], 'each refused chunk added listeners');
  } finally { process.off('warning', onWarning); }
});
