// Types of '@mageflow/sdk/approvals' (needs approvals).
/// <reference path="./types/workflow.d.ts" />

/** How a request ended. */
export interface Approval {
  approved: boolean;
  /** Who approved or rejected ('' when it expired). */
  by: string;
  /** Why it was rejected. */
  reason: string;
  expired: boolean;
}

/**
 * Asks for an approval and answers how it ended. `details` (any JSON value) is shown to the
 * approver; `approvers` and `required` default to the workflow's.
 */
export function requestApproval(ask: {
  title: string;
  summary: string;
  details?: unknown;
  approvers?: string[];
  required?: number;
  expiresInSecs?: number;
}): Approval;
