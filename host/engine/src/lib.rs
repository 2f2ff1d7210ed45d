//! mageflow's workflow engine: runs that are written before they start, journaled host calls
//! replayed after a crash or an approval, approvals that suspend a run with nothing left in
//! memory, dry runs that plan writes, and an audit entry for every Magento write.
//!
//! A run goes `queued` -> `running` -> `succeeded` | `failed`, or stops at `awaiting-approval`
//! until someone decides; then it is replayed from the start: recorded answers come back
//! without touching Magento, the decision is returned, and the plugin carries on live. A run
//! whose Magento call keeps failing for a transient reason stops at `retrying` and is replayed
//! the same way when its backoff has passed (see [`RetryPolicy`]).

#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod adapters;
mod approvals;
mod engine;
mod event;
mod journal;
mod operations;
mod triggers;

pub use engine::{Engine, Loaded};
pub use mageflow_model::{
    CronCursor, EngineError, Event, Metrics, PollCursor, Result, RetryPolicy, Workflow,
    WorkflowError, magento_time, now_secs, utc_text, workflow,
};
