//! The adapters of one attempt at a run (its journaled gateway, approver, clock and state) and
//! the run options that hand them to the plugin, built in one place for a live attempt and for
//! the dry run that plans what an approval will let through.

use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex};

use mageflow_model::Metrics;
use mageflow_runtime::{Clock, Hooks, RunOptions, SystemClock};
use mageflow_store::{Entry, Run, Store};

use crate::approvals::StoreApprover;
use crate::engine::Loaded;
use crate::journal::{JournalClock, JournalState, Journaled};

/// Where an attempt journals.
pub(crate) enum Journal {
    /// The run's own journal, replaying what it already holds.
    Run {
        /// Host calls answered before.
        calls: Vec<Entry>,
        /// Clock readings, in order.
        clock: Vec<u128>,
        /// State reads, in order.
        state: Vec<Option<String>>,
    },
    /// A scratch store that is thrown away: every write planned, every approval granted, the
    /// workflow's state read but never written, the clock live.
    Scratch(Store),
}

/// One attempt's adapters: the options for the plugin, and the two the engine reads after.
pub(crate) struct Adapters {
    pub(crate) gateway: Arc<Journaled>,
    pub(crate) approver: Arc<StoreApprover>,
    pub(crate) opts: RunOptions,
}

/// Builds the adapters of an attempt at `run` of `loaded`, over `store` (the run's own).
pub(crate) fn adapters(
    store: &Store,
    metrics: &Arc<Metrics>,
    loaded: &Loaded,
    run: &Run,
    journal: Journal,
) -> Adapters {
    let approved_by = Arc::new(Mutex::new(None));
    let (into, dry_run, calls, clock, state_reads): (_, _, _, Arc<dyn Clock>, _) = match journal {
        Journal::Run {
            calls,
            clock,
            state,
        } => (
            store.clone(),
            run.dry_run,
            calls,
            Arc::new(JournalClock {
                store: store.clone(),
                run: run.id,
                recorded: clock,
                next: AtomicU64::new(0),
            }),
            state,
        ),
        Journal::Scratch(scratch) => (scratch, true, Vec::new(), Arc::new(SystemClock), Vec::new()),
    };
    let gateway = Arc::new(Journaled::new(
        into.clone(),
        run,
        loaded,
        dry_run,
        calls,
        approved_by.clone(),
        metrics.clone(),
    ));
    let approver = Arc::new(StoreApprover {
        store: into,
        run: run.id,
        workflow: run.workflow.clone(),
        requester: run.requester.clone(),
        policy: loaded.def.approvals.clone(),
        dry_run,
        approved_by,
        waiting: Mutex::new(None),
    });
    let opts = RunOptions {
        gateway: gateway.clone(),
        limits: loaded.def.limits.clone(),
        approver: approver.clone(),
        gated: loaded.def.require_approval.clone(),
        config: loaded.def.config.clone(),
        hooks: Hooks {
            clock,
            // The workflow's state is read from the run's own store even when planning: the
            // plan must follow the path the run will take.
            state: Arc::new(JournalState::new(store.clone(), run, state_reads, dry_run)),
            seed: Some(run.seed),
        },
    };
    Adapters {
        gateway,
        approver,
        opts,
    }
}
