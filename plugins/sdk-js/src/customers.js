// Paging over every customer a search matches. Needs customers:read.

import * as customers from 'mageflow:workflow/customers@0.1.0';

import { call } from './errors.js';
import { MAX_PAGE, Search } from './search.js';

/**
 * Every customer `criteria` matches, a page (an array) at a time, sorted by id unless the
 * search sorts otherwise, so no customer is skipped or seen twice between pages. It stops at
 * the total: Magento answers a page past the end with the last page again.
 * @param {Search} criteria
 */
export function* customerPages(criteria) {
  const s = criteria.clone();
  if (!s.sort.length) s.sortBy('entity_id');
  const size = s.size ?? MAX_PAGE;
  s.pageSize(size);
  let seen = 0;
  for (let page = 1; ; page++) {
    const got = call(customers.search, s.criteria(page));
    if (!got.items.length) return;
    seen += got.items.length;
    yield got.items;
    if (seen >= Number(got.totalCount) || got.items.length < size) return;
  }
}

/**
 * Every customer `criteria` matches, one at a time.
 * @param {Search} criteria
 */
export function* allCustomers(criteria) {
  for (const page of customerPages(criteria)) yield* page;
}
