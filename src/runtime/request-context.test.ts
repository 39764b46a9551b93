import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { createLogger } from './logger.ts';
import { requestIdFrom, runForRequest } from './request-context.ts';

function capture() {
  const lines: any[] = [];
  const sink = new Writable({ write(chunk, _e, cb) { lines.push(JSON.parse(String(chunk))); cb(); } });
  return { lines, logger: createLogger({ level: 'info', destination: sink as never }) };
}

test('a line logged while working for a request carries its id, once; other lines carry none', async () => {
  const { lines, logger } = capture();
  logger.info('outside');
  await runForRequest('req-1', async () => {
    await new Promise((r) => setImmediate(r));
    logger.child({ component: 'payments' }).info('inside, after an await');
    logger.child({ requestId: 'req-1' }).info('bound already');
  });
  await new Promise((r) => setImmediate(r));
  assert.equal(lines[0].requestId, undefined);
  assert.equal(lines[1].requestId, 'req-1');
  assert.equal(lines[1].component, 'payments');
  assert.equal(lines[2].requestId, 'req-1');
});

test('a caller\'s id is kept only when it is a short token of safe characters that is no card number', () => {
  assert.equal(requestIdFrom('abc-123_x.y:z@w'), 'abc-123_x.y:z@w');
  const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
  for (const bad of [undefined, '', 'a'.repeat(129), 'has space', 'quote"', 'line\nbreak', '4111111111111111', ['a', 'b']]) {
    assert.match(requestIdFrom(bad as never), uuid, JSON.stringify(bad));
  }
  assert.equal(requestIdFrom('a'.repeat(128)), 'a'.repeat(128));
});
