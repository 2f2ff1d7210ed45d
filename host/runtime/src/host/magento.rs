//! The host state the four Magento interfaces (customers, groups, admin-users, bulk) share:
//! the run's gateway and the workflow's grants. Each interface's own module implements its
//! `Host` trait on it.

use std::sync::Arc;

use mageflow_model::CallKind;
use mageflow_model::grants::Grants;

use crate::gateway::{Call, Gateway, Reply};
use crate::generated::mageflow::workflow::types::MagentoError;
use crate::host::types::{Stop, ask};

/// Host state of the Magento interfaces.
#[derive(Debug)]
pub(crate) struct MagentoHost {
    pub(crate) gateway: Arc<dyn Gateway>,
    pub(crate) grants: Grants,
}

/// What a Magento host function answers the plugin.
pub(crate) type Answer<T> = wasmtime::Result<Result<T, MagentoError>>;

impl MagentoHost {
    /// One call: its grant checked, built from the plugin's values, sent through the gateway.
    pub(crate) async fn ask(
        &self,
        kind: CallKind,
        call: impl FnOnce() -> Result<Call, MagentoError>,
    ) -> Result<Reply, Stop> {
        ask(&*self.gateway, &self.grants, kind, call).await
    }
}
