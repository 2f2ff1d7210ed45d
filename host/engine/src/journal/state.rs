//! The workflow's state between runs, each read journaled.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use mageflow_store::Store;

use crate::adapters::RunScope;

/// The workflow's `runtime.state-*` values, kept in the store; each read is journaled so a
/// replay reads what the run read, even after later runs changed the value.
#[derive(Debug)]
pub(crate) struct JournalState {
    scope: Arc<RunScope>,
    /// Where the workflow's state lives: the run's own store, also when the scope is a
    /// scratch one for a plan.
    state: Store,
    recorded: Vec<Option<String>>,
    next: AtomicU64,
}

impl JournalState {
    /// The state of the scope's workflow in `state`, replaying the reads `recorded` first. A
    /// dry run reads the stored values and keeps its writes to itself.
    pub(crate) fn new(
        scope: Arc<RunScope>,
        state: Store,
        recorded: Vec<Option<String>>,
    ) -> JournalState {
        JournalState {
            scope,
            state,
            recorded,
            next: AtomicU64::new(0),
        }
    }
}

impl mageflow_runtime::StateStore for JournalState {
    fn get(&self, key: &str) -> Option<String> {
        if self.scope.dry_run {
            return self.state.state(&self.scope.workflow, key).ok().flatten();
        }
        let seq = self.next.fetch_add(1, Ordering::SeqCst);
        if let Some(v) = self.recorded.get(seq as usize) {
            return v.clone();
        }
        let live = self.state.state(&self.scope.workflow, key).unwrap_or_else(|e| {
            tracing::error!(run = self.scope.run, error = %e, "workflow state could not be read");
            None
        });
        if let Err(e) = self
            .state
            .record_state_read(self.scope.run, seq, live.as_deref())
        {
            tracing::error!(run = self.scope.run, error = %e, "a state read could not be journaled");
        }
        live
    }

    fn set(&self, key: &str, value: &str) {
        if self.scope.dry_run {
            return;
        }
        if let Err(e) = self.state.set_state(&self.scope.workflow, key, value) {
            tracing::error!(run = self.scope.run, error = %e, "workflow state could not be written");
        }
    }
}
