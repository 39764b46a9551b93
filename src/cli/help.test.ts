import { test } from 'node:test';
import assert from 'node:assert/strict';
import { helpFor } from './help.ts';

const usage = `usage:
  switchyard merchants create --name NAME [--json]
  switchyard merchants list [--json]
  switchyard webhooks disable|enable --endpoint ID
  switchyard webhooks forward --merchant ID --forward-to URL
                                 (continued here)

  A note that belongs to no command.
  switchyard ledger verify [--json]`;

test('a group\'s help lists its commands; a command\'s help its own line, continuation and details', () => {
  assert.equal(helpFor(usage, ['merchants']), 'usage:\n  switchyard merchants create --name NAME [--json]\n  switchyard merchants list [--json]\n');
  const forward = helpFor(usage, ['webhooks', 'forward'])!;
  assert.match(forward, /--forward-to URL\n\s+\(continued here\)\n/);
  assert.match(forward, /SWITCHYARD_WEBHOOK_ALLOW/, 'the longer explanation');
  assert.doesNotMatch(forward, /belongs to no command|disable\|enable/);
  assert.equal(helpFor(usage, ['webhooks', 'enable']), 'usage:\n  switchyard webhooks disable|enable --endpoint ID\n');
  assert.equal(helpFor(usage, ['ledger', 'verify'])!.split('\n')[1], '  switchyard ledger verify [--json]');
  assert.equal(helpFor(usage, ['nope']), undefined);
  assert.equal(helpFor(usage, ['merchants', 'delete']), undefined);
});
