// Searches that always carry criteria (Magento refuses a search without them).

/** Magento's largest page. */
export const MAX_PAGE = 300;

const CONDITIONS = [
  'eq', 'neq', 'like', 'nlike', 'in', 'nin', 'notnull', 'null', 'gt', 'lt', 'gteq', 'lteq',
  'moreq', 'from', 'to', 'finset', 'nfinset',
];

/** @param {unknown} v */
const text = (v) => (Array.isArray(v) ? v.map(String).join(',') : String(v));

/** `search().where('group_id', 'eq', 1).sortBy('entity_id').pageSize(100)`. */
export class Search {
  constructor() {
    /** @type {{ field: string, condition: string, value: string }[][]} */
    this.groups = [];
    /** @type {{ field: string, descending: boolean }[]} */
    this.sort = [];
    /** @type {number | null} */
    this.size = null;
  }

  /** ANDs a filter; `condition` is Magento's (eq, neq, like, in, gteq, ...). */
  where(field, condition, value) {
    this.groups.push([filter(field, condition, value)]);
    return this;
  }

  /** ORs a filter with the last one. */
  orWhere(field, condition, value) {
    if (!this.groups.length) return this.where(field, condition, value);
    this.groups[this.groups.length - 1].push(filter(field, condition, value));
    return this;
  }

  sortBy(field, descending = false) {
    this.sort.push({ field, descending });
    return this;
  }

  pageSize(n) {
    this.size = Math.max(1, Math.min(Math.trunc(Number(n)) || 1, MAX_PAGE));
    return this;
  }

  /** A copy, so paging never changes the caller's search. */
  clone() {
    const c = new Search();
    c.groups = this.groups.map((g) => [...g]);
    c.sort = [...this.sort];
    c.size = this.size;
    return c;
  }

  /** The bindings' `SearchCriteria` for `page` (from 1). */
  criteria(page = null) {
    return {
      groups: this.groups.map((g) => g.map((f) => ({ ...f }))),
      sort: this.sort.map((s) => ({ ...s })),
      pageSize: this.size,
      currentPage: page,
    };
  }
}

function filter(field, condition, value) {
  const c = String(condition).toLowerCase();
  if (!CONDITIONS.includes(c)) {
    throw new TypeError(`unknown condition ${JSON.stringify(condition)}: use ${CONDITIONS.join(', ')}`);
  }
  return { field, condition: c, value: text(value) };
}

export const search = () => new Search();
