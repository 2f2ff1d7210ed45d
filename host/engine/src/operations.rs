//! The engine as the HTTP server sees it: [`Operations`] over the engine's own methods.

use std::sync::Arc;

use mageflow_model::{
    Background, Deployed, Dispatch, Event, Metrics, Operations, Pending, Result, now_secs,
};
use mageflow_store::{Approval, CursorMove, Decision, Queued, Run, Store};

use crate::engine::Engine;

impl Operations for Engine {
    fn store(&self) -> &Store {
        Engine::store(self)
    }

    fn metrics(&self) -> &Arc<Metrics> {
        Engine::metrics(self)
    }

    fn workflows(&self) -> Vec<Arc<Deployed>> {
        Engine::workflows(self)
            .iter()
            .map(|l| l.deployed().clone())
            .collect()
    }

    fn workflow(&self, name: &str) -> Result<Arc<Deployed>> {
        Ok(Engine::workflow(self, name)?.deployed().clone())
    }

    fn queue(
        &self,
        workflow: &str,
        events: &[Event],
        requester: &str,
        dry_run: bool,
        dedupe: Option<&str>,
        cursor: Option<CursorMove<'_>>,
    ) -> Result<Queued> {
        Engine::queue(self, workflow, events, requester, dry_run, dedupe, cursor)
    }

    fn start(&self, workflow: &str, event: Event, requester: &str, dry_run: bool) -> Result<Run> {
        Engine::start(self, workflow, event, requester, dry_run)
    }

    fn execute(&self, id: u64) -> Pending<'_, Run> {
        Box::pin(Engine::execute(self, id))
    }

    fn settle(&self, id: u64) -> Pending<'_, Run> {
        Box::pin(Engine::settle(self, id))
    }

    fn record_decision(
        &self,
        approval: u64,
        by: &str,
        groups: &[String],
        decision: &Decision,
    ) -> Result<Approval> {
        Engine::record_decision(self, approval, by, groups, decision)
    }

    fn run_triggers(&self, dispatch: Dispatch) -> Background<'_> {
        Box::pin(async move { Engine::run_triggers(self, &now_secs, &*dispatch).await })
    }

    fn retry_queue(&self) -> (usize, Option<u64>) {
        Engine::retry_queue(self)
    }

    fn prepare_recovery(&self) -> Result<Vec<u64>> {
        Engine::prepare_recovery(self)
    }

    fn resume(&self, runs: Vec<u64>) -> Pending<'_, Vec<Run>> {
        Box::pin(Engine::resume(self, runs))
    }
}
