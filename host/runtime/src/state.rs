//! Everything one run's `Store` holds: the sandboxed WASI context, the resource table, the
//! memory limiter, and one host struct per mageflow interface.

use wasmtime::StoreLimits;
use wasmtime::component::ResourceTable;
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};

use crate::host::admin_users::AdminUsersHost;
use crate::host::approvals::ApprovalsHost;
use crate::host::bulk::BulkHost;
use crate::host::customers::CustomersHost;
use crate::host::groups::GroupsHost;
use crate::host::runtime::RuntimeHost;

/// The data of one run's store. A fresh one per run: a trap poisons only its own store.
pub(crate) struct HostState {
    pub(crate) wasi: WasiCtx,
    pub(crate) table: ResourceTable,
    pub(crate) limits: StoreLimits,
    pub(crate) customers: CustomersHost,
    pub(crate) groups: GroupsHost,
    pub(crate) admin_users: AdminUsersHost,
    pub(crate) bulk: BulkHost,
    pub(crate) approvals: ApprovalsHost,
    pub(crate) runtime: RuntimeHost,
}

impl WasiView for HostState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

impl std::fmt::Debug for HostState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HostState")
            .field("grants", &self.customers.grants)
            .finish_non_exhaustive()
    }
}
