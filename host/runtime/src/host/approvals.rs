//! `interface approvals`: asking people for a decision. Until the engine's durable suspend
//! lands, the decision comes from whoever started the run (`RunOptions::decision`).

use wasmtime::component::{HasSelf, Linker};

use crate::generated::mageflow::workflow::approvals::{self, ApprovalRequest, Decision};
use crate::generated::mageflow::workflow::types::MagentoError;
use crate::grants::{Grant, Grants};
use crate::host::types::denied;

/// A decision supplied by the caller of a run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Preset {
    /// Approve every request, as this approver.
    Approve(String),
    /// Reject every request, as this approver, with this reason.
    Reject(String, String),
}

/// Host state of `interface approvals`.
#[derive(Debug)]
pub(crate) struct ApprovalsHost {
    pub(crate) grants: Grants,
    pub(crate) preset: Option<Preset>,
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
        self.requested.push(request.title.clone());
        Ok(match &self.preset {
            Some(Preset::Approve(by)) => Ok(Decision::Approved(by.clone())),
            Some(Preset::Reject(by, why)) => Ok(Decision::Rejected((by.clone(), why.clone()))),
            None => Err(denied(format!(
                "approval {:?} needs a decision: run with --approve or --reject (durable approvals come with the engine)",
                request.title
            ))),
        })
    }
}

/// Adds `interface approvals` to a linker.
pub(crate) fn add_to_linker<T: Send + 'static>(
    l: &mut Linker<T>,
    get: fn(&mut T) -> &mut ApprovalsHost,
) -> wasmtime::Result<()> {
    approvals::add_to_linker::<T, HasSelf<ApprovalsHost>>(l, get)
}
