//! `interface groups`: customer groups.

use std::sync::Arc;

use wasmtime::component::{HasSelf, Linker};

use crate::gateway::{Call, Gateway, Reply};
use crate::generated::mageflow::workflow::groups;
use crate::generated::mageflow::workflow::types::{Group, MagentoError};
use crate::host::types::{answer, ask};
use mageflow_model::CallKind;
use mageflow_model::grants::Grants;

/// Host state of `interface groups`.
#[derive(Debug)]
pub(crate) struct GroupsHost {
    pub(crate) gateway: Arc<dyn Gateway>,
    pub(crate) grants: Grants,
}

impl groups::Host for GroupsHost {
    #[tracing::instrument(name = "groups.list", skip_all)]
    async fn list(&mut self) -> wasmtime::Result<Result<Vec<Group>, MagentoError>> {
        let kind = CallKind::ListGroups;
        let got = ask(&*self.gateway, &self.grants, kind, || Ok(Call::ListGroups)).await;
        answer(kind, got, |r| match r {
            Reply::Groups(list) => Ok(list
                .into_iter()
                .map(|g| Group {
                    id: g.id,
                    code: g.code,
                })
                .collect()),
            other => Err(other),
        })
    }
}

/// Adds `interface groups` to a linker.
pub(crate) fn add_to_linker<T: Send + 'static>(
    l: &mut Linker<T>,
    get: fn(&mut T) -> &mut GroupsHost,
) -> wasmtime::Result<()> {
    groups::add_to_linker::<T, HasSelf<GroupsHost>>(l, get)
}
