"""Asking people to approve a step, with a plain answer."""

import json
from dataclasses import dataclass

from ._bindings import interface
from .errors import call


@dataclass
class Approval:
    """How a request ended: `approved` with `by`, or not, with `by` and `reason` (rejected)
    or `expired`."""

    approved: bool
    by: str = ""
    reason: str = ""
    expired: bool = False

    def __bool__(self):
        return self.approved


def request_approval(title, summary, details=None, approvers=(), required=1, expires_in_secs=None):
    """Asks for an approval and answers how it ended. `details` (any JSON value) is shown to
    the approver; `approvers` and `required` default to the workflow's."""
    approvals = interface("approvals")

    request = approvals.ApprovalRequest(
        title=title,
        summary=summary,
        details_json=None if details is None else json.dumps(details),
        approvers=list(approvers),
        required=required,
        expires_in_secs=expires_in_secs,
    )
    decision = call(approvals.request, request)
    kind = type(decision).__name__
    if kind.endswith("Approved"):
        return Approval(True, by=decision.value)
    if kind.endswith("Rejected"):
        by, reason = decision.value
        return Approval(False, by=by, reason=reason)
    return Approval(False, expired=True)
