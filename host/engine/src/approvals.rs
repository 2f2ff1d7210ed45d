//! The engine's approver: a run's approval requests become stored approvals; a request nobody
//! has decided suspends the run, and the replay after a decision finds it settled.
//!
//! The approver answers from the approvals loaded when the run was claimed and never waits
//! on the store: a new request is kept in memory and suspends the run, and the engine opens
//! it ([`StoreApprover::opening`]), with the plan of what it lets through, once the plugin
//! has stopped and before the run's end is written.

use std::sync::{Arc, Mutex};

use mageflow_model::now_secs;
use mageflow_model::workflow::ApprovalPolicy;
use mageflow_runtime::{ApprovalAsk, Approver, Verdict};
use mageflow_store::{Approval, ApprovalStatus};

use crate::adapters::RunScope;

/// Answers a run's approval requests.
#[derive(Debug)]
pub(crate) struct StoreApprover {
    /// The run; a dry run's requests are answered "approved" so the plan covers what would
    /// follow, and who approved goes into the scope for the audit of the writes that follow.
    scope: Arc<RunScope>,
    policy: ApprovalPolicy,
    /// The run's approvals, as loaded when it was claimed.
    found: Vec<Approval>,
    /// The approval the run waits for, when it suspends on one opened before.
    pub(crate) waiting: Mutex<Option<u64>>,
    /// A request first made in this attempt, to open once the plugin has stopped.
    opening: Mutex<Option<Approval>>,
}

impl StoreApprover {
    /// The approver of the run in `scope`, whose approvals so far are `found`.
    pub(crate) fn new(
        scope: Arc<RunScope>,
        policy: ApprovalPolicy,
        found: Vec<Approval>,
    ) -> StoreApprover {
        StoreApprover {
            scope,
            policy,
            found,
            waiting: Mutex::new(None),
            opening: Mutex::new(None),
        }
    }

    /// The approval the run asked for first in this attempt, to open now that the plugin
    /// has stopped (the engine opens it, with its plan).
    pub(crate) fn opening(&self) -> Option<Approval> {
        self.opening
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take()
    }

    /// The approval a new request `index` opens.
    fn new_approval(&self, index: u32, ask: &ApprovalAsk) -> Approval {
        let now = now_secs();
        let expires = ask
            .expires_in_secs
            .unwrap_or(self.policy.expires_in.as_secs());
        let approvers = if ask.approvers.is_empty() {
            self.policy.approvers.clone()
        } else {
            ask.approvers.clone()
        };
        Approval {
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
        }
    }
}

impl Approver for StoreApprover {
    fn decide(&self, index: u32, ask: &ApprovalAsk) -> Verdict {
        if self.scope.dry_run {
            return Verdict::Approved("dry-run".into());
        }
        let Some(found) = self.found.iter().find(|a| a.index == index) else {
            *self.opening.lock().unwrap_or_else(|e| e.into_inner()) =
                Some(self.new_approval(index, ask));
            return Verdict::Suspend;
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
