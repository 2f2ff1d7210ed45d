//! The single list of what a plugin can do: sandboxed WASI and the mageflow interfaces.

use wasmtime::Engine;
use wasmtime::component::Linker;

use crate::host;
use crate::state::HostState;

/// A linker with every capability a plugin may import. Whether a given plugin may use them is
/// decided by its grants, at load time and on every call.
pub(crate) fn linker(engine: &Engine) -> wasmtime::Result<Linker<HostState>> {
    let mut l: Linker<HostState> = Linker::new(engine);
    wasmtime_wasi::p2::add_to_linker_async(&mut l)?;
    host::customers::add_to_linker(&mut l, |s| &mut s.magento)?;
    host::groups::add_to_linker(&mut l, |s| &mut s.magento)?;
    host::admin_users::add_to_linker(&mut l, |s| &mut s.magento)?;
    host::bulk::add_to_linker(&mut l, |s| &mut s.magento)?;
    host::approvals::add_to_linker(&mut l, |s| &mut s.approvals)?;
    host::runtime::add_to_linker(&mut l, |s| &mut s.runtime)?;
    Ok(l)
}
