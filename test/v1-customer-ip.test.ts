/**
 * `customer.ip` is an IPv4 or IPv6 address, refused with `100.900.401` otherwise. The IPv6 check was
 * `^[0-9a-fA-F:]{2,39}$`: the IPv4-mapped form (`::ffff:192.0.2.1`, what Node's
 * `req.socket.remoteAddress` gives a merchant's dual-stack server for an IPv4 shopper) was refused,
 * and the payment with it, while strings that are no address at all (`beef`, `:::::`, `1:2`) were
 * stored, echoed and passed to the PSP's risk checks as the shopper's IP.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { opp, pay, startGateway, type Gateway } from './support/harness.ts';

let gw: Gateway;
before(async () => { gw = await startGateway(); });
after(async () => { await gw?.close(); });

const valid = ['::ffff:192.0.2.1', '::ffff:10.0.0.1', '64:ff9b::198.51.100.7', '2001:db8::1', '192.0.2.1'];
const invalid = ['beef', ':::::', '1:2', 'ffff', '2001:db8::1::2'];

for (const ip of valid) {
  test(`customer.ip ${ip} (a valid address) is accepted and echoed`, async () => {
    const mtx = `ip-ok-${randomBytes(6).toString('hex')}`;
    const res = await pay(gw, { 'customer.ip': ip, merchantTransactionId: mtx });
    assert.equal(res.status, 200, `customer.ip ${ip} is an IP address and must be accepted; got ${JSON.stringify(res.body.result)}`);
    assert.equal(res.body.result.code, '000.100.110');
    assert.equal(res.body.customer?.ip, ip);
  });
}

for (const ip of invalid) {
  test(`customer.ip ${JSON.stringify(ip)} (no address) → 400 100.900.401 naming customer.ip, nothing stored`, async () => {
    const mtx = `ip-bad-${randomBytes(6).toString('hex')}`;
    const res = await pay(gw, { 'customer.ip': ip, merchantTransactionId: mtx });
    assert.equal(res.body.result.code, '100.900.401', `customer.ip ${JSON.stringify(ip)} is not an IP address and must be refused; got ${res.status} ${JSON.stringify(res.body.result)}`);
    assert.equal(res.status, 400);
    assert.equal(res.body.id, undefined);
    const entry = res.body.result.parameterErrors?.find((e: { name: string }) => e.name === 'customer.ip');
    assert.ok(entry, 'parameterErrors names customer.ip');
    assert.equal(entry.value, ip);
    const q = await opp(gw, 'GET', '/v1/query', { merchantTransactionId: mtx });
    assert.equal(q.body.result.code, '700.400.580', 'nothing stored for a refused payment');
  });
}
