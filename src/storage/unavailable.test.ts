import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isStoreUnavailable } from './unavailable.ts';
import { UnitDeadlineError } from './unit-of-work.ts';
import { StatementDeadlineError } from './postgres-deadline.ts';

const pgError = (code: string, message = 'x') => Object.assign(new Error(message), { code });

test('the store\'s being unavailable for a moment: its deadlines, PostgreSQL\'s connection, resource, operator and lock classes, a lost or refused connection', () => {
  for (const err of [
    new UnitDeadlineError(2000), new StatementDeadlineError(1000),
    pgError('55P03', 'canceling statement due to lock timeout'), pgError('57014'), pgError('57P01'), pgError('53300', 'too many connections'),
    pgError('08006'), pgError('40001'), pgError('40P01'),
    new Error('timeout exceeded when trying to connect'), new Error('Connection terminated unexpectedly'), new Error('database is locked'),
    // The socket's own, as pg passes on a server stopped, restarting or out of reach.
    pgError('ECONNREFUSED', 'connect ECONNREFUSED 127.0.0.1:5432'), pgError('ECONNRESET', 'read ECONNRESET'), pgError('ENOTFOUND', 'getaddrinfo ENOTFOUND db'),
    // The embedded store's disk full, as node:sqlite reports it.
    Object.assign(new Error('database or disk is full'), { code: 'ERR_SQLITE_ERROR', errcode: 13, errstr: 'database or disk is full' }),
  ]) assert.equal(isStoreUnavailable(err), true, String(err));
});

test('not the store\'s being unavailable: a constraint, a syntax error, a bug, anything not an error', () => {
  for (const err of [pgError('23505', 'duplicate key'), Object.assign(new Error('UNIQUE constraint failed: x.id'), { code: 'ERR_SQLITE_ERROR', errcode: 19 }), pgError('42601'), pgError('22P02'), new TypeError('x is undefined'), 'a string', undefined]) {
    assert.equal(isStoreUnavailable(err), false, String(err));
  }
});
