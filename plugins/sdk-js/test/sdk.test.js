// The SDK's own tests, natively against its fake: `npm test` (node --import
// ./src/register.js --test test/).

import assert from 'node:assert/strict';
import { test } from 'node:test';

import * as customers from 'mageflow:workflow/customers@0.1.0';

import { BadRequest, MagentoError, NotFound, call, log, outcome, patch, search, workflow } from '../src/index.js';
import { requestApproval } from '../src/approvals.js';
import { allCustomers, customerPages } from '../src/customers.js';
import { Fake, adminUser, customer, manual, range } from '../src/testing.js';

const shop = (n, extra = {}) => new Fake().withCustomers(range(1, n).map((i) => customer(i, `c${i}@example.com`, extra)));

test('customerPages sees every match once over many pages', () => {
  const fake = shop(700);
  const pages = fake.install(() => [...customerPages(search().where('group_id', 'eq', 1))]);
  assert.deepEqual(pages.map((p) => p.length), [300, 300, 100]);
  const ids = pages.flat().map((c) => c.id);
  assert.equal(new Set(ids).size, 700);
  // The fake answers a page past the end with the last page again, as Magento does: the
  // iterator stops at the total instead of looping.
  assert.equal(fake.calls.filter((c) => c === 'customers.search').length, 3);
});

test('a search ORs inside a group, ANDs groups, sorts, and never changes the caller', () => {
  const fake = shop(10);
  const s = search().where('entity_id', 'eq', 3).orWhere('entity_id', 'eq', 7).sortBy('entity_id', true);
  const found = fake.install(() => [...allCustomers(s)]);
  assert.deepEqual(found.map((c) => c.id), [7, 3]);
  assert.equal(s.size, null, 'paging set its page size on a copy');
  assert.deepEqual(search().where('group_id', 'in', [1, 2]).pageSize(5000).criteria(2), {
    groups: [[{ field: 'group_id', condition: 'in', value: '1,2' }]],
    sort: [],
    pageSize: 300,
    currentPage: 2,
  });
  assert.throws(() => search().where('id', 'equals', 1), /unknown condition "equals": use eq, neq/);
});

test('a patch changes only what it names', () => {
  const address = { id: 4, firstname: 'A', lastname: 'B', street: ['1 Main St'], city: 'Town', postcode: '12345', countryId: 'US', telephone: '555', region: null, defaultBilling: true, defaultShipping: true };
  const fake = new Fake().withCustomers([customer(1, 'a@example.com', { addresses: [address] })]);
  fake.install(() => call(customers.update, 1, patch().set('group_id', 3).customAttribute('flag', 1).build()));
  const c = fake.customers.get(1);
  assert.equal(c.groupId, 3);
  assert.deepEqual(c.addresses, [address]);
  assert.deepEqual(c.customAttributes, [{ code: 'flag', value: '1' }]);
  assert.throws(() => patch().set('dob', undefined), /dob: undefined is not a JSON value/);
});

test("Magento's refusals are exceptions with Magento's texts", () => {
  const fake = new Fake().withCustomers([customer(1, 'a@example.com')]);
  fake.install(() => {
    assert.throws(() => call(customers.get, 7), (e) => {
      assert.ok(e instanceof NotFound && e instanceof MagentoError);
      assert.equal(e.message, 'No such entity with customerId = 7');
      assert.equal(e.template, 'No such entity with %fieldName = %fieldValue');
      assert.deepEqual(e.parameters, { fieldName: 'customerId', fieldValue: '7' });
      assert.equal(e.status, 404);
      return true;
    });
    assert.throws(
      () => call(customers.create, { email: 'A@example.com', firstname: 'A', lastname: 'B', websiteId: null, groupId: null, extraJson: null }, null),
      (e) => e instanceof BadRequest && /same email address already exists/.test(e.message),
    );
    assert.throws(() => [...allCustomers(search().where('shoe_size', 'eq', 9))], /Invalid attribute name: shoe_size/);
  });
});

test('an approval answers plainly, and the request is kept', () => {
  const ask = { title: 'Move', summary: 'to Wholesale', details: { group: 2 } };
  const fake = new Fake().deciding({ rejected: ['erin', 'not yet'] });
  assert.deepEqual(fake.install(() => requestApproval(ask)), { approved: false, by: 'erin', reason: 'not yet', expired: false });
  assert.equal(fake.approvals[0].detailsJson, '{"group":2}');
  assert.equal(new Fake().deciding({ approvedBy: 'bob' }).install(() => requestApproval(ask)).by, 'bob');
  assert.equal(new Fake().deciding({ expired: true }).install(() => requestApproval(ask)).expired, true);
  assert.throws(() => new Fake().install(() => requestApproval(ask)), /the fake has no decision: call fake.deciding/);
});

test('the run wrapper: outcomes, logs, console, and errors with their kind first', () => {
  const fake = shop(2);
  const run = workflow((trigger) => {
    log.info(`started by ${trigger.tag}`);
    console.log('through console', { n: 1 });
    if (trigger.val === 'summary') return 'just a summary';
    if (trigger.val === 'missing') call(customers.get, 99);
    if (trigger.val === 'bug') null.boom();
    return outcome('two customers', { n: 2 });
  });
  assert.deepEqual(fake.run(run, manual('ok')), { summary: 'two customers', outputJson: '{"n":2}' });
  assert.deepEqual(fake.run(run, manual('summary')), { summary: 'just a summary', outputJson: null });
  assert.deepEqual(fake.log.slice(0, 2), ['info: started by manual', 'info: through console {"n":1}']);
  assert.throws(() => fake.run(run, manual('missing')), (e) => e.message.split('\n')[0] === 'NotFound: No such entity with customerId = 99');
  // A refusal the plugin did not wrap in `call` reads the same.
  const bare = workflow(() => customers.get(42));
  assert.throws(() => fake.run(bare, manual('')), (e) => e.message.split('\n')[0] === 'NotFound: No such entity with customerId = 42');
  assert.throws(() => fake.run(run, manual('bug')), (e) => {
    const [first, ...rest] = e.message.split('\n');
    assert.match(first, /^TypeError: Cannot read properties of null/);
    assert.ok(rest.some((l) => l.includes('sdk.test.js')), 'the stack follows');
    return true;
  });
  assert.equal(globalThis.console.log.name, 'log', 'console is given back');
});

test('a binding called with no fake host says how to fix it', () => {
  assert.throws(() => customers.get(1), /no fake host: run the plugin with new Fake\(\)\.run/);
});

test('runtime config, state and time', async () => {
  const runtime = await import('mageflow:workflow/runtime@0.1.0');
  const fake = new Fake().withConfig('privileged_groups', 'Wholesale');
  fake.install(() => {
    assert.equal(runtime.config('privileged_groups'), 'Wholesale');
    assert.equal(runtime.config('nothing'), null);
    runtime.stateSet('cursor', '7');
    assert.equal(runtime.stateGet('cursor'), '7');
    assert.equal(runtime.now(), 1_767_225_600);
  });
  assert.equal(fake.state.get('cursor'), '7');
});

test('admin users, groups and bulk answer like Magento', async () => {
  const admin = await import('mageflow:workflow/admin-users@0.1.0');
  const groups = await import('mageflow:workflow/groups@0.1.0');
  const bulk = await import('mageflow:workflow/bulk@0.1.0');
  const fake = shop(3).withAdminUsers([adminUser(1, 'ops', 'ops@example.com')]);
  fake.install(() => {
    assert.equal(admin.findByEmail('OPS@example.com').username, 'ops');
    assert.equal(admin.findByEmail('nobody@example.com'), null);
    assert.equal(admin.deactivate(1).isActive, false);
    assert.throws(() => call(admin.get, 9), (e) => e instanceof NotFound && e.message === 'No such entity with userId = 9');
    assert.throws(
      () => call(admin.create, { username: 'ops', firstname: 'O', lastname: 'P', email: 'x@example.com', roleId: 1 }, 'pw123456'),
      /A user with the same user name or email already exists/,
    );
    assert.deepEqual(groups.list().map((g) => g.code), ['NOT LOGGED IN', 'General', 'Wholesale', 'Retailer']);
    const [receipt] = bulk.submitUpdates([[1, patch().set('group_id', 2).build()], [99, patch().build()]]);
    assert.equal(receipt.items, 2);
    const [done] = bulk.wait([receipt.bulkUuid], 60);
    assert.deepEqual(done.operations.map((o) => o.status), ['complete', 'failed']);
    assert.throws(() => call(bulk.status, 'nope'), /Bulk uuid nope not exist/);
  });
  assert.equal(fake.customers.get(1).groupId, 2);
  assert.equal(fake.adminUsers.get(1).isActive, false);
});
