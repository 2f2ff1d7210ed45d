// mageflow's TypeScript and JavaScript SDK: what a workflow plugin needs beside the bindings.
//
//   import { workflow, search, outcome, log } from '@mageflow/sdk';
//   import { customerPages } from '@mageflow/sdk/customers';
//
//   export const run = workflow((trigger) => {
//     let n = 0;
//     for (const page of customerPages(search().where('group_id', 'eq', 1))) n += page.length;
//     return outcome(`${n} customers in group 1`);
//   });
//
// This module imports only the runtime interface, which every plugin has. What needs more
// lives in '@mageflow/sdk/customers' (customers:read) and '@mageflow/sdk/approvals'
// (approvals), so a plugin built for fewer grants never imports them.

export { BadRequest, Denied, Invalid, MagentoError, NotFound, Unauthorized, Unavailable, call, magentoError } from './errors.js';
export { log } from './log.js';
export { Patch, patch } from './patch.js';
export { MAX_PAGE, Search, search } from './search.js';
export { failureMessage, outcome, workflow } from './workflow.js';
