//! `interface groups`: customer groups.

use mageflow_model::CallKind;
use wasmtime::component::{HasSelf, Linker};

use crate::gateway::{Call, Reply};
use crate::generated::mageflow::workflow::groups;
use crate::generated::mageflow::workflow::types::{Group, MagentoError};
use crate::host::magento::MagentoHost;
use crate::host::types::answer;

impl groups::Host for MagentoHost {
    #[tracing::instrument(name = "groups.list", skip_all)]
    async fn list(&mut self) -> wasmtime::Result<Result<Vec<Group>, MagentoError>> {
        let kind = CallKind::ListGroups;
        let got = self.ask(kind, || Ok(Call::ListGroups)).await;
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
    get: fn(&mut T) -> &mut MagentoHost,
) -> wasmtime::Result<()> {
    groups::add_to_linker::<T, HasSelf<MagentoHost>>(l, get)
}
