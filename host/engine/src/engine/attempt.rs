//! One attempt at a run: claiming it (from this worker's claim loop, or by its id), loading
//! what the plugin will read, running the plugin under a guard that stops every request to
//! Magento once the run's lease is lost, and writing how it ended; or, when the lease was
//! lost or the store stopped answering, giving the run up without writing anything more.

use std::sync::Arc;
use std::time::Instant;

use mageflow_model::{EngineError, Event, Result, now_secs};
use mageflow_runtime::Plugin;
use mageflow_store::{Approval, ApprovalStatus, Hold, Run, Started, Status, Store};
use serde_json::{Value, json};
use tracing::Instrument as _;

use super::{Engine, Loaded};
use crate::adapters::{Adapters, Journal, adapters};
use crate::event::plugin_trigger;
use crate::journal::Halt;

/// What an attempt reads of its run's past, loaded when the run is claimed.
#[derive(Default)]
struct History {
    calls: Vec<mageflow_store::Entry>,
    clock: Vec<u128>,
    state_reads: Vec<Option<String>>,
    approvals: Vec<Approval>,
    /// The workflow's state values.
    states: Vec<(String, String)>,
}

/// How an attempt at a run ended.
#[derive(Clone)]
struct Ending {
    status: Status,
    retry: Option<mageflow_store::Retrying>,
    summary: Option<String>,
    output_json: Option<String>,
    error: Option<String>,
    log: Vec<(String, String)>,
    plan: Vec<Value>,
}

impl Ending {
    fn failed(error: String, log: Vec<(String, String)>, plan: Vec<Value>) -> Ending {
        Ending {
            status: Status::Failed,
            retry: None,
            summary: None,
            output_json: None,
            error: Some(error),
            log,
            plan,
        }
    }
}

/// An attempt's claim: when the attempt is dropped before its end was written, the lease is
/// let go of (after its end, there is none left to let go of).
struct Held<'a> {
    store: &'a Store,
    id: u64,
}

impl Drop for Held<'_> {
    fn drop(&mut self) {
        if self.store.hold(self.id) != Hold::Unleased {
            self.store.release(self.id);
        }
    }
}

impl Engine {
    /// Claims the run (one this worker's claim loop took already, or by its id), or answers
    /// it as stored when another worker holds it (or this worker's claim loop does, and
    /// hands it over in a moment).
    async fn claim(&self, id: u64) -> Result<std::result::Result<Started, Run>> {
        let taken = || {
            self.claimed
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .remove(&id)
        };
        if let Some(started) = taken() {
            return Ok(Ok(started));
        }
        let now = now_secs();
        let begun = self
            .store
            .blocking(move |s| match s.begin_attempt(id, now)? {
                Some(started) => Ok(Ok(started)),
                None => s.run(id).map(Err),
            })
            .await?;
        Ok(match begun {
            Err(held) => taken().ok_or(held),
            claimed => claimed,
        })
    }

    /// Gives up a run whose lease was lost: nothing more is sent or written for it, and the
    /// worker that took it over (or takes it once the lease has run out) carries on.
    fn lease_lost(&self, id: u64) -> EngineError {
        self.store.release(id);
        self.metrics.lease_lost();
        tracing::warn!(run = id, worker = %self.store.worker(), "lease lost: another worker took the run over (or will once the lease runs out); this worker stopped it and writes nothing more for it");
        mageflow_store::Error::LeaseLost(id).into()
    }

    /// Gives up a run whose journal or end could not be written because the store stopped
    /// answering: nothing acknowledged is lost, and the run carries on by replay once the
    /// store answers again and its lease has run out (on any worker).
    fn store_down(&self, id: u64, why: String) -> EngineError {
        self.store.release(id);
        tracing::warn!(run = id, error = %why, "the store stopped answering in the middle of the run: it is left as it stood, and resumed by replay once the store is back");
        mageflow_store::Error::Unavailable(why).into()
    }

    /// A store error met in the middle of an attempt: a lost lease or a store that stopped
    /// answering gives the run up ([`Engine::lease_lost`], [`Engine::store_down`]); any other
    /// is the attempt's error.
    fn stopped(&self, id: u64, e: mageflow_store::Error) -> EngineError {
        match e {
            mageflow_store::Error::LeaseLost(_) => self.lease_lost(id),
            mageflow_store::Error::Unavailable(why) => self.store_down(id, why),
            e => e.into(),
        }
    }

    /// Whether this worker lost the run's lease.
    fn lost(&self, id: u64) -> bool {
        self.store.hold(id) == Hold::Lost
    }

    /// One attempt at a run, its place in the active set held by the caller.
    pub(super) async fn attempt(&self, id: u64) -> Result<Run> {
        let begun = match self.claim(id).await? {
            Ok(started) => started,
            Err(held_elsewhere) => return Ok(held_elsewhere),
        };
        // Should this attempt be dropped half way (a caller that stopped waiting), its lease
        // is let go of rather than renewed for nobody.
        let _held = Held {
            store: &self.store,
            id,
        };
        let run = &begun.run;
        if run.status.is_final() {
            return Ok(run.clone());
        }
        let workflow = run.workflow.clone();
        // What the attempt reads while the plugin runs is loaded now, so no hook waits on the
        // store. A first attempt has recorded nothing: no scans. (Had a crash kept a record
        // of an attempt whose start it lost, no write was sent in it: a write's intent is
        // flushed, and that flush would have kept the start too. Its reads are simply asked
        // again.)
        let first = run.attempts == 1;
        let history = self
            .store
            .blocking(move |s| -> mageflow_store::Result<History> {
                let states = s.states(&workflow)?;
                if first {
                    return Ok(History {
                        states,
                        ..History::default()
                    });
                }
                Ok(History {
                    calls: s.journal(id)?,
                    clock: s.clock_readings(id)?,
                    state_reads: s.state_reads(id)?,
                    approvals: s.approvals_of(id)?,
                    states,
                })
            })
            .await;
        let history = history.map_err(|e| self.stopped(id, e))?;
        let loaded = match self.workflow(&run.workflow) {
            Ok(l) => l,
            Err(e) => {
                return self
                    .finish(
                        &begun,
                        &Ending::failed(e.to_string(), Vec::new(), Vec::new()),
                    )
                    .await;
            }
        };
        let pinned;
        let plugin = if loaded.hash == run.plugin_hash {
            &loaded.plugin
        } else {
            let bytes = self
                .store
                .plugin(&run.plugin_hash)?
                .ok_or_else(|| EngineError::PinnedPluginMissing(id, run.plugin_hash.clone()))?;
            pinned = self
                .runtime
                .load(&loaded.def.name, &bytes, loaded.def.grants.clone())
                .map_err(EngineError::runtime)?;
            &pinned
        };
        let event: Event = serde_json::from_value(run.trigger.clone()).map_err(|e| {
            mageflow_store::Error::Corrupt(format!("run {id} has an unreadable trigger: {e}"))
        })?;
        let expired = self.expire_found(history.approvals).await;
        let Adapters {
            gateway,
            approver,
            opts,
        } = adapters(
            &self.store,
            &self.metrics,
            &loaded,
            run,
            Journal::Run {
                calls: history.calls,
                clock: history.clock,
                state: history.state_reads,
                approvals: expired,
                states: history.states,
            },
        );
        let started = Instant::now();
        let span = tracing::info_span!("run", run = id, workflow = %run.workflow);
        let trigger = plugin_trigger(&event);
        let running = plugin.run(&trigger, &opts).instrument(span);
        let report = if self.store.shared() {
            // Every request to Magento first asks whether this worker still holds the run,
            // long enough for the request's timeout.
            let store = self.store.clone();
            let guard: mageflow_magento::Guard = Arc::new(move |timeout| {
                if store.hold(id).allows(timeout) {
                    Ok(())
                } else {
                    Err(format!(
                        "lease lost on run {id}: this worker no longer holds it for as long as a request may take"
                    ))
                }
            });
            mageflow_magento::guarded(guard, running).await
        } else {
            running.await
        };
        if let Err(e) = gateway.write_pending() {
            tracing::error!(run = id, error = %e, "the run's last answers could not be journaled");
        }
        match gateway.halted() {
            Some(Halt::LeaseLost) => return Err(self.lease_lost(id)),
            Some(Halt::StoreDown(why)) => return Err(self.store_down(id, why)),
            None if self.lost(id) => return Err(self.lease_lost(id)),
            None => {}
        }
        let log: Vec<(String, String)> = report
            .log
            .into_iter()
            .map(|l| (l.level.to_owned(), l.message))
            .collect();
        let plan = std::mem::take(&mut *gateway.plan.lock().unwrap_or_else(|e| e.into_inner()));
        let waiting = *approver.waiting.lock().unwrap_or_else(|e| e.into_inner());
        let end = match (gateway.divergence(), report.outcome) {
            (Some(why), _) => Ending::failed(why, log, plan),
            (None, Ok(Ok(outcome))) => Ending {
                status: Status::Succeeded,
                retry: None,
                summary: Some(outcome.summary),
                output_json: outcome.output_json,
                error: None,
                log,
                plan,
            },
            (None, Ok(Err(message))) => Ending::failed(message, log, plan),
            (None, Err(mageflow_runtime::Error::Suspended(title))) => {
                let planning = Planning {
                    loaded: &loaded,
                    plugin,
                    event: &event,
                    run,
                };
                let approval = match approver.opening() {
                    // A new request: opened with its plan, so nobody sees it without one.
                    Some(new) => self
                        .open_planned(new, &planning)
                        .await
                        .map_err(|e| self.stopped(id, e))?,
                    None => {
                        let waiting = waiting.unwrap_or(0);
                        self.plan_if_missing(waiting, &planning).await;
                        waiting
                    }
                };
                Ending {
                    status: Status::AwaitingApproval,
                    retry: None,
                    summary: None,
                    output_json: None,
                    error: Some(format!("waiting for approval {approval}: {title}")),
                    log,
                    plan,
                }
            }
            (None, Err(mageflow_runtime::Error::Postponed { reason, .. })) => {
                let retry = gateway.postponed();
                let next = retry.as_ref().map_or(0, |r| r.next_at);
                let attempt = retry.as_ref().map_or(0, |r| r.attempts);
                Ending {
                    status: Status::Retrying,
                    retry,
                    summary: None,
                    output_json: None,
                    error: Some(format!(
                        "retrying at {} (attempt {attempt} failed): {reason}",
                        mageflow_model::utc_text(next)
                    )),
                    log,
                    plan,
                }
            }
            (None, Err(e)) => Ending::failed(e.to_string(), log, plan),
        };
        let ended = self.finish(&begun, &end).await;
        if ended.is_ok() {
            self.metrics
                .run_ended(&run.workflow, end.status.name(), started.elapsed());
        }
        ended
    }

    async fn finish(&self, begun: &Started, end: &Ending) -> Result<Run> {
        let id = begun.run.id;
        let (started, ending) = (begun.clone(), end.clone());
        // A run waiting for people is made durable with its approval: they will act on it;
        // and a run that waits to retry, which holds nothing but its wake-up. Any other end
        // is not flushed: if a crash loses it, the run is replayed from its journal, and the
        // replay repeats no write.
        let durable = end.status == Status::AwaitingApproval || end.retry.is_some();
        let ended = self
            .store
            .blocking(move |s| {
                let run = s.end_attempt(&started, |r| {
                    r.status = ending.status;
                    r.summary.clone_from(&ending.summary);
                    r.output_json.clone_from(&ending.output_json);
                    r.error.clone_from(&ending.error);
                    r.retry.clone_from(&ending.retry);
                    r.log.clone_from(&ending.log);
                    if !ending.plan.is_empty() {
                        r.plan.clone_from(&ending.plan);
                    }
                    r.updated_at = now_secs();
                })?;
                if durable {
                    s.flush()?;
                }
                Ok(run)
            })
            .await;
        let run = ended.map_err(|e| self.stopped(id, e))?;
        if let Some(r) = &end.retry {
            self.wake_at(r.next_at, id);
        }
        tracing::info!(run = id, workflow = %run.workflow, status = end.status.name(), "run ended or paused");
        Ok(run)
    }

    /// Settles the run's pending approvals whose time ran out, before the plugin reads them
    /// (the approver reads what was loaded and never waits on the store).
    async fn expire_found(&self, approvals: Vec<Approval>) -> Vec<Approval> {
        let now = now_secs();
        let mut out = Vec::with_capacity(approvals.len());
        for a in approvals {
            let lapsed =
                a.status == ApprovalStatus::Pending && a.expires_at.is_some_and(|t| t <= now);
            if !lapsed {
                out.push(a);
                continue;
            }
            let id = a.id;
            match self.store.blocking(move |s| s.expire(id, now)).await {
                Ok(Some(settled)) => out.push(settled),
                _ => out.push(a),
            }
        }
        out
    }

    /// Opens a new approval with the plan of what it lets through in its details: its id.
    async fn open_planned(
        &self,
        mut new: Approval,
        planning: &Planning<'_>,
    ) -> mageflow_store::Result<u64> {
        if let Some(plan) = self.plan(planning).await {
            new.details_json = Some(with_plan(new.details_json.as_deref(), plan));
        }
        let opened = self.store.blocking(move |s| s.open_approval(new)).await?;
        Ok(opened.id)
    }

    /// Attaches a plan to an approval opened before without one (by an older mageflow, or
    /// when planning failed then).
    async fn plan_if_missing(&self, approval: u64, planning: &Planning<'_>) {
        let Ok(a) = self.store.approval(approval) else {
            return;
        };
        if a.details_json
            .as_deref()
            .is_some_and(|d| d.contains("\"plan\""))
        {
            return;
        }
        let Some(plan) = self.plan(planning).await else {
            return;
        };
        let details = with_plan(a.details_json.as_deref(), plan);
        if let Err(e) = self.store.set_approval_details(approval, &details) {
            tracing::warn!(approval, error = %e, "the plan could not be attached");
        }
    }

    /// Runs the same trigger as a dry run (reads live, writes planned, approvals granted):
    /// the writes it plans, so the approver sees what will change; `None` when the dry run
    /// failed or plans nothing.
    async fn plan(&self, p: &Planning<'_>) -> Option<Vec<Value>> {
        let scratch = Store::temporary().ok()?;
        let workflow = p.run.workflow.clone();
        let states = self
            .store
            .blocking(move |s| s.states(&workflow))
            .await
            .ok()?;
        let Adapters { gateway, opts, .. } = adapters(
            &self.store,
            &self.metrics,
            p.loaded,
            p.run,
            Journal::Scratch { scratch, states },
        );
        let report = p.plugin.run(&plugin_trigger(p.event), &opts).await;
        let plan = std::mem::take(&mut *gateway.plan.lock().unwrap_or_else(|e| e.into_inner()));
        (report.outcome.is_ok() && !plan.is_empty()).then_some(plan)
    }
}

/// What a dry run of the attempt's trigger needs.
struct Planning<'a> {
    loaded: &'a Loaded,
    plugin: &'a Plugin,
    event: &'a Event,
    run: &'a Run,
}

/// An approval's details with `plan` beside the plugin's own.
fn with_plan(details: Option<&str>, plan: Vec<Value>) -> String {
    match details.map(serde_json::from_str::<Value>) {
        None => json!({ "plan": plan }),
        Some(Ok(Value::Object(mut own))) => {
            own.insert("plan".into(), Value::Array(plan));
            Value::Object(own)
        }
        Some(_) => json!({ "details": details, "plan": plan }),
    }
    .to_string()
}
