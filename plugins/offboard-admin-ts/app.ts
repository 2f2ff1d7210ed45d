// offboard-admin-ts: finds an admin user by email, asks for approval, and deactivates them
// (they can no longer log in; the account stays for the audit trail). The TypeScript twin of
// offboard-admin. Input (manual JSON): `{"email": "ops@example.com", "reason": "left"}`

import { deactivate, findByEmail } from 'mageflow:workflow/admin-users@0.1.0';
import { request } from 'mageflow:workflow/approvals@0.1.0';
import { log } from 'mageflow:workflow/runtime@0.1.0';

import { afterDecision, readInput } from './offboard.js';

type Trigger = { tag: string; val: unknown };
type Outcome = { summary: string; outputJson?: string };

function main(trigger: Trigger): Outcome {
  if (trigger.tag !== 'manual') throw new Error('offboard-admin-ts runs on a manual input');
  const { email, reason } = readInput(String(trigger.val));
  const user = findByEmail(email);
  if (!user) return { summary: `no admin user has the email ${email}; nothing to do` };
  if (!user.isActive) return { summary: `admin user ${user.username} is already inactive` };
  const decision = request({
    title: `Deactivate admin user ${user.username}`,
    summary: `${user.firstname} ${user.lastname} <${user.email}>, role ${user.roleId}: ${reason}`,
    detailsJson: undefined,
    approvers: [],
    required: 1,
    expiresInSecs: undefined,
  });
  const next = afterDecision(decision, user);
  if (next.error) throw new Error(next.error);
  if (!next.deactivate) return { summary: next.summary! };
  const done = deactivate(user.id);
  log('info', `deactivated ${done.username}`);
  return { summary: `deactivated admin user ${done.username}` };
}

// The run's error: what went wrong first (a Magento refusal by its kind), then where.
function describe(e: any): string {
  if (e && e.payload && e.payload.tag) {
    const v = e.payload.val;
    return `Magento ${e.payload.tag}: ${typeof v === 'string' ? v : v?.message}`;
  }
  return `${e?.name ?? 'Error'}: ${e?.message ?? e}\n${e?.stack ?? ''}`;
}

export function run(trigger: Trigger): Outcome {
  try {
    return main(trigger);
  } catch (e) {
    throw new Error(describe(e));
  }
}
