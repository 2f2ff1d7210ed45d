//! What mageflow's parts agree on, without wasmtime: workflow definitions and their errors,
//! the grants and the one table of Magento calls, trigger events and cursors, retry policies,
//! time, the metrics, and [`Operations`], the engine as the HTTP server sees it. The runtime,
//! the engine and the server all build on this crate; only the first two link wasmtime.

#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod calls;
mod cursors;
mod error;
mod event;
pub mod grants;
mod limits;
mod metrics;
mod operations;
mod retry;
mod time;
pub mod workflow;

pub use calls::CallKind;
pub use cursors::{CronCursor, PollCursor};
pub use error::{EngineError, Result};
pub use event::Event;
pub use grants::{Grant, Grants};
pub use limits::{Limits, MAX_MEMORY};
pub use metrics::Metrics;
pub use operations::{Background, Deployed, Dispatch, Operations, Pending};
pub use retry::RetryPolicy;
pub use time::{magento_time, now_secs, rfc3339, utc_text};
pub use workflow::{Workflow, WorkflowError};
