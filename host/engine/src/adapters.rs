//! The adapters of one attempt at a run (its journaled gateway, approver, clock and state) and
//! the run options that hand them to the plugin, built in one place for a live attempt and for
//! the dry run that plans what an approval will let through.

use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex};

use mageflow_model::Metrics;
use mageflow_runtime::{Clock, Hooks, RunOptions, SystemClock};
use mageflow_store::{Approval, Entry, Run, Store};

use crate::approvals::StoreApprover;
use crate::engine::Loaded;
use crate::journal::{JournalClock, JournalState, Journaled};

/// What the adapters of one attempt share: where it journals, which run of which workflow,
/// whether it only plans, and who approved it (the approver sets it, the audit of the writes
/// that follow reads it).
#[derive(Debug)]
pub(crate) struct RunScope {
    /// The store the attempt journals into (the run's own, or a scratch one for a plan).
    pub(crate) store: Store,
    pub(crate) run: u64,
    pub(crate) workflow: String,
    pub(crate) requester: String,
    /// Writes are planned, approvals granted, state never written.
    pub(crate) dry_run: bool,
    pub(crate) approved_by: Mutex<Option<String>>,
}

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
        /// The approvals the run asked for before.
        approvals: Vec<Approval>,
        /// The workflow's state values when the run was claimed.
        states: Vec<(String, String)>,
    },
    /// A scratch store that is thrown away: every write planned, every approval granted, the
    /// workflow's state (as loaded) read but never written, the clock live.
    Scratch {
        /// Where the plan journals.
        scratch: Store,
        /// The workflow's state values.
        states: Vec<(String, String)>,
    },
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
    let (into, dry_run, calls, clock, state_reads, approvals, states) = match journal {
        Journal::Run {
            calls,
            clock,
            state,
            approvals,
            states,
        } => (
            store.clone(),
            run.dry_run,
            calls,
            Some(clock),
            state,
            approvals,
            states,
        ),
        Journal::Scratch { scratch, states } => (
            scratch,
            true,
            Vec::new(),
            None,
            Vec::new(),
            Vec::new(),
            states,
        ),
    };
    let scope = Arc::new(RunScope {
        store: into,
        run: run.id,
        workflow: run.workflow.clone(),
        requester: run.requester.clone(),
        dry_run,
        approved_by: Mutex::new(None),
    });
    let clock: Arc<dyn Clock> = match clock {
        Some(recorded) => Arc::new(JournalClock {
            scope: scope.clone(),
            recorded,
            next: AtomicU64::new(0),
        }),
        None => Arc::new(SystemClock),
    };
    let gateway = Arc::new(Journaled::new(
        scope.clone(),
        run,
        loaded,
        calls,
        metrics.clone(),
    ));
    let approver = Arc::new(StoreApprover::new(
        scope.clone(),
        loaded.def.approvals.clone(),
        approvals,
    ));
    let opts = RunOptions {
        gateway: gateway.clone(),
        limits: loaded.def.limits.clone(),
        approver: approver.clone(),
        gated: loaded.def.require_approval.clone(),
        config: loaded.def.config.clone(),
        hooks: Hooks {
            clock,
            // The workflow's state is the run's own even when planning: the plan must follow
            // the path the run will take.
            state: Arc::new(JournalState::new(scope, states, state_reads)),
            seed: Some(run.seed),
        },
    };
    Adapters {
        gateway,
        approver,
        opts,
    }
}
