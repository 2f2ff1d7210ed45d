// @ts-check
// What offboard-admin-ts does, in JavaScript with JSDoc types, so `npm test` runs it natively
// against the SDK's fake host (Node 20 cannot run TypeScript; app.ts is the typed entry).

import { deactivate, findByEmail } from 'mageflow:workflow/admin-users@0.1.0';
import { call, log, outcome } from '@mageflow/sdk';
import { requestApproval } from '@mageflow/sdk/approvals';

/**
 * Reads `{ email, reason }` from the manual input.
 * @param {string} text
 */
export function readInput(text) {
  let v;
  try {
    v = JSON.parse(text);
  } catch (e) {
    throw new Error(`input is not JSON: ${/** @type {Error} */ (e).message}`);
  }
  if (typeof v?.email !== 'string' || !v.email.includes('@')) throw new Error('input has no email');
  return { email: v.email, reason: typeof v.reason === 'string' ? v.reason : 'offboarding' };
}

/**
 * Finds the admin user, asks for approval and deactivates them.
 * @param {import('@mageflow/sdk').Trigger} trigger
 */
export function offboard(trigger) {
  if (trigger.tag !== 'manual') throw new Error('offboard-admin-ts runs on a manual input');
  const { email, reason } = readInput(trigger.val);
  const user = call(findByEmail, email);
  if (!user) return outcome(`no admin user has the email ${email}; nothing to do`);
  if (!user.isActive) return outcome(`admin user ${user.username} is already inactive`);
  const answer = requestApproval({
    title: `Deactivate admin user ${user.username}`,
    summary: `${user.firstname} ${user.lastname} <${user.email}>, role ${user.roleId}: ${reason}`,
    details: { id: user.id, username: user.username, email: user.email },
  });
  if (answer.expired) throw new Error(`the approval to deactivate ${user.username} expired`);
  if (!answer.approved) return outcome(`kept ${user.username} active: rejected by ${answer.by} (${answer.reason})`);
  const done = call(deactivate, user.id);
  log.info(`deactivated ${done.username}, approved by ${answer.by}`);
  return outcome(`deactivated admin user ${done.username}`, { id: done.id });
}
