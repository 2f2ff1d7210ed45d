// Asking people to approve a step, with a plain answer. Needs the approvals grant.

import { request } from 'mageflow:workflow/approvals@0.1.0';

import { call } from './errors.js';

/**
 * Asks for an approval and answers how it ended: `{ approved, by, reason, expired }`.
 * `details` (any JSON value) is shown to the approver; `approvers` and `required` default
 * to the workflow's.
 * @param {{ title: string, summary: string, details?: unknown, approvers?: string[],
 *   required?: number, expiresInSecs?: number }} ask
 */
export function requestApproval(ask) {
  const decision = call(request, {
    title: ask.title,
    summary: ask.summary,
    detailsJson: ask.details === undefined ? null : JSON.stringify(ask.details),
    approvers: ask.approvers ?? [],
    required: ask.required ?? 1,
    expiresInSecs: ask.expiresInSecs ?? null,
  });
  switch (decision.tag) {
    case 'approved':
      return { approved: true, by: decision.val, reason: '', expired: false };
    case 'rejected':
      return { approved: false, by: decision.val[0], reason: decision.val[1], expired: false };
    default:
      return { approved: false, by: '', reason: '', expired: true };
  }
}
