import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { loadConfig } from '../src/config.ts';
import { startGateway, type Gateway } from './support/harness.ts';
import { execution, poll, tokenOf } from './support/executions.ts';

let gw: Gateway;
before(async () => {
  gw = await startGateway({
    env: { SWITCHYARD_REQUEST_TIMEOUT_MS: '1000', SWITCHYARD_HEADERS_TIMEOUT_MS: '600', SWITCHYARD_LONG_POLL_MS: '2500' },
  });
});
after(async () => { await gw?.close(); });

/**
 * Opens a raw socket, writes `head` at once, then one byte of `drip` every 100 ms; resolves with
 * what the server answered and whether it closed the socket within `giveUpMs` (else we close it).
 */
function trickle(head: string, drip: string, giveUpMs: number): Promise<{ closedByServer: boolean; answer: string; bytesSent: number }> {
  const { hostname, port } = new URL(gw.url);
  return new Promise((resolve) => {
    const socket: Socket = connect(Number(port), hostname);
    let answer = '';
    let sent = 0;
    let timer: NodeJS.Timeout | undefined;
    const giveUp = setTimeout(() => { finish(false); socket.destroy(); }, giveUpMs);
    function finish(closedByServer: boolean) {
      clearInterval(timer);
      clearTimeout(giveUp);
      resolve({ closedByServer, answer, bytesSent: sent });
    }
    socket.on('data', (d) => { answer += String(d); });
    socket.on('error', () => undefined);
    socket.once('close', () => finish(true));
    socket.once('connect', () => {
      socket.write(head);
      timer = setInterval(() => {
        if (sent < drip.length && !socket.destroyed) socket.write(drip[sent++]!);
      }, 100);
    });
  });
}

describe('slow clients are cut off', () => {
  test('a body trickled a byte at a time is answered 408 and its socket closed once the request timeout passes', async () => {
    const body = 'x'.repeat(1000);
    const r = await trickle(
      `POST /v1/payments HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: ${body.length}\r\n\r\n`,
      body, 8_000,
    );
    assert.ok(r.closedByServer, 'the server closed the socket');
    assert.ok(r.bytesSent < body.length, 'it did so before the body was complete');
    assert.match(r.answer, /^HTTP\/1\.1 408 /);
  });

  test('headers trickled a byte at a time are cut off at the headers timeout', async () => {
    const r = await trickle('GET /health HTTP/1.1\r\nHost: localhost\r\n', `X-Slow: ${'a'.repeat(200)}\r\n\r\n`, 8_000);
    assert.ok(r.closedByServer, 'the server closed the socket');
    assert.ok(r.bytesSent < 200, 'before the headers were complete');
  });

  test('an idle kept-alive connection is not held for ever', async () => {
    const quick = await startGateway({ env: { SWITCHYARD_KEEP_ALIVE_TIMEOUT_MS: '300' } });
    try {
      const { hostname, port } = new URL(quick.url);
      const closed = await new Promise<{ closed: boolean; answer: string }>((resolve) => {
        const socket = connect(Number(port), hostname);
        let answer = '';
        const giveUp = setTimeout(() => { socket.destroy(); resolve({ closed: false, answer }); }, 5_000);
        socket.on('data', (d) => { answer += String(d); });
        socket.once('close', () => { clearTimeout(giveUp); resolve({ closed: true, answer }); });
        socket.write('GET /health HTTP/1.1\r\nHost: localhost\r\n\r\n');
      });
      assert.match(closed.answer, /^HTTP\/1\.1 200 /);
      assert.ok(closed.closed, 'the server closed the idle connection after its answer');
    } finally {
      await quick.close();
    }
  });

  test('a long-poll held longer than the request timeout still gets its answer', async () => {
    const token = await tokenOf(gw);
    const id = await execution(gw, token);
    const started = Date.now();
    const body = await poll(gw, token, id, ['created']);
    assert.ok(Date.now() - started >= 2_000, 'the poll was held past the 1 s request timeout');
    assert.equal(body.status, 'created');
  });
});

describe('timeout configuration', () => {
  test('defaults bound every phase; a headers limit above the request limit is refused with the variables named', () => {
    const c = loadConfig({});
    assert.deepEqual(c.http, { requestTimeoutMs: 30_000, headersTimeoutMs: 10_000, keepAliveTimeoutMs: 72_000 });
    assert.throws(() => loadConfig({ SWITCHYARD_REQUEST_TIMEOUT_MS: '1000', SWITCHYARD_HEADERS_TIMEOUT_MS: '2000' }), /SWITCHYARD_HEADERS_TIMEOUT_MS.*SWITCHYARD_REQUEST_TIMEOUT_MS/);
    assert.equal(loadConfig({ SWITCHYARD_REQUEST_TIMEOUT_MS: '4000' }).http.headersTimeoutMs, 4_000);
  });
});
