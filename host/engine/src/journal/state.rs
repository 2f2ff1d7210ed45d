//! The workflow's state between runs, each read journaled.

use std::sync::atomic::{AtomicU64, Ordering};

use mageflow_store::Store;

/// The workflow's `runtime.state-*` values, kept in the store; each read is journaled so a
/// replay reads what the run read, even after later runs changed the value.
#[derive(Debug)]
pub(crate) struct JournalState {
    store: Store,
    run: u64,
    workflow: String,
    recorded: Vec<Option<String>>,
    next: AtomicU64,
    /// A dry run reads the stored values and keeps its writes to itself.
    dry_run: bool,
}

impl JournalState {
    /// The state of `run`'s workflow, replaying the reads `recorded` first.
    pub(crate) fn new(
        store: Store,
        run: &mageflow_store::Run,
        recorded: Vec<Option<String>>,
        dry_run: bool,
    ) -> JournalState {
        JournalState {
            store,
            run: run.id,
            workflow: run.workflow.clone(),
            recorded,
            next: AtomicU64::new(0),
            dry_run,
        }
    }
}

impl mageflow_runtime::StateStore for JournalState {
    fn get(&self, key: &str) -> Option<String> {
        if self.dry_run {
            return self.store.state(&self.workflow, key).ok().flatten();
        }
        let seq = self.next.fetch_add(1, Ordering::SeqCst);
        if let Some(v) = self.recorded.get(seq as usize) {
            return v.clone();
        }
        let live = self.store.state(&self.workflow, key).unwrap_or_else(|e| {
            tracing::error!(run = self.run, error = %e, "workflow state could not be read");
            None
        });
        if let Err(e) = self.store.record_state_read(self.run, seq, live.as_deref()) {
            tracing::error!(run = self.run, error = %e, "a state read could not be journaled");
        }
        live
    }

    fn set(&self, key: &str, value: &str) {
        if self.dry_run {
            return;
        }
        if let Err(e) = self.store.set_state(&self.workflow, key, value) {
            tracing::error!(run = self.run, error = %e, "workflow state could not be written");
        }
    }
}
