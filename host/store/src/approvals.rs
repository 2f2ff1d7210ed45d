//! Approvals: stored with their approvers, required count and expiry, and every decision.
//! Deciding is a compare-and-swap, so of two racing decisions exactly one settles it.

use serde::{Deserialize, Serialize};

use crate::runs::RunId;
use crate::{Error, Result, Store, decode, encode, pair};

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
    fn lapse(&mut self, now: u64) -> bool {
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

impl Store {
    /// Opens the approval for request `index` of a run, or returns the one opened before (a
    /// replay asks again).
    pub fn open_approval(&self, mut new: Approval) -> Result<Approval> {
        let key = pair(new.run, u64::from(new.index));
        if let Some(existing) = self.approval_for(new.run, new.index)? {
            return Ok(existing);
        }
        new.id = self.next_id()?;
        let bytes = encode(&new)?;
        let id = new.id;
        // Two openers racing on the same request: the first key wins.
        match self.approval_keys.compare_and_swap(
            key,
            None as Option<&[u8]>,
            Some(&id.to_be_bytes()),
        )? {
            Ok(()) => {
                self.approvals.insert(id.to_be_bytes(), bytes)?;
                Ok(new)
            }
            Err(_) => self
                .approval_for(new.run, new.index)?
                .ok_or(Error::NoApproval(id)),
        }
    }

    /// One approval.
    pub fn approval(&self, id: u64) -> Result<Approval> {
        let bytes = self
            .approvals
            .get(id.to_be_bytes())?
            .ok_or(Error::NoApproval(id))?;
        decode(&bytes)
    }

    /// The approval of request `index` of a run, if opened.
    pub fn approval_for(&self, run: RunId, index: u32) -> Result<Option<Approval>> {
        match self.approval_keys.get(pair(run, u64::from(index)))? {
            Some(id) => {
                let mut b = [0u8; 8];
                b.copy_from_slice(&id[..8]);
                self.approval(u64::from_be_bytes(b)).map(Some)
            }
            None => Ok(None),
        }
    }

    /// Every approval, oldest first, with this status when given.
    pub fn approvals(&self, status: Option<ApprovalStatus>) -> Result<Vec<Approval>> {
        let mut out = Vec::new();
        for item in self.approvals.iter() {
            let a: Approval = decode(&item?.1)?;
            if status.is_none_or(|s| a.status == s) {
                out.push(a);
            }
        }
        Ok(out)
    }

    /// Records `by`'s decision. Refused, naming why, when the approval is settled or expired,
    /// when `by` started the run, is not among its approvers, or decided already. The first
    /// decision that satisfies the rule settles it; a rejection settles it at once.
    ///
    /// An approver entry names a principal (`alice`) or a group (`group:secops`); `groups` are
    /// those `by` is in.
    pub fn decide(
        &self,
        id: u64,
        by: &str,
        groups: &[String],
        decision: &Decision,
        now: u64,
    ) -> Result<Approval> {
        let key = id.to_be_bytes();
        loop {
            let old = self.approvals.get(key)?.ok_or(Error::NoApproval(id))?;
            let mut a: Approval = decode(&old)?;
            if a.lapse(now) {
                let new = encode(&a)?;
                if self
                    .approvals
                    .compare_and_swap(key, Some(old), Some(new))?
                    .is_err()
                {
                    continue;
                }
                return Err(Error::Refused(format!(
                    "approval {id} expired at {}: a decision now changes nothing",
                    a.expires_at.unwrap_or(now)
                )));
            }
            if a.status != ApprovalStatus::Pending {
                let settled = a
                    .decisions
                    .last()
                    .map(|d| format!(" by {}", d.by))
                    .unwrap_or_default();
                return Err(Error::Refused(format!(
                    "approval {id} is already {}{settled}: a late decision changes nothing",
                    a.status.name()
                )));
            }
            if by == a.requester {
                return Err(Error::Refused(format!(
                    "{by} started run {} and cannot decide its own approval",
                    a.run
                )));
            }
            if !a.may_decide(by, groups) {
                return Err(Error::Refused(format!(
                    "{by} is not an approver of approval {id}; its approvers are {}",
                    a.approvers.join(", ")
                )));
            }
            if a.decisions.iter().any(|d| d.by == by) {
                return Err(Error::Refused(format!(
                    "{by} has already decided approval {id}"
                )));
            }
            let (approve, comment) = match decision {
                Decision::Approve(c) => (true, c.clone()),
                Decision::Reject(why) => (false, Some(why.clone())),
            };
            a.decisions.push(DecisionRecord {
                by: by.to_owned(),
                approve,
                comment,
                at: now,
            });
            let approvals = a.decisions.iter().filter(|d| d.approve).count() as u32;
            if !approve {
                a.status = ApprovalStatus::Rejected;
            } else if approvals >= a.required.max(1) {
                a.status = ApprovalStatus::Approved;
            }
            let new = encode(&a)?;
            if self
                .approvals
                .compare_and_swap(key, Some(old), Some(new))?
                .is_ok()
            {
                return Ok(a);
            }
        }
    }

    /// Replaces an approval's structured details (the engine attaches a dry run's plan).
    pub fn set_approval_details(&self, id: u64, details_json: &str) -> Result<Approval> {
        let key = id.to_be_bytes();
        loop {
            let old = self.approvals.get(key)?.ok_or(Error::NoApproval(id))?;
            let mut a: Approval = decode(&old)?;
            a.details_json = Some(details_json.to_owned());
            if self
                .approvals
                .compare_and_swap(key, Some(old), Some(encode(&a)?))?
                .is_ok()
            {
                return Ok(a);
            }
        }
    }

    /// Settles a pending approval whose time ran out (as its expiry says). Answers the
    /// approval as this call settled it, or `None` when it had nothing to settle.
    pub fn expire(&self, id: u64, now: u64) -> Result<Option<Approval>> {
        let key = id.to_be_bytes();
        loop {
            let old = self.approvals.get(key)?.ok_or(Error::NoApproval(id))?;
            let mut a: Approval = decode(&old)?;
            if !a.lapse(now) {
                return Ok(None);
            }
            if self
                .approvals
                .compare_and_swap(key, Some(old), Some(encode(&a)?))?
                .is_ok()
            {
                return Ok(Some(a));
            }
        }
    }
}
