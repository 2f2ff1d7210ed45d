import { test } from 'node:test';
import assert from 'node:assert/strict';

import { afterDecision, readInput } from './offboard.js';

test('reads the email and the reason', () => {
  assert.deepEqual(readInput('{"email": "ops@example.com", "reason": "left"}'), { email: 'ops@example.com', reason: 'left' });
  assert.equal(readInput('{"email": "ops@example.com"}').reason, 'offboarding');
  assert.throws(() => readInput('{"email": "nobody"}'), /input has no email/);
  assert.throws(() => readInput('not json'), /input is not JSON/);
});

test('decides after the approval', () => {
  const user = { username: 'ops' };
  assert.deepEqual(afterDecision({ tag: 'approved', val: 'bob' }, user), { deactivate: true });
  assert.equal(afterDecision({ tag: 'rejected', val: ['erin', 'still needed'] }, user).summary, 'kept ops active: rejected by erin (still needed)');
  assert.match(afterDecision({ tag: 'expired' }, user).error, /expired/);
});
