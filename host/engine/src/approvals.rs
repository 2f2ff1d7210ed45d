//! The engine's approver: a run's approval requests become stored approvals; a request nobody
//! has decided suspends the run, and the replay after a decision finds it settled.

use std::sync::{Arc, Mutex};

use mageflow_model::now_secs;
use mageflow_model::workflow::ApprovalPolicy;
use mageflow_runtime::{ApprovalAsk, Approver, Verdict};
use mageflow_store::{Approval, ApprovalStatus};

use crate::adapters::RunScope;

/// Answers a run's approval requests from the store.
#[derive(Debug)]
pub(crate) struct StoreApprover {
    /// The run; a dry run's requests are answered "approved" so the plan covers what would
    /// follow, and who approved goes into the scope for the audit of the writes that follow.
    pub(crate) scope: Arc<RunScope>,
    pub(crate) policy: ApprovalPolicy,
    /// The approval the run waits for, when it suspends.
    pub(crate) waiting: Mutex<Option<u64>>,
}

impl Approver for StoreApprover {
    fn decide(&self, index: u32, ask: &ApprovalAsk) -> Verdict {
        if self.scope.dry_run {
            return Verdict::Approved("dry-run".into());
        }
        let found = match self.scope.store.approval_for(self.scope.run, index) {
            Ok(Some(a)) => a,
            Ok(None) => {
                let now = now_secs();
                let expires = ask
                    .expires_in_secs
                    .unwrap_or(self.policy.expires_in.as_secs());
                let approvers = if ask.approvers.is_empty() {
                    self.policy.approvers.clone()
                } else {
                    ask.approvers.clone()
                };
                let opened = self.scope.store.open_approval(Approval {
                    id: 0,
                    run: self.scope.run,
                    index,
                    workflow: self.scope.workflow.clone(),
                    requester: self.scope.requester.clone(),
                    title: ask.title.clone(),
                    summary: ask.summary.clone(),
                    details_json: ask.details_json.clone(),
                    approvers,
                    required: ask.required.max(self.policy.required),
                    created_at: now,
                    expires_at: Some(now + expires),
                    on_expiry: self.policy.on_expiry,
                    status: ApprovalStatus::Pending,
                    decisions: Vec::new(),
                });
                match opened {
                    Ok(a) => a,
                    Err(e) => {
                        return Verdict::Deny(format!("the approval could not be stored: {e}"));
                    }
                }
            }
            Err(e) => return Verdict::Deny(format!("the approval could not be read: {e}")),
        };
        let found = if found.status == ApprovalStatus::Pending {
            match self.scope.store.expire(found.id, now_secs()) {
                Ok(Some(lapsed)) => lapsed,
                _ => found,
            }
        } else {
            found
        };
        match found.status {
            ApprovalStatus::Pending => {
                *self.waiting.lock().unwrap_or_else(|e| e.into_inner()) = Some(found.id);
                Verdict::Suspend
            }
            ApprovalStatus::Approved => {
                let by = found.approved_by();
                *self
                    .scope
                    .approved_by
                    .lock()
                    .unwrap_or_else(|e| e.into_inner()) = Some(by.clone());
                Verdict::Approved(by)
            }
            ApprovalStatus::Rejected => match found.decisions.iter().find(|d| !d.approve) {
                Some(d) => Verdict::Rejected(d.by.clone(), d.comment.clone().unwrap_or_default()),
                None => Verdict::Rejected("policy".into(), "the approval expired".into()),
            },
            ApprovalStatus::Expired => Verdict::Expired,
        }
    }
}
