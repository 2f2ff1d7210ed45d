//! Approvals: stored with their approvers, required count and expiry, and every decision.
//! Deciding is a compare-and-swap, so of two racing decisions exactly one settles it.

use serde::{Deserialize, Serialize};

use crate::runs::RunId;
use crate::{Error, Result};

/// Where an approval is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ApprovalStatus {
    /// Waiting for decisions.
    Pending,
    /// Enough approvals.
    Approved,
    /// Rejected.
    Rejected,
    /// Nobody settled it in time.
    Expired,
}

impl ApprovalStatus {
    /// The name used in the API and the CLI.
    pub fn name(self) -> &'static str {
        match self {
            ApprovalStatus::Pending => "pending",
            ApprovalStatus::Approved => "approved",
            ApprovalStatus::Rejected => "rejected",
            ApprovalStatus::Expired => "expired",
        }
    }
}

/// What expiry means for the run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum Expiry {
    /// The plugin hears `expired` and decides (the default).
    #[default]
    Expire,
    /// Expiry counts as a rejection.
    Reject,
}

/// One person's decision.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DecisionRecord {
    /// The approver.
    pub by: String,
    /// Approved (true) or rejected.
    pub approve: bool,
    /// Their comment or reason.
    pub comment: Option<String>,
    /// Unix seconds.
    pub at: u64,
}

/// A decision to make.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// Approve, with an optional comment.
    Approve(Option<String>),
    /// Reject, with the reason.
    Reject(String),
}

/// An approval as stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Approval {
    /// Its id (0 until opened).
    pub id: u64,
    /// The run that asked.
    pub run: RunId,
    /// Which of the run's requests (from 0).
    pub index: u32,
    /// The run's workflow.
    pub workflow: String,
    /// Who started the run (may not approve it).
    pub requester: String,
    /// One line.
    pub title: String,
    /// What the approver reads.
    pub summary: String,
    /// Structured details as JSON (a dry run's plan, for example).
    pub details_json: Option<String>,
    /// Who may decide; empty means anyone with an approver token.
    pub approvers: Vec<String>,
    /// Approvals needed.
    pub required: u32,
    /// Unix seconds.
    pub created_at: u64,
    /// Unix seconds; none: never expires.
    pub expires_at: Option<u64>,
    /// What expiry means.
    pub on_expiry: Expiry,
    /// Where it is.
    pub status: ApprovalStatus,
    /// Every decision, in order.
    pub decisions: Vec<DecisionRecord>,
}

impl Approval {
    /// Settles a pending approval whose time ran out at `now`, as its expiry says. Answers
    /// whether it did.
    pub(crate) fn lapse(&mut self, now: u64) -> bool {
        if self.status != ApprovalStatus::Pending || self.expires_at.is_none_or(|t| now < t) {
            return false;
        }
        self.status = match self.on_expiry {
            Expiry::Expire => ApprovalStatus::Expired,
            Expiry::Reject => ApprovalStatus::Rejected,
        };
        true
    }

    /// Whether `by` (in `groups`) is among the approvers: named, or in a named group
    /// (`group:NAME`). An approval that names nobody may be decided by any approver.
    pub fn may_decide(&self, by: &str, groups: &[String]) -> bool {
        self.approvers.is_empty()
            || self
                .approvers
                .iter()
                .any(|x| match x.strip_prefix("group:") {
                    Some(group) => groups.iter().any(|g| g == group),
                    None => x == by,
                })
    }

    /// Who approved, comma-separated (for audits and the plugin's `approved(by)`).
    pub fn approved_by(&self) -> String {
        self.decisions
            .iter()
            .filter(|d| d.approve)
            .map(|d| d.by.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    }
}

impl Approval {
    /// Applies `by`'s decision to this approval as read at `now`, as [`ApprovalStore::decide`]
    /// describes. `Ok(true)`: write it back. `Err` with a lapse: write it back, then refuse.
    pub(crate) fn settle(
        &mut self,
        by: &str,
        groups: &[String],
        decision: &Decision,
        now: u64,
    ) -> Result<(), Settle> {
        let id = self.id;
        if self.lapse(now) {
            return Err(Settle::Lapsed(Error::Refused(format!(
                "approval {id} expired at {}: a decision now changes nothing",
                self.expires_at.unwrap_or(now)
            ))));
        }
        let refuse = |why: String| Err(Settle::Refused(Error::Refused(why)));
        if self.status != ApprovalStatus::Pending {
            let settled = self
                .decisions
                .last()
                .map(|d| format!(" by {}", d.by))
                .unwrap_or_default();
            return refuse(format!(
                "approval {id} is already {}{settled}: a late decision changes nothing",
                self.status.name()
            ));
        }
        if by == self.requester {
            return refuse(format!(
                "{by} started run {} and cannot decide its own approval",
                self.run
            ));
        }
        if !self.may_decide(by, groups) {
            return refuse(format!(
                "{by} is not an approver of approval {id}; its approvers are {}",
                self.approvers.join(", ")
            ));
        }
        if self.decisions.iter().any(|d| d.by == by) {
            return refuse(format!("{by} has already decided approval {id}"));
        }
        let (approve, comment) = match decision {
            Decision::Approve(c) => (true, c.clone()),
            Decision::Reject(why) => (false, Some(why.clone())),
        };
        self.decisions.push(DecisionRecord {
            by: by.to_owned(),
            approve,
            comment,
            at: now,
        });
        let approvals = self.decisions.iter().filter(|d| d.approve).count() as u32;
        if !approve {
            self.status = ApprovalStatus::Rejected;
        } else if approvals >= self.required.max(1) {
            self.status = ApprovalStatus::Approved;
        }
        Ok(())
    }
}

/// Why [`Approval::settle`] changed nothing, or changed only the lapse.
pub(crate) enum Settle {
    /// The approval lapsed: store that, then answer the error.
    Lapsed(Error),
    /// Refused: nothing to store.
    Refused(Error),
}

/// Approvals: opened by runs, decided by people, settled by exactly one decision.
pub trait ApprovalStore {
    /// Opens the approval for request `index` of a run, or returns the one opened before (a
    /// replay asks again). Of two openers racing on the same request, the first wins.
    fn open_approval(&self, new: Approval) -> Result<Approval>;

    /// One approval.
    fn approval(&self, id: u64) -> Result<Approval>;

    /// The approval of request `index` of a run, if opened.
    fn approval_for(&self, run: RunId, index: u32) -> Result<Option<Approval>>;

    /// Every approval a run asked for, by request: what a run's replay reads, loaded when it
    /// is claimed.
    fn approvals_of(&self, run: RunId) -> Result<Vec<Approval>>;

    /// Every approval, oldest first, with this status when given.
    fn approvals(&self, status: Option<ApprovalStatus>) -> Result<Vec<Approval>>;

    /// Records `by`'s decision. Refused, naming why, when the approval is settled or expired,
    /// when `by` started the run, is not among its approvers, or decided already. The first
    /// decision that satisfies the rule settles it; a rejection settles it at once.
    ///
    /// An approver entry names a principal (`alice`) or a group (`group:secops`); `groups` are
    /// those `by` is in.
    fn decide(
        &self,
        id: u64,
        by: &str,
        groups: &[String],
        decision: &Decision,
        now: u64,
    ) -> Result<Approval>;

    /// Replaces an approval's structured details (the engine attaches a dry run's plan).
    fn set_approval_details(&self, id: u64, details_json: &str) -> Result<Approval>;

    /// Settles a pending approval whose time ran out (as its expiry says). Answers the
    /// approval as this call settled it, or `None` when it had nothing to settle.
    fn expire(&self, id: u64, now: u64) -> Result<Option<Approval>>;
}
