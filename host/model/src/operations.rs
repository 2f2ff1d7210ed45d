//! The operations the HTTP server asks of the engine, as a trait: the server depends on it
//! and not on the engine, so it builds without wasmtime, and its tests can serve an in-memory
//! implementation. `mageflow serve` hands it the real engine.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use mageflow_magento::MagentoClient;
use mageflow_store::{Approval, Decision, Queued, Run, Store};
use serde_json::Value;

use crate::error::Result;
use crate::event::Event;
use crate::metrics::Metrics;
use crate::workflow::Workflow;

/// An operation's answer in flight.
pub type Pending<'a, T> = Pin<Box<dyn Future<Output = Result<T>> + Send + 'a>>;

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
        cursor: Option<(&str, &Value)>,
    ) -> Result<Queued>;
    /// Queues one run and makes it durable.
    fn start(&self, workflow: &str, event: Event, requester: &str, dry_run: bool) -> Result<Run>;
    /// Executes or resumes a run; the run as it stands afterwards.
    fn execute(&self, id: u64) -> Pending<'_, Run>;
    /// Records a decision durably (resuming the run is the caller's).
    fn record_decision(
        &self,
        approval: u64,
        by: &str,
        groups: &[String],
        decision: &Decision,
    ) -> Result<Approval>;
    /// Runs a cron workflow's due ticks at `now` queued.
    fn cron_tick(&self, workflow: &str, now: u64) -> Result<Vec<u64>>;
    /// Polls a `poll` workflow once at `now`; the runs queued.
    fn poll<'a>(&'a self, workflow: &'a str, now: u64) -> Pending<'a, Vec<u64>>;
    /// Retrying runs due at `now`, taken off the wake-up list.
    fn due_retries(&self, now: u64) -> Vec<u64>;
    /// Runs waiting to retry, and the soonest next attempt (Unix seconds).
    fn retry_queue(&self) -> (usize, Option<u64>);
    /// Settles approvals whose time ran out and resumes their runs.
    fn expire_due(&self) -> Pending<'_, Vec<Run>>;
    /// Readies the unfinished runs for [`Operations::resume`].
    fn prepare_recovery(&self) -> Result<Vec<u64>>;
    /// Resumes the runs [`Operations::prepare_recovery`] named.
    fn resume(&self, runs: Vec<u64>) -> Pending<'_, Vec<Run>>;
}
