//! The host state the four Magento interfaces (customers, groups, admin-users, bulk) share:
//! the run's gateway and the workflow's grants. Each interface's own module implements its
//! `Host` trait on it.

use std::sync::Arc;

use mageflow_model::CallKind;
use mageflow_model::grants::Grants;

use crate::gateway::{Call, Failure, Gateway, Reply};
use crate::generated::mageflow::workflow::types::MagentoError;
use crate::host::types::{Postponed, Stop, convert_error, denied};

/// Host state of the Magento interfaces.
#[derive(Debug)]
pub(crate) struct MagentoHost {
    pub(crate) gateway: Arc<dyn Gateway>,
    pub(crate) grants: Grants,
}

/// What a Magento host function answers the plugin.
pub(crate) type Answer<T> = wasmtime::Result<Result<T, MagentoError>>;

impl MagentoHost {
    /// One host call's way to Magento: the grant check for `kind` (refused as `denied`), then
    /// the call built from the plugin's values (conversions may refuse them), then the gateway.
    pub(crate) async fn ask(
        &self,
        kind: CallKind,
        call: impl FnOnce() -> Result<Call, MagentoError>,
    ) -> Result<Reply, Stop> {
        self.grants.allow(kind).map_err(denied)?;
        match self.gateway.call(call()?).await {
            Ok(reply) => Ok(reply),
            Err(Failure::Postponed { reason, after }) => {
                Err(Stop::Postponed(Postponed { reason, after }))
            }
            Err(e) => Err(Stop::Error(convert_error(e))),
        }
    }
}
