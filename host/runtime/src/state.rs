//! Everything one run's `Store` holds: the sandboxed WASI context, the resource table, the
//! memory limiter, and one host struct per mageflow interface.

use wasmtime::ResourceLimiter;
use wasmtime::component::ResourceTable;
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};

use crate::host::approvals::ApprovalsHost;
use crate::host::magento::MagentoHost;
use crate::host::runtime::RuntimeHost;

/// The data of one run's store. A fresh one per run: a trap poisons only its own store.
pub(crate) struct HostState {
    pub(crate) wasi: WasiCtx,
    pub(crate) table: ResourceTable,
    pub(crate) limits: MemoryLimiter,
    /// customers, groups, admin-users and bulk.
    pub(crate) magento: MagentoHost,
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
            .field("grants", &self.magento.grants)
            .finish_non_exhaustive()
    }
}

/// Holds a run's linear memory to its limit. A growth past it stops the run with a
/// [`MemoryLimit`] error, so the run's end names the limit by type, not by a trap's text.
#[derive(Debug)]
pub(crate) struct MemoryLimiter {
    pub(crate) bytes: usize,
}

/// A run tried to grow its memory past its limit.
#[derive(Debug, thiserror::Error)]
#[error("the plugin tried to grow its memory to {desired} bytes, past its limit of {limit}")]
pub(crate) struct MemoryLimit {
    pub(crate) desired: usize,
    pub(crate) limit: usize,
}

impl ResourceLimiter for MemoryLimiter {
    fn memory_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        if desired > self.bytes {
            return Err(MemoryLimit {
                desired,
                limit: self.bytes,
            }
            .into());
        }
        Ok(true)
    }

    fn memory_grow_failed(&mut self, error: wasmtime::Error) -> wasmtime::Result<()> {
        // The pool had no room: stop the run rather than let the guest carry on without it.
        Err(error)
    }

    fn table_growing(
        &mut self,
        _current: usize,
        _desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        Ok(true)
    }
}
