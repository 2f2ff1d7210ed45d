//! The journal between a run's host calls and Magento: every call is recorded with a digest
//! of its arguments and its answer; on replay the recorded answer comes back and nothing is
//! sent. A write's intent is made durable before the write is sent, so after a crash a write
//! whose answer was lost is known to be in doubt, and is reconciled (looked up, re-applied
//! only where it did not land), never blindly repeated: by `MagentoClient::write`, the same
//! check the client makes when an answer is lost on the wire. A call that keeps failing for
//! a transient reason is not answered at all but postponed, under the workflow's retry policy
//! (see `mageflow_model::RetryPolicy`). A dry run plans writes instead of sending them. The
//! run's clock readings and state reads are journaled the same way.
//!
//! Here: replay, recording and batching. [`writes`]: the exactly-once writes and their
//! audit. [`plan`]: the dry-run planner. [`clock`] and [`state`]: the journaled clock and
//! state.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use mageflow_magento::MagentoClient;
use mageflow_model::{Metrics, RetryPolicy, now_secs};
use mageflow_runtime::{Call, Failure, Gateway, Pending, Reply};
use mageflow_store::{Entry, EntryState, Error as StoreError, Hold, Retrying};
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::adapters::RunScope;

mod clock;
mod plan;
mod state;
mod writes;

pub(crate) use clock::JournalClock;
pub(crate) use state::JournalState;

/// A run's journaled gateway.
#[derive(Debug)]
pub(crate) struct Journaled {
    pub(crate) scope: Arc<RunScope>,
    /// When the run was created: no write of it was sent earlier (a bulk in doubt is looked
    /// for in Magento's operation log from here).
    since: u64,
    pub(crate) client: Arc<MagentoClient>,
    /// What the journal held when the run (re)started.
    pub(crate) recorded: Vec<Entry>,
    pub(crate) next: AtomicU64,
    /// Set at the first divergence; every later call is refused and the run fails with it.
    pub(crate) diverged: Mutex<Option<String>>,
    /// A dry run's planned writes.
    pub(crate) plan: Mutex<Vec<Value>>,
    /// Answered calls not yet written: reads need no durability before the run goes on (a
    /// lost one is simply asked again on replay), so they are written in batches, and always
    /// before the next write's intent, which keeps the journal in call order.
    pub(crate) pending: Mutex<Vec<Entry>>,
    metrics: Arc<Metrics>,
    /// The workflow's retry policy for transient failures.
    retry: RetryPolicy,
    /// Where the run's retries stood when this attempt began.
    retried: Option<Retrying>,
    /// Set when this attempt stopped to retry a call later.
    postponed: Mutex<Option<Retrying>>,
    /// Set when the attempt must stop without an end (the lease was lost, the store stopped
    /// answering): every call from then on stops the plugin.
    halted: Mutex<Option<Halt>>,
}

/// Why an attempt stopped without writing its end: this worker sends and writes nothing
/// more for the run, which carries on by replay, on whichever worker claims it next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Halt {
    /// Another worker took the run over, or this worker's lease ran out.
    LeaseLost,
    /// The store stopped answering (PostgreSQL is down): the run's end cannot be written.
    StoreDown(String),
}

/// Answered calls kept in memory before a batch is written.
const BATCH: usize = 256;

/// Lowercase hex of some bytes.
pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// What a call's arguments digest to (passwords are never serialized).
pub(crate) fn digest(call: &Call) -> String {
    hex(&Sha256::digest(
        serde_json::to_vec(call).unwrap_or_default(),
    ))
}

fn stored(e: impl std::fmt::Display) -> Failure {
    Failure::Unavailable(format!("the run's journal could not be written: {e}"))
}

/// What a call answers once the attempt is halted: it stops the plugin (as a postponed call
/// does) and the engine gives the run up without writing anything more.
fn halting(why: &Halt) -> Failure {
    Failure::Postponed {
        reason: match why {
            Halt::LeaseLost => "lease lost: another worker holds the run now".into(),
            Halt::StoreDown(e) => format!("the store stopped answering: {e}"),
        },
        after: Duration::ZERO,
    }
}

impl Gateway for Journaled {
    fn call(&self, call: Call) -> Pending<'_> {
        Box::pin(async move {
            let name = call.name();
            let started = Instant::now();
            let answer = self.answer(call).await;
            self.metrics
                .host_call(name, answer.is_ok(), started.elapsed());
            answer
        })
    }
}

impl Journaled {
    /// A journal for `run` in `scope`, starting from what was `recorded`.
    pub(crate) fn new(
        scope: Arc<RunScope>,
        run: &mageflow_store::Run,
        loaded: &crate::Loaded,
        recorded: Vec<Entry>,
        metrics: Arc<Metrics>,
    ) -> Journaled {
        Journaled {
            scope,
            since: run.created_at,
            client: loaded.client().clone(),
            recorded,
            next: AtomicU64::new(0),
            diverged: Mutex::new(None),
            plan: Mutex::new(Vec::new()),
            pending: Mutex::new(Vec::new()),
            metrics,
            retry: loaded.def.retry.clone(),
            retried: run.retry.clone(),
            postponed: Mutex::new(None),
            halted: Mutex::new(None),
        }
    }

    /// Why the attempt halted, if it did.
    pub(crate) fn halted(&self) -> Option<Halt> {
        self.halted
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Halts the attempt (the first reason stands): what the call answers.
    fn halt(&self, why: Halt) -> Failure {
        let mut halted = self.halted.lock().unwrap_or_else(|e| e.into_inner());
        halting(halted.get_or_insert(why))
    }

    /// `Ok` while the run is still this worker's to send `timeout`-long requests for; the
    /// halting answer when not.
    fn holds(&self, timeout: Duration) -> Result<(), Failure> {
        if let Some(why) = self.halted() {
            return Err(halting(&why));
        }
        let hold = self.scope.store.hold(self.scope.run);
        if hold.allows(timeout) {
            return Ok(());
        }
        if hold != Hold::Lost {
            tracing::warn!(run = self.scope.run, left = ?hold, timeout = ?timeout, "the lease has less time left than a request may take: giving the run up unsent");
        }
        Err(self.halt(Halt::LeaseLost))
    }

    /// A store error as the call's answer: a lost lease or a store that stopped answering
    /// halts the attempt.
    fn stored(&self, e: StoreError) -> Failure {
        match e {
            StoreError::LeaseLost(_) => self.halt(Halt::LeaseLost),
            StoreError::Unavailable(why) => self.halt(Halt::StoreDown(why)),
            e => stored(e),
        }
    }

    async fn answer(&self, call: Call) -> Result<Reply, Failure> {
        let timeout = self.client.connection().timeout;
        self.holds(timeout)?;
        let answer = self.answer_held(call, timeout).await;
        // An answer that came after the lease was lost goes nowhere: not to the plugin, not
        // to the journal.
        if let Some(why) = self.halted() {
            return Err(halting(&why));
        }
        if self.scope.store.hold(self.scope.run) == Hold::Lost {
            return Err(self.halt(Halt::LeaseLost));
        }
        answer
    }

    async fn answer_held(&self, call: Call, timeout: Duration) -> Result<Reply, Failure> {
        if let Some(why) = self
            .diverged
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
        {
            return Err(Failure::Unavailable(why));
        }
        let seq = self.next.fetch_add(1, Ordering::SeqCst);
        let name = call.name();
        let digest = digest(&call);
        if let Some(entry) = self.recorded.get(seq as usize) {
            if entry.call != name || entry.digest != digest {
                let why = if entry.call == name {
                    format!(
                        "the plugin diverged from its recorded history at call {seq}: {name} was recorded with other arguments"
                    )
                } else {
                    format!(
                        "the plugin diverged from its recorded history at call {seq}: the journal has {}, the plugin now calls {name}",
                        entry.call
                    )
                };
                *self.diverged.lock().unwrap_or_else(|e| e.into_inner()) = Some(why.clone());
                return Err(Failure::Unavailable(why));
            }
            if let EntryState::Done { result } = &entry.state {
                return serde_json::from_str::<Result<Reply, Failure>>(result.get()).map_err(
                    |e| Failure::Unavailable(format!("journal entry {seq} is unreadable: {e}")),
                )?;
            }
            // Recorded as intent only: the write may or may not have landed.
            let result = self.postpone(seq, name, self.reconcile(call).await)?;
            self.done(seq, name, &digest, &result)?;
            return result;
        }
        let result = if call.writes() && self.scope.dry_run {
            self.plan(call).await
        } else if call.writes() {
            self.write_pending()?;
            self.scope
                .store
                .record(
                    self.scope.run,
                    &Entry {
                        seq,
                        call: name.into(),
                        digest: digest.clone(),
                        state: EntryState::Intent,
                    },
                )
                .map_err(|e| self.stored(e))?;
            self.scope
                .store
                .blocking(|s| s.flush())
                .await
                .map_err(|e| self.stored(e))?;
            // The intent is durable and fenced: the write goes only while the lease outlives
            // the request.
            self.holds(timeout)?;
            self.write(call, false).await
        } else {
            Gateway::call(&*self.client, call).await
        };
        let result = self.postpone(seq, name, result)?;
        self.done(seq, name, &digest, &result)?;
        result
    }

    /// A transient failure the workflow's retry policy will wait out becomes
    /// [`Failure::Postponed`]: the run stops at this call without journaling an answer (a
    /// write's intent stays, so the next attempt reconciles it). Any other result is the
    /// call's answer.
    fn postpone(
        &self,
        seq: u64,
        name: &str,
        result: Result<Reply, Failure>,
    ) -> Result<Result<Reply, Failure>, Failure> {
        let Err(failure) = &result else {
            return Ok(result);
        };
        if self.scope.dry_run || !failure.is_transient() {
            return Ok(result);
        }
        let jitter = f64::from(mageflow_runtime::fresh_seed()[0]) / 256.0;
        let reason = failure.to_string();
        let Some((state, after)) = self.retry.next(
            self.retried.as_ref(),
            seq,
            name,
            &reason,
            now_secs(),
            jitter,
        ) else {
            tracing::warn!(run = self.scope.run, call = name, error = %reason, "the retry policy gave up: the plugin gets the failure");
            return Ok(result);
        };
        tracing::info!(run = self.scope.run, call = name, attempt = state.attempts, wait_s = after.as_secs(), error = %reason, "postponing the run");
        *self.postponed.lock().unwrap_or_else(|e| e.into_inner()) = Some(state);
        Err(Failure::Postponed { reason, after })
    }

    /// The retry state the run stopped with, if a call was postponed.
    pub(crate) fn postponed(&self) -> Option<Retrying> {
        self.postponed
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    fn done(
        &self,
        seq: u64,
        name: &str,
        digest: &str,
        result: &Result<Reply, Failure>,
    ) -> Result<(), Failure> {
        let result = serde_json::value::to_raw_value(result).map_err(stored)?;
        let full = {
            let mut pending = self.pending.lock().unwrap_or_else(|e| e.into_inner());
            pending.push(Entry {
                seq,
                call: name.into(),
                digest: digest.into(),
                state: EntryState::Done { result },
            });
            pending.len() >= BATCH
        };
        if full {
            self.write_pending()?;
        }
        Ok(())
    }

    /// Writes the answered calls kept in memory.
    pub(crate) fn write_pending(&self) -> Result<(), Failure> {
        let batch = std::mem::take(&mut *self.pending.lock().unwrap_or_else(|e| e.into_inner()));
        if batch.is_empty() {
            return Ok(());
        }
        self.scope
            .store
            .record_all(self.scope.run, &batch)
            .map_err(|e| self.stored(e))
    }

    /// The first divergence, if any.
    pub(crate) fn divergence(&self) -> Option<String> {
        self.diverged
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }
}
