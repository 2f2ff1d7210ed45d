//! The sandboxed WebAssembly runtime for mageflow workflow plugins.
//!
//! A plugin is a component of the `mageflow:workflow/workflow` world (see `wit/`). The runtime
//! compiles it once, refuses it when it imports an interface its workflow's grants do not cover,
//! pre-instantiates it, and runs it in a fresh store per run, with a wall-time limit (epoch
//! interruption), a memory limit, and WASI without files, network or environment. Host calls go
//! through a [`Gateway`] (the Magento client, or a wrapper that journals, replays or plans); grants are checked again on every call, and a plugin can act on every
//! error a call answers. Only exceeded limits and broken invariants trap.
//!
//! ```no_run
//! # async fn demo(client: std::sync::Arc<mageflow_magento::MagentoClient>, wasm: Vec<u8>) -> mageflow_runtime::Result<()> {
//! use mageflow_runtime::{Grants, RunOptions, Runtime, Trigger};
//! let runtime = Runtime::new()?;
//! let grants = Grants::parse("customers:read").expect("known grants");
//! let plugin = runtime.load("watch.wasm", &wasm, grants)?;
//! let opts = RunOptions::new(client);
//! let report = plugin.run(&Trigger::Manual("{}".into()), &opts).await;
//! # Ok(()) }
//! ```

#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod determinism;
mod error;
mod gateway;
#[allow(missing_docs, reason = "generated bindings")]
mod generated;
mod headline;
mod host;
mod linker;
mod plugin;
mod policy;
mod state;

pub use determinism::{Clock, FixedClock, Hooks, MemoryState, StateStore, SystemClock, fresh_seed};
pub use error::{Error, Result};
pub use gateway::{Call, Failure, Gateway, Pending, Reply};
pub use generated::mageflow::workflow::types::{Outcome, Trigger, WebhookEvent};
pub use host::approvals::{ApprovalAsk, Approver, Preset, Verdict};
pub use host::runtime::LogLine;
pub use mageflow_model::CallKind;
pub use mageflow_model::grants::{
    GRANTED_WORLD, Grant, Grants, INTERFACES, ImportCheck, check_import, granted_world,
};
pub use mageflow_model::{Limits, MAX_MEMORY};
/// The `poll` trigger for these changed customers (as the client read them).
pub fn poll_trigger(customers: Vec<mageflow_magento::Customer>) -> Trigger {
    Trigger::Poll(customers.into_iter().map(host::types::customer).collect())
}

pub use plugin::{CacheStats, Inspection, Plugin, RunOptions, RunReport, Runtime};
