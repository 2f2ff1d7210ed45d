// Native tests against the SDK's fake host: `npm test`.

import assert from 'node:assert/strict';
import { test } from 'node:test';

import { workflow } from '@mageflow/sdk';
import { Fake, adminUser, manual } from '@mageflow/sdk/testing';

import { offboard, readInput } from '../offboard.js';

const run = workflow(offboard);
const input = manual(JSON.stringify({ email: 'ops@example.com', reason: 'left' }));
const shop = () => new Fake().withAdminUsers([adminUser(7, 'ops', 'ops@example.com')]);

test('reads the email and the reason', () => {
  assert.deepEqual(readInput('{"email": "ops@example.com", "reason": "left"}'), { email: 'ops@example.com', reason: 'left' });
  assert.equal(readInput('{"email": "ops@example.com"}').reason, 'offboarding');
  assert.throws(() => readInput('{"email": "nobody"}'), /input has no email/);
  assert.throws(() => readInput('not json'), /input is not JSON/);
});

test('deactivates after an approval, and asks with the details', () => {
  const fake = shop().deciding({ approvedBy: 'bob' });
  assert.equal(fake.run(run, input).summary, 'deactivated admin user ops');
  assert.equal(fake.adminUsers.get(7).isActive, false);
  assert.equal(fake.approvals[0].title, 'Deactivate admin user ops');
  assert.deepEqual(JSON.parse(fake.approvals[0].detailsJson), { id: 7, username: 'ops', email: 'ops@example.com' });
  assert.deepEqual(fake.log, ['info: deactivated ops, approved by bob']);
});

test('a rejection keeps the user; an expiry fails the run', () => {
  const fake = shop().deciding({ rejected: ['erin', 'still needed'] });
  assert.equal(fake.run(run, input).summary, 'kept ops active: rejected by erin (still needed)');
  assert.equal(fake.adminUsers.get(7).isActive, true);
  assert.throws(
    () => shop().deciding({ expired: true }).run(run, input),
    (e) => e.message.split('\n')[0] === 'Error: the approval to deactivate ops expired',
  );
});

test('nobody to offboard asks nobody', () => {
  const fake = new Fake();
  assert.equal(fake.run(run, input).summary, 'no admin user has the email ops@example.com; nothing to do');
  assert.deepEqual(fake.approvals, []);
});
