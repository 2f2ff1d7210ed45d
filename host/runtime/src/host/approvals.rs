//! `interface approvals`: asking people for a decision. Who decides is a hook, the run's
//! [`Approver`]: `mageflow plugin run` answers from `--approve`/`--reject` ([`Preset`]); the
//! engine answers from its store and suspends the run while nobody has decided.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use serde::{Deserialize, Serialize};
use wasmtime::component::{HasSelf, Linker};

use crate::generated::mageflow::workflow::approvals::{self, ApprovalRequest, Decision};
use crate::generated::mageflow::workflow::types::MagentoError;
use crate::host::types::denied;
use mageflow_model::grants::{Grant, Grants};

/// What a plugin asks approvers (the WIT `approval-request`, as plain data).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApprovalAsk {
    /// One line, e.g. `Deactivate admin user leaver`.
    pub title: String,
    /// What the approver reads.
    pub summary: String,
    /// Structured details as JSON, e.g. the planned changes.
    pub details_json: Option<String>,
    /// Who may decide; empty: the workflow's policy decides.
    pub approvers: Vec<String>,
    /// How many approvals settle it.
    pub required: u32,
    /// Seconds until it expires; the policy's default when absent.
    pub expires_in_secs: Option<u64>,
}

/// An approver's answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Approved, by whom.
    Approved(String),
    /// Rejected, by whom and why.
    Rejected(String, String),
    /// Nobody decided in time.
    Expired,
    /// No decision yet: the run stops here ([`crate::Error::Suspended`]) and is resumed by
    /// replay once someone decides.
    Suspend,
    /// The request is refused; the plugin gets a `denied` error with this reason.
    Deny(String),
}

/// Decides a run's approval requests. `index` counts the run's requests from 0, so a replayed
/// run asks about the same request again and gets the same answer.
pub trait Approver: Send + Sync + std::fmt::Debug {
    /// The answer to request number `index` of this run.
    fn decide(&self, index: u32, ask: &ApprovalAsk) -> Verdict;
}

/// A decision supplied by the caller of a run, for every request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Preset {
    /// Approve every request, as this approver.
    Approve(String),
    /// Reject every request, as this approver, with this reason.
    Reject(String, String),
    /// Decide nothing: every request is refused, naming how to decide.
    Undecided,
}

impl Approver for Preset {
    fn decide(&self, _index: u32, ask: &ApprovalAsk) -> Verdict {
        match self {
            Preset::Approve(by) => Verdict::Approved(by.clone()),
            Preset::Reject(by, why) => Verdict::Rejected(by.clone(), why.clone()),
            Preset::Undecided => Verdict::Deny(format!(
                "approval {:?} needs a decision: run with --approve or --reject, or through `mageflow serve`",
                ask.title
            )),
        }
    }
}

/// The run stopped to wait for a decision (a dedicated trap, not a fault).
#[derive(Debug, thiserror::Error)]
#[error("waiting for approval {title:?}")]
pub(crate) struct Suspended {
    pub(crate) title: String,
}

/// Host state of `interface approvals`.
#[derive(Debug)]
pub(crate) struct ApprovalsHost {
    pub(crate) grants: Grants,
    pub(crate) approver: Arc<dyn Approver>,
    /// Set once a request of this run was approved; policy-gated calls need it.
    pub(crate) granted: Arc<AtomicBool>,
    /// The requests the plugin made, in order (titles), for the run's report.
    pub(crate) requested: Vec<String>,
}

impl approvals::Host for ApprovalsHost {
    #[tracing::instrument(name = "approvals.request", skip_all)]
    async fn request(
        &mut self,
        request: ApprovalRequest,
    ) -> wasmtime::Result<Result<Decision, MagentoError>> {
        if let Err(e) = self.grants.check(Grant::Approvals, "approvals.request") {
            return Ok(Err(denied(e)));
        }
        let index = self.requested.len() as u32;
        self.requested.push(request.title.clone());
        let ask = ApprovalAsk {
            title: request.title,
            summary: request.summary,
            details_json: request.details_json,
            approvers: request.approvers,
            required: request.required,
            expires_in_secs: request.expires_in_secs,
        };
        Ok(Ok(match self.approver.decide(index, &ask) {
            Verdict::Approved(by) => {
                self.granted.store(true, Ordering::SeqCst);
                Decision::Approved(by)
            }
            Verdict::Rejected(by, why) => Decision::Rejected((by, why)),
            Verdict::Expired => Decision::Expired,
            Verdict::Deny(why) => return Ok(Err(denied(why))),
            Verdict::Suspend => {
                return Err(wasmtime::Error::new(Suspended { title: ask.title }));
            }
        }))
    }
}

/// Adds `interface approvals` to a linker.
pub(crate) fn add_to_linker<T: Send + 'static>(
    l: &mut Linker<T>,
    get: fn(&mut T) -> &mut ApprovalsHost,
) -> wasmtime::Result<()> {
    approvals::add_to_linker::<T, HasSelf<ApprovalsHost>>(l, get)
}
