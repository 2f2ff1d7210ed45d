//! The engine: loaded workflows, queueing runs, executing and replaying them (one attempt at
//! a time: `attempt.rs`), and deciding approvals.

mod attempt;

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::sync::{Arc, Mutex, RwLock};

use mageflow_magento::MagentoClient;
use mageflow_model::{Deployed, EngineError, Event, Metrics, Result, Workflow, now_secs};
use mageflow_runtime::{Plugin, Runtime, fresh_seed};
use mageflow_store::{
    Approval, ApprovalStatus, CursorMove, Decision, NewRun, Queued, Run, Started, Status, Store,
};
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::journal::hex;

/// A workflow ready to run: what the server sees of it ([`Deployed`]: its definition, hash and
/// Magento client) and its plugin, compiled and pre-instantiated.
pub struct Loaded {
    deployed: Arc<Deployed>,
    plugin: Plugin,
}

impl Loaded {
    /// The workflow's Magento client.
    pub fn client(&self) -> &Arc<MagentoClient> {
        &self.deployed.client
    }

    /// What the server sees of it.
    pub fn deployed(&self) -> &Arc<Deployed> {
        &self.deployed
    }
}

impl std::ops::Deref for Loaded {
    type Target = Deployed;

    fn deref(&self) -> &Deployed {
        &self.deployed
    }
}

impl std::fmt::Debug for Loaded {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Loaded")
            .field("name", &self.def.name)
            .field("hash", &self.hash)
            .finish_non_exhaustive()
    }
}

/// The workflow engine.
#[derive(Debug)]
pub struct Engine {
    store: Store,
    runtime: Arc<Runtime>,
    workflows: RwLock<BTreeMap<String, Arc<Loaded>>>,
    /// Runs a worker is executing now: a run never executes twice at once. The flag says
    /// someone asked for the run while it executed (a decision that landed while the run was
    /// still suspending, say): the worker then looks again before letting go.
    active: Mutex<HashMap<u64, bool>>,
    metrics: Arc<Metrics>,
    /// Retrying runs by the time they are due, `(unix seconds, run)`: all a run waiting to
    /// retry holds in memory (rebuilt from the store at start).
    wakeups: Mutex<BTreeSet<(u64, u64)>>,
    /// Runs this worker claimed from a shared store and has not started executing yet.
    claimed: Mutex<HashMap<u64, Started>>,
}

/// Runs one worker executes at once; it claims no more from a shared store than it has room
/// for.
pub(crate) const CAPACITY: usize = 16;

/// A run's place in the active set, released when dropped.
struct Active<'a> {
    set: &'a Mutex<HashMap<u64, bool>>,
    id: u64,
    held: bool,
}

impl<'a> Active<'a> {
    /// Takes the run's place, or notes the request and answers `None` when a worker holds it.
    fn take(set: &'a Mutex<HashMap<u64, bool>>, id: u64) -> Option<Active<'a>> {
        let mut map = set.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(asked) = map.get_mut(&id) {
            *asked = true;
            return None;
        }
        map.insert(id, false);
        Some(Active {
            set,
            id,
            held: true,
        })
    }

    /// Either lets go of the run (`false`), or, when it was asked for meanwhile, clears the
    /// request and keeps it (`true`: look again). One lock, so no request is lost.
    fn again(&mut self) -> bool {
        let mut map = self.set.lock().unwrap_or_else(|e| e.into_inner());
        if map.get(&self.id) == Some(&true) {
            map.insert(self.id, false);
            return true;
        }
        map.remove(&self.id);
        self.held = false;
        false
    }
}

impl Drop for Active<'_> {
    fn drop(&mut self) {
        if self.held {
            self.set
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .remove(&self.id);
        }
    }
}

impl Engine {
    /// An engine over a store, running plugins on `runtime`.
    pub fn new(store: Store, runtime: Arc<Runtime>) -> Engine {
        Engine {
            store,
            runtime,
            workflows: RwLock::default(),
            active: Mutex::default(),
            metrics: Arc::default(),
            wakeups: Mutex::default(),
            claimed: Mutex::default(),
        }
    }

    /// Runs started or waiting to start on this worker.
    pub(crate) fn busy(&self) -> usize {
        let active = self.active.lock().unwrap_or_else(|e| e.into_inner()).len();
        active + self.claimed.lock().unwrap_or_else(|e| e.into_inner()).len()
    }

    /// Keeps runs claimed from the shared store for [`Engine::execute`]; their ids.
    pub(crate) fn keep_claimed(&self, runs: Vec<Started>) -> Vec<u64> {
        let mut claimed = self.claimed.lock().unwrap_or_else(|e| e.into_inner());
        runs.into_iter()
            .map(|s| {
                let id = s.run.id;
                claimed.insert(id, s);
                id
            })
            .collect()
    }

    /// What the engine counts (give it to Magento clients as their observer).
    pub fn metrics(&self) -> &Arc<Metrics> {
        &self.metrics
    }

    /// The store.
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// Loads a workflow: reads its plugin, keeps the bytes under their hash, compiles and
    /// pre-instantiates it (refused when its imports exceed the grants).
    pub fn add(&self, def: Workflow, client: Arc<MagentoClient>) -> Result<Arc<Loaded>> {
        let bytes = std::fs::read(&def.plugin).map_err(|source| EngineError::Plugin {
            path: def.plugin.display().to_string(),
            source,
        })?;
        self.add_bytes(def, &bytes, client)
    }

    /// [`Engine::add`] with the plugin's bytes at hand.
    pub fn add_bytes(
        &self,
        def: Workflow,
        bytes: &[u8],
        client: Arc<MagentoClient>,
    ) -> Result<Arc<Loaded>> {
        let hash = hex(&Sha256::digest(bytes));
        let plugin = self
            .runtime
            .load(&def.name, bytes, def.grants.clone())
            .map_err(EngineError::runtime)?;
        self.store.put_plugin(&hash, bytes)?;
        let loaded = Arc::new(Loaded {
            deployed: Arc::new(Deployed { def, hash, client }),
            plugin,
        });
        self.workflows
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .insert(loaded.def.name.clone(), loaded.clone());
        Ok(loaded)
    }

    /// Every loaded workflow, by name.
    pub fn workflows(&self) -> Vec<Arc<Loaded>> {
        self.workflows
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .values()
            .cloned()
            .collect()
    }

    /// A loaded workflow.
    pub fn workflow(&self, name: &str) -> Result<Arc<Loaded>> {
        let all = self.workflows.read().unwrap_or_else(|e| e.into_inner());
        all.get(name).cloned().ok_or_else(|| {
            EngineError::UnknownWorkflow(
                name.to_owned(),
                all.keys().cloned().collect::<Vec<_>>().join(", "),
            )
        })
    }

    /// Queues runs of a workflow, one per event, atomically with the dedupe key or the cursor
    /// move that produced them (see [`Store::queue`]).
    pub fn queue(
        &self,
        workflow: &str,
        events: &[Event],
        requester: &str,
        dry_run: bool,
        dedupe: Option<&str>,
        cursor: Option<CursorMove<'_>>,
    ) -> Result<Queued> {
        let loaded = self.workflow(workflow)?;
        let now = now_secs();
        let runs = events
            .iter()
            .map(|e| NewRun {
                workflow: workflow.to_owned(),
                plugin_hash: loaded.hash.clone(),
                trigger: serde_json::to_value(e).unwrap_or(Value::Null),
                requester: requester.to_owned(),
                dry_run,
                seed: fresh_seed(),
                now,
            })
            .collect();
        Ok(self.store.queue(runs, dedupe, cursor)?)
    }

    /// Queues a trigger's runs (`requester` names the trigger), under `dedupe` when given, in
    /// the transaction that moves its cursor; the ids queued (none when another worker fired
    /// the trigger first).
    pub(crate) fn queue_moving(
        &self,
        workflow: &str,
        events: &[Event],
        requester: &str,
        dedupe: Option<&str>,
        cursor: CursorMove<'_>,
    ) -> Result<Vec<u64>> {
        let queued = self.queue(workflow, events, requester, false, dedupe, Some(cursor))?;
        Ok(match queued {
            Queued::Runs(runs) => runs.into_iter().map(|r| r.id).collect(),
            Queued::Duplicate(_) | Queued::Moved => Vec::new(),
        })
    }

    /// Queues one run.
    pub fn start(
        &self,
        workflow: &str,
        event: Event,
        requester: &str,
        dry_run: bool,
    ) -> Result<Run> {
        let queued = self.queue(workflow, &[event], requester, dry_run, None, None)?;
        // Whoever started it is told it is queued: it must survive a crash.
        self.store.flush()?;
        match queued {
            Queued::Runs(mut runs) if !runs.is_empty() => Ok(runs.remove(0)),
            Queued::Duplicate(id) => Ok(self.store.run(id)?),
            Queued::Runs(_) | Queued::Moved => {
                Err(mageflow_store::Error::Corrupt("queueing one run answered none".into()).into())
            }
        }
    }

    /// Executes a run, or resumes it by replaying its journal. Returns the run as it stands
    /// afterwards: ended, or awaiting an approval. A run another worker is executing is left
    /// to it, and that worker looks again when it is done (a decision may have landed while
    /// the run was suspending).
    pub async fn execute(&self, id: u64) -> Result<Run> {
        let Some(mut active) = Active::take(&self.active, id) else {
            return Ok(self.store.run(id)?);
        };
        loop {
            let run = self.attempt(id).await?;
            if run.status.is_final() || !active.again() {
                return Ok(run);
            }
        }
    }

    /// Executes a run ([`Engine::execute`]) and answers it settled: ended, awaiting an
    /// approval or waiting to retry. A run another worker holds is looked at again every
    /// 50 ms (and claimed here, should that worker's lease run out) until it has settled.
    pub async fn settle(&self, id: u64) -> Result<Run> {
        let mut run = self.execute(id).await?;
        while !matches!(
            run.status,
            Status::Succeeded | Status::Failed | Status::AwaitingApproval | Status::Retrying
        ) {
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            run = self.execute(id).await?;
        }
        Ok(run)
    }

    /// Records `by`'s decision and makes it durable (the approver is told it is recorded).
    /// Refusals (self-approval, late, repeated, not an approver) name why. Resuming the run is
    /// the caller's: see [`Engine::decide`].
    /// `groups` are those `by` is in, for approvals that name a group (`group:NAME`).
    pub fn record_decision(
        &self,
        approval: u64,
        by: &str,
        groups: &[String],
        decision: &Decision,
    ) -> Result<Approval> {
        let now = now_secs();
        let settled = self.store.decide(approval, by, groups, decision, now)?;
        self.store.flush()?;
        if settled.status != ApprovalStatus::Pending {
            self.metrics.approval_settled(
                &settled.workflow,
                settled.status.name(),
                now.saturating_sub(settled.created_at),
            );
        }
        Ok(settled)
    }

    /// Records a decision; when it settles the approval, the run resumes (by replay) before
    /// this returns.
    pub async fn decide(
        &self,
        approval: u64,
        by: &str,
        decision: &Decision,
    ) -> Result<(Approval, Option<Run>)> {
        let settled = self.record_decision(approval, by, &[], decision)?;
        if settled.status == ApprovalStatus::Pending {
            return Ok((settled, None));
        }
        let run = self.execute(settled.run).await?;
        Ok((settled, Some(run)))
    }

    fn wake_at(&self, at: u64, run: u64) {
        self.wakeups
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert((at, run));
    }

    /// Retrying runs whose next attempt is due at `now`, taken off the wake-up list: the
    /// caller executes them (each resumes by replay).
    pub fn due_retries(&self, now: u64) -> Vec<u64> {
        let mut wakeups = self.wakeups.lock().unwrap_or_else(|e| e.into_inner());
        let later = wakeups.split_off(&(now + 1, 0));
        std::mem::replace(&mut *wakeups, later)
            .into_iter()
            .map(|(_, run)| run)
            .collect()
    }

    /// Runs waiting to retry, and the soonest next attempt (unix seconds).
    pub fn retry_queue(&self) -> (usize, Option<u64>) {
        let wakeups = self.wakeups.lock().unwrap_or_else(|e| e.into_inner());
        (wakeups.len(), wakeups.first().map(|(at, _)| *at))
    }

    /// Settles approvals whose time ran out and resumes their runs.
    pub async fn expire_due(&self) -> Result<Vec<Run>> {
        let now = now_secs();
        let mut resumed = Vec::new();
        for a in self.store.approvals(Some(ApprovalStatus::Pending))? {
            if let Some(lapsed) = self.store.expire(a.id, now)? {
                self.metrics.approval_settled(
                    &lapsed.workflow,
                    lapsed.status.name(),
                    now.saturating_sub(lapsed.created_at),
                );
                resumed.push(self.execute(a.run).await?);
            }
        }
        Ok(resumed)
    }

    /// After a restart, before deliveries are taken, in one pass over the runs: puts back
    /// the dedupe key of every run whose key a crash lost (see [`Store::queue`]), and names
    /// the runs to resume: every run that was queued or running, and every run whose
    /// approval was settled meanwhile. On a shared store, the runs due that no other worker
    /// holds.
    pub fn prepare_recovery(&self) -> Result<Vec<u64>> {
        if self.store.shared() {
            // Workers share the store: the runs due that no other worker holds. Those others
            // hold are claimed as their leases run out (see `Engine::claim_due`).
            return Ok(self.store.unclaimed(now_secs())?);
        }
        let settled: HashSet<u64> = self
            .store
            .approvals(None)?
            .iter()
            .filter(|a| a.status != ApprovalStatus::Pending)
            .map(|a| a.run)
            .collect();
        let mut resume = Vec::new();
        for run in self.store.runs(None)? {
            self.store.restore_dedupe_key(&run)?;
            let unfinished = match run.status {
                Status::Queued | Status::Running => true,
                Status::AwaitingApproval => settled.contains(&run.id),
                Status::Retrying => {
                    // Woken when its backoff has passed, not at once.
                    if let Some(r) = &run.retry {
                        self.wake_at(r.next_at, run.id);
                    }
                    false
                }
                Status::Succeeded | Status::Failed => false,
            };
            if unfinished {
                resume.push(run.id);
            }
        }
        Ok(resume)
    }

    /// Executes the runs [`Engine::prepare_recovery`] named, replaying what they had done.
    pub async fn resume(&self, runs: Vec<u64>) -> Result<Vec<Run>> {
        let mut out = Vec::new();
        for id in runs {
            out.push(self.execute(id).await?);
        }
        Ok(out)
    }

    /// After a restart: [`Engine::prepare_recovery`], then [`Engine::resume`].
    pub async fn recover(&self) -> Result<Vec<Run>> {
        let runs = self.prepare_recovery()?;
        self.resume(runs).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_request_for_a_busy_run_is_never_lost() {
        let set = Mutex::new(HashMap::new());
        let mut held = Active::take(&set, 7).expect("free at first");
        // A decision lands while the run is still suspending: its worker is told.
        assert!(Active::take(&set, 7).is_none());
        assert!(held.again(), "the worker looks again");
        // Nobody asked during the second look: the run is let go, and free again.
        assert!(!held.again());
        drop(held);
        assert!(Active::take(&set, 7).is_some());
    }
}
