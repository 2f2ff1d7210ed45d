//! The operations the HTTP server asks of the engine, as a trait: the server depends on it
//! and not on the engine, so it builds without wasmtime, and its tests can serve an in-memory
//! implementation. `mageflow serve` hands it the real engine.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use mageflow_magento::MagentoClient;
use mageflow_store::{Approval, CursorMove, Decision, Queued, Run, Store};

use crate::error::Result;
use crate::event::Event;
use crate::metrics::Metrics;
use crate::workflow::Workflow;

/// An operation's answer in flight.
pub type Pending<'a, T> = Pin<Box<dyn Future<Output = Result<T>> + Send + 'a>>;

/// Work that runs until the process ends.
pub type Background<'a> = Pin<Box<dyn Future<Output = ()> + Send + 'a>>;

/// Where runs go to be executed (the server's workers).
pub type Dispatch = Arc<dyn Fn(u64) + Send + Sync>;

/// A workflow the engine has loaded, as the server sees it: its definition, the hash new runs
/// are pinned to, and its Magento connection (for the pages that read from Magento).
#[derive(Debug)]
pub struct Deployed {
    /// The definition.
    pub def: Workflow,
    /// SHA-256 of the plugin bytes (hex).
    pub hash: String,
    /// The workflow's Magento client.
    pub client: Arc<MagentoClient>,
}

/// What the server needs of an engine. Every method is the engine's own, under the same name.
pub trait Operations: Send + Sync + std::fmt::Debug {
    /// The store runs, approvals and tokens are kept in.
    fn store(&self) -> &Store;
    /// The metrics the engine keeps.
    fn metrics(&self) -> &Arc<Metrics>;
    /// Every loaded workflow, by name.
    fn workflows(&self) -> Vec<Arc<Deployed>>;
    /// One loaded workflow; an unknown name is refused naming the known ones.
    fn workflow(&self, name: &str) -> Result<Arc<Deployed>>;
    /// Queues runs, one per event, atomically with a dedupe key or a cursor move.
    fn queue(
        &self,
        workflow: &str,
        events: &[Event],
        requester: &str,
        dry_run: bool,
        dedupe: Option<&str>,
        cursor: Option<CursorMove<'_>>,
    ) -> Result<Queued>;
    /// Queues one run and makes it durable.
    fn start(&self, workflow: &str, event: Event, requester: &str, dry_run: bool) -> Result<Run>;
    /// Executes or resumes a run; the run as it stands afterwards (as another worker left it,
    /// when one holds it: a worker's dispatch does not wait for another's).
    fn execute(&self, id: u64) -> Pending<'_, Run>;
    /// Executes or resumes a run and answers it settled: ended, awaiting an approval, or
    /// waiting to retry, however long another worker that holds it takes (a caller waiting
    /// for the outcome: `--wait`, a SCIM request).
    fn settle(&self, id: u64) -> Pending<'_, Run>;
    /// Records a decision durably (resuming the run is the caller's).
    fn record_decision(
        &self,
        approval: u64,
        by: &str,
        groups: &[String],
        decision: &Decision,
    ) -> Result<Approval>;
    /// Fires cron and poll triggers, wakes retrying runs when due and expires approvals,
    /// every second until the process ends; the runs to execute go to `dispatch`.
    fn run_triggers(&self, dispatch: Dispatch) -> Background<'_>;
    /// Runs waiting to retry, and the soonest next attempt (Unix seconds).
    fn retry_queue(&self) -> (usize, Option<u64>);
    /// Readies the unfinished runs for [`Operations::resume`].
    fn prepare_recovery(&self) -> Result<Vec<u64>>;
    /// Resumes the runs [`Operations::prepare_recovery`] named.
    fn resume(&self, runs: Vec<u64>) -> Pending<'_, Vec<Run>>;
}
