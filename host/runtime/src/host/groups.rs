//! `interface groups`: customer groups.

use std::sync::Arc;

use mageflow_magento::MagentoClient;
use wasmtime::component::{HasSelf, Linker};

use crate::generated::mageflow::workflow::groups;
use crate::generated::mageflow::workflow::types::{Group, MagentoError};
use crate::grants::{Grant, Grants};
use crate::host::types::{convert_error, denied};

/// Host state of `interface groups`.
#[derive(Debug)]
pub(crate) struct GroupsHost {
    pub(crate) client: Arc<MagentoClient>,
    pub(crate) grants: Grants,
}

impl groups::Host for GroupsHost {
    #[tracing::instrument(name = "groups.list", skip_all)]
    async fn list(&mut self) -> wasmtime::Result<Result<Vec<Group>, MagentoError>> {
        if !self.grants.has(Grant::CustomersRead) && !self.grants.has(Grant::CustomersWrite) {
            return Ok(Err(denied(
                "groups.list needs the customers:read grant, which this workflow does not have"
                    .into(),
            )));
        }
        Ok(self
            .client
            .customer_groups()
            .await
            .map(|list| {
                list.into_iter()
                    .map(|g| Group {
                        id: g.id,
                        code: g.code,
                    })
                    .collect()
            })
            .map_err(convert_error))
    }
}

/// Adds `interface groups` to a linker.
pub(crate) fn add_to_linker<T: Send + 'static>(
    l: &mut Linker<T>,
    get: fn(&mut T) -> &mut GroupsHost,
) -> wasmtime::Result<()> {
    groups::add_to_linker::<T, HasSelf<GroupsHost>>(l, get)
}
