// Types of '@mageflow/sdk/customers' (needs customers:read).
import type { Customer } from 'mageflow:workflow/types@0.1.0';
import type { Search } from './index.js';

/** Every customer the search matches, a page at a time, sorted by id unless it sorts otherwise. */
export function customerPages(criteria: Search): Generator<Customer[], void, void>;
/** Every customer the search matches, one at a time. */
export function allCustomers(criteria: Search): Generator<Customer, void, void>;
