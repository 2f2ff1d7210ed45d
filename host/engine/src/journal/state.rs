//! The workflow's state between runs, each read journaled.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use crate::adapters::RunScope;

/// The workflow's `runtime.state-*` values, as loaded when the run was claimed (so a read
/// never waits on the store); each read is journaled so a replay reads what the run read,
/// even after later runs changed the value. A value the run sets is read back by the run
/// and stored with its journal, at its next durable point.
#[derive(Debug)]
pub(crate) struct JournalState {
    scope: Arc<RunScope>,
    values: Mutex<HashMap<String, String>>,
    recorded: Vec<Option<String>>,
    next: AtomicU64,
}

impl JournalState {
    /// The state of the scope's workflow (`values`, as loaded), replaying the reads
    /// `recorded` first. A dry run reads the values and keeps its writes to itself.
    pub(crate) fn new(
        scope: Arc<RunScope>,
        values: Vec<(String, String)>,
        recorded: Vec<Option<String>>,
    ) -> JournalState {
        JournalState {
            scope,
            values: Mutex::new(values.into_iter().collect()),
            recorded,
            next: AtomicU64::new(0),
        }
    }

    fn value(&self, key: &str) -> Option<String> {
        self.values
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(key)
            .cloned()
    }
}

impl mageflow_runtime::StateStore for JournalState {
    fn get(&self, key: &str) -> Option<String> {
        if self.scope.dry_run {
            return self.value(key);
        }
        let seq = self.next.fetch_add(1, Ordering::SeqCst);
        if let Some(v) = self.recorded.get(seq as usize) {
            return v.clone();
        }
        let live = self.value(key);
        if let Err(e) = self
            .scope
            .store
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
        self.values
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(key.to_owned(), value.to_owned());
        if let Err(e) =
            self.scope
                .store
                .record_state(self.scope.run, &self.scope.workflow, key, value)
        {
            tracing::error!(run = self.scope.run, error = %e, "workflow state could not be written");
        }
    }
}
