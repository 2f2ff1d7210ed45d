// offboard-admin-ts: finds an admin user by email, asks for approval, and deactivates them
// (they can no longer log in; the account stays for the audit trail). The TypeScript twin of
// offboard-admin. Input (manual JSON): `{"email": "ops@example.com", "reason": "left"}`

import { workflow } from '@mageflow/sdk';

import { offboard } from './offboard.js';

// An uncaught exception fails the run with its kind and message first, then its stack.
export const run = workflow(offboard);
