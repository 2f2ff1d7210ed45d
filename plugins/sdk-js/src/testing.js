// A fake host for native tests (`node --import @mageflow/sdk/register --test`), like the Rust
// SDK's `testing::Fake` and the Python SDK's: customers, groups, admin users, bulk, approvals
// and runtime kept in memory, answering with Magento's own error texts, in the shapes the
// QuickJS components see (ids as numbers, absent options as null, a refusal thrown as an
// Error whose `payload` is the magento-error variant). Searches filter, sort and page like
// Magento: 300 at most a page, and a page past the end answered with the last page again.
//
//   const fake = new Fake().withCustomers(range(1, 700).map((i) => customer(i, `c${i}@example.com`)));
//   const out = fake.run(main, manual('1'));
//   assert.equal(out.summary, '700 customers in group 1');

import { setHost } from './fake/host.js';

/** A customer as Magento stores it; `extra` overrides any field. */
export function customer(id, email, extra = {}) {
  return {
    id,
    email,
    firstname: 'Test',
    lastname: 'Customer',
    groupId: 1,
    websiteId: 1,
    storeId: 1,
    createdAt: '2026-01-01 00:00:00',
    updatedAt: '2026-01-01 00:00:00',
    addresses: [],
    customAttributes: [],
    extraJson: '{}',
    ...extra,
  };
}

/** An admin user; `extra` overrides any field. */
export function adminUser(id, username, email, extra = {}) {
  return { id, username, firstname: 'Test', lastname: 'Admin', email, isActive: true, roleId: 1, ...extra };
}

/** Triggers, as the host passes them. */
export const manual = (input) => ({ tag: 'manual', val: String(input) });
export const schedule = (unixSecs) => ({ tag: 'schedule', val: unixSecs });
export const webhook = (name, body) => ({ tag: 'webhook', val: { name, bodyJson: typeof body === 'string' ? body : JSON.stringify(body) } });
export const poll = (customers) => ({ tag: 'poll', val: customers });

/** The numbers from `first` to `last`, both included. */
export const range = (first, last) => Array.from({ length: Math.max(0, last - first + 1) }, (_, i) => first + i);

/** A thrown binding error, as the host throws it. */
function refusal(tag, val) {
  const message = typeof val === 'string' ? val : val.message;
  return Object.assign(new Error(message), { payload: { tag, val } });
}

export function notFound(field, value) {
  return refusal('not-found', {
    status: 404,
    message: `No such entity with ${field} = ${value}`,
    template: 'No such entity with %fieldName = %fieldValue',
    parametersJson: JSON.stringify({ fieldName: field, fieldValue: String(value) }),
  });
}

export function badRequest(message, template = message) {
  return refusal('bad-request', { status: 400, message, template, parametersJson: null });
}

/** The record field a Magento search field names. */
function fieldOf(record, field) {
  if (field === 'entity_id' || field === 'user_id' || field === 'id') return record.id;
  const camel = field.replace(/_([a-z])/g, (_, c) => c.toUpperCase());
  if (camel in record) return record[camel];
  const attr = (record.customAttributes ?? []).find((a) => a.code === field);
  if (attr) return attr.value;
  throw badRequest(`Invalid attribute name: ${field}`, 'Invalid attribute name: %1');
}

function like(text, pattern) {
  const re = pattern.toLowerCase().replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replace(/%/g, '.*').replace(/_/g, '.');
  return new RegExp(`^${re}$`, 's').test(text.toLowerCase());
}

function matches(record, f) {
  const have = fieldOf(record, f.field);
  const text = have === null || have === undefined ? '' : typeof have === 'boolean' ? (have ? '1' : '0') : String(have);
  const want = f.value;
  const a = Number(text);
  const b = Number(want);
  const cmp = Number.isNaN(a) || Number.isNaN(b) ? text.localeCompare(want) : a - b;
  switch (f.condition) {
    case 'eq': return text === want;
    case 'neq': return text !== want;
    case 'in': return want.split(',').map((w) => w.trim()).includes(text);
    case 'nin': return !want.split(',').map((w) => w.trim()).includes(text);
    case 'like': return like(text, want);
    case 'nlike': return !like(text, want);
    case 'null': return text === '';
    case 'notnull': return text !== '';
    case 'finset': return text.split(',').includes(want);
    case 'nfinset': return !text.split(',').includes(want);
    case 'gt': return cmp > 0;
    case 'lt': return cmp < 0;
    case 'gteq': case 'moreq': case 'from': return cmp >= 0;
    case 'lteq': case 'to': return cmp <= 0;
    default: throw badRequest(`Invalid condition type: ${f.condition}`);
  }
}

function searchIn(records, criteria) {
  const hits = records.filter((r) => criteria.groups.every((g) => g.some((f) => matches(r, f))));
  for (const s of [...criteria.sort].reverse()) {
    hits.sort((x, y) => {
      const a = fieldOf(x, s.field);
      const b = fieldOf(y, s.field);
      const c = typeof a === 'number' && typeof b === 'number' ? a - b : String(a).localeCompare(String(b));
      return s.descending ? -c : c;
    });
  }
  const size = Math.min(criteria.pageSize ?? 300, 300);
  const last = Math.max(Math.ceil(hits.length / size), 1);
  // Magento answers a page past the end with the last page again.
  const page = Math.min(Math.max(criteria.currentPage ?? 1, 1), last);
  return { items: hits.slice((page - 1) * size, page * size), totalCount: hits.length };
}

/** A PUT-merge: only the patched fields change. */
function merge(record, patch) {
  const out = structuredClone(record);
  for (const { field, valueJson } of patch.set) {
    const key = field.replace(/_([a-z])/g, (_, c) => c.toUpperCase());
    if (!(key in record) || key === 'id') throw badRequest(`Invalid attribute name: ${field}`, 'Invalid attribute name: %1');
    out[key] = JSON.parse(valueJson);
  }
  if ('customAttributes' in record) {
    for (const a of patch.customAttributes) {
      const i = out.customAttributes.findIndex((c) => c.code === a.code);
      if (i >= 0) out.customAttributes[i] = { ...a };
      else out.customAttributes.push({ ...a });
    }
    if (patch.replaceAddresses) out.addresses = structuredClone(patch.replaceAddresses);
  }
  return out;
}

/** Looks a record up by id, throwing Magento's 404 naming `field` when there is none. */
const finder = (all, field) => (id) => {
  if (!all.has(id)) throw notFound(field, id);
  return all.get(id);
};

const nextId = (map) => Math.max(0, ...map.keys()) + 1;

/** The host, in memory. Configure it, then `run(main, trigger)`; read back `customers`,
 * `adminUsers`, `approvals`, `log`, `calls`, `state` and `bulks`. */
export class Fake {
  constructor() {
    /** @type {Map<number, object>} */
    this.customers = new Map();
    /** @type {Map<number, object>} */
    this.adminUsers = new Map();
    this.groups = [
      { id: 0, code: 'NOT LOGGED IN' },
      { id: 1, code: 'General' },
      { id: 2, code: 'Wholesale' },
      { id: 3, code: 'Retailer' },
    ];
    this.roles = [{ id: 1, name: 'Administrators' }];
    /** @type {Map<string, object>} */
    this.bulks = new Map();
    /** @type {object | null} */
    this.decision = null;
    /** The approval requests the plugin made. */
    this.approvals = [];
    /** `level: message` lines. */
    this.log = [];
    this.config = new Map();
    this.state = new Map();
    this.now = 1_767_225_600;
    /** `interface.function` names, in order. */
    this.calls = [];
  }

  withCustomers(list) {
    for (const c of list) this.customers.set(c.id, c);
    return this;
  }

  withAdminUsers(list) {
    for (const u of list) this.adminUsers.set(u.id, u);
    return this;
  }

  withConfig(key, value) {
    this.config.set(key, String(value));
    return this;
  }

  /** How approval requests are answered: `{ approvedBy }`, `{ rejected: [by, reason] }` or
   * `{ expired: true }`. */
  deciding(decision) {
    this.decision = decision;
    return this;
  }

  /** Runs `fn` with this fake as the host: what it answers. */
  install(fn) {
    setHost(this);
    try {
      return fn();
    } finally {
      setHost(null);
    }
  }

  /** Runs `main` (a plugin's `run`) for `trigger`: its outcome, or the Error it failed with. */
  run(main, trigger) {
    return this.install(() => main(trigger));
  }

  /** One interface's functions (for the fake modules). */
  interface(name) {
    const made = {
      customers: () => this.#customers(),
      groups: () => ({ list: () => this.#called('groups.list', () => structuredClone(this.groups)) }),
      'admin-users': () => this.#adminUsers(),
      bulk: () => this.#bulk(),
      approvals: () => ({ request: (req) => this.#called('approvals.request', () => this.#request(req)) }),
      runtime: () => this.#runtime(),
    }[name];
    if (!made) throw new Error(`the fake has no interface ${name}`);
    return made();
  }

  #called(name, fn) {
    this.calls.push(name);
    return fn();
  }

  #customers() {
    const all = this.customers;
    const find = finder(all, 'customerId');
    return {
      search: (c) => this.#called('customers.search', () => structuredClone(searchIn([...all.values()], c))),
      get: (id) => this.#called('customers.get', () => structuredClone(find(id))),
      findByEmail: (email, websiteId) =>
        this.#called('customers.find-by-email', () => {
          const hit = [...all.values()].find((c) => c.email.toLowerCase() === email.toLowerCase() && (websiteId == null || websiteId === c.websiteId));
          return hit ? structuredClone(hit) : null;
        }),
      create: (n) =>
        this.#called('customers.create', () => {
          const websiteId = n.websiteId ?? 1;
          if ([...all.values()].some((c) => c.email.toLowerCase() === n.email.toLowerCase() && c.websiteId === websiteId)) {
            throw badRequest('A customer with the same email address already exists in an associated website.');
          }
          const id = nextId(all);
          const made = customer(id, n.email, { firstname: n.firstname, lastname: n.lastname, websiteId, groupId: n.groupId ?? 1 });
          all.set(id, made);
          return structuredClone(made);
        }),
      update: (id, p) => this.#called('customers.update', () => {
        all.set(id, merge(find(id), p));
        return structuredClone(all.get(id));
      }),
      delete: (id) => this.#called('customers.delete', () => {
        find(id);
        all.delete(id);
      }),
    };
  }

  #adminUsers() {
    const all = this.adminUsers;
    const find = finder(all, 'userId');
    return {
      search: (c) => this.#called('admin-users.search', () => structuredClone(searchIn([...all.values()], c).items)),
      get: (id) => this.#called('admin-users.get', () => structuredClone(find(id))),
      findByEmail: (email) =>
        this.#called('admin-users.find-by-email', () => {
          const hit = [...all.values()].find((u) => u.email.toLowerCase() === email.toLowerCase());
          return hit ? structuredClone(hit) : null;
        }),
      create: (n) =>
        this.#called('admin-users.create', () => {
          if ([...all.values()].some((u) => u.username === n.username || u.email.toLowerCase() === n.email.toLowerCase())) {
            throw badRequest('A user with the same user name or email already exists.');
          }
          const id = nextId(all);
          all.set(id, adminUser(id, n.username, n.email, { firstname: n.firstname, lastname: n.lastname, roleId: n.roleId }));
          return structuredClone(all.get(id));
        }),
      update: (id, p) => this.#called('admin-users.update', () => {
        all.set(id, merge(find(id), p));
        return structuredClone(all.get(id));
      }),
      deactivate: (id) => this.#called('admin-users.deactivate', () => {
        all.set(id, { ...find(id), isActive: false });
        return structuredClone(all.get(id));
      }),
      delete: (id) => this.#called('admin-users.delete', () => {
        find(id);
        all.delete(id);
      }),
      roles: () => this.#called('admin-users.roles', () => structuredClone(this.roles)),
    };
  }

  #bulk() {
    const status = (uuid) => {
      if (!this.bulks.has(uuid)) {
        throw refusal('not-found', { status: 404, message: `Bulk uuid ${uuid} not exist`, template: 'Bulk uuid %bulkUuid not exist', parametersJson: null });
      }
      return structuredClone(this.bulks.get(uuid));
    };
    return {
      submitUpdates: (updates) =>
        this.#called('bulk.submit-updates', () => {
          const receipts = [];
          for (let start = 0; start < updates.length; start += 200) {
            const chunk = updates.slice(start, start + 200);
            const bulkUuid = `bulk-${this.bulks.size + 1}`;
            const operations = chunk.map(([id, p], index) => {
              if (!this.customers.has(id)) return { index, status: 'failed', message: `No such entity with customerId = ${id}` };
              this.customers.set(id, merge(this.customers.get(id), p));
              return { index, status: 'complete', message: null };
            });
            this.bulks.set(bulkUuid, { bulkUuid, operations });
            receipts.push({ bulkUuid, items: chunk.length });
          }
          return receipts;
        }),
      status: (uuid) => this.#called('bulk.status', () => status(uuid)),
      wait: (uuids) => this.#called('bulk.wait', () => uuids.map(status)),
    };
  }

  #request(req) {
    this.approvals.push(structuredClone(req));
    const d = this.decision;
    if (!d) {
      throw new Error(
        'the plugin asked for an approval and the fake has no decision: call ' +
          "fake.deciding({ approvedBy: 'alice' }), ({ rejected: ['bob', 'why'] }) or ({ expired: true })",
      );
    }
    if (d.expired) return { tag: 'expired' };
    if (d.rejected) return { tag: 'rejected', val: [...d.rejected] };
    return { tag: 'approved', val: d.approvedBy ?? 'approver' };
  }

  #runtime() {
    return {
      log: (level, message) => {
        this.log.push(`${level}: ${message}`);
      },
      now: () => this.now,
      config: (key) => this.config.get(key) ?? null,
      stateGet: (key) => this.state.get(key) ?? null,
      stateSet: (key, value) => {
        this.state.set(key, value);
      },
    };
  }
}
