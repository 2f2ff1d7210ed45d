//! The journal between a run's host calls and Magento: every call is recorded with a digest
//! of its arguments and its answer; on replay the recorded answer comes back and nothing is
//! sent. A write's intent is made durable before the write is sent, so after a crash a write
//! whose answer was lost is known to be in doubt, and is reconciled (looked up, re-applied
//! only where it did not land), never blindly repeated: by `MagentoClient::write`, the same
//! check the client makes when an answer is lost on the wire. A call that keeps failing for
//! a transient reason is not answered at all but postponed, under the workflow's retry policy
//! (see `retry.rs`). A dry run plans writes instead of sending them. The run's clock readings
//! are journaled the same way.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use mageflow_magento::{Change, MagentoClient, Patch, Write};
use mageflow_runtime::{Call, Clock, Failure, Gateway, Pending, Reply};
use mageflow_store::{AuditEntry, Entry, EntryState, FieldChange, Retrying, Store};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use mageflow_model::{Metrics, RetryPolicy, now_secs};

/// A run's journaled gateway.
#[derive(Debug)]
pub(crate) struct Journaled {
    pub(crate) store: Store,
    pub(crate) run: u64,
    pub(crate) workflow: String,
    /// When the run was created: no write of it was sent earlier (a bulk in doubt is looked
    /// for in Magento's operation log from here).
    since: u64,
    pub(crate) client: Arc<MagentoClient>,
    pub(crate) dry_run: bool,
    /// What the journal held when the run (re)started.
    pub(crate) recorded: Vec<Entry>,
    pub(crate) next: AtomicU64,
    /// Set at the first divergence; every later call is refused and the run fails with it.
    pub(crate) diverged: Mutex<Option<String>>,
    /// Who approved the run's writes, for the audit (set by the approver hook).
    pub(crate) approved_by: Arc<Mutex<Option<String>>>,
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
    /// A journal for `run`, starting from what was `recorded`; `approved_by` is shared with
    /// the run's approver.
    pub(crate) fn new(
        store: Store,
        run: &mageflow_store::Run,
        loaded: &crate::Loaded,
        dry_run: bool,
        recorded: Vec<Entry>,
        approved_by: Arc<Mutex<Option<String>>>,
        metrics: Arc<Metrics>,
    ) -> Journaled {
        Journaled {
            store,
            run: run.id,
            workflow: run.workflow.clone(),
            since: run.created_at,
            client: loaded.client().clone(),
            dry_run,
            recorded,
            next: AtomicU64::new(0),
            diverged: Mutex::new(None),
            approved_by,
            plan: Mutex::new(Vec::new()),
            pending: Mutex::new(Vec::new()),
            metrics,
            retry: loaded.def.retry.clone(),
            retried: run.retry.clone(),
            postponed: Mutex::new(None),
        }
    }

    async fn answer(&self, call: Call) -> Result<Reply, Failure> {
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
        let result = if call.writes() && self.dry_run {
            self.plan(call).await
        } else if call.writes() {
            self.write_pending()?;
            self.store
                .record(
                    self.run,
                    &Entry {
                        seq,
                        call: name.into(),
                        digest: digest.clone(),
                        state: EntryState::Intent,
                    },
                )
                .map_err(stored)?;
            self.store.flush().map_err(stored)?;
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
        if self.dry_run || !failure.is_transient() {
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
            tracing::warn!(run = self.run, call = name, error = %reason, "the retry policy gave up: the plugin gets the failure");
            return Ok(result);
        };
        tracing::info!(run = self.run, call = name, attempt = state.attempts, wait_s = after.as_secs(), error = %reason, "postponing the run");
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
        self.store.record_all(self.run, &batch).map_err(stored)
    }

    /// The first divergence, if any.
    pub(crate) fn divergence(&self) -> Option<String> {
        self.diverged
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    fn audit(&self, call: &str, entity: String, changes: Vec<FieldChange>, note: Option<&str>) {
        let entry = AuditEntry {
            run: self.run,
            workflow: self.workflow.clone(),
            approver: self
                .approved_by
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .clone(),
            call: call.into(),
            entity,
            changes,
            note: note.map(str::to_owned),
            at: now_secs(),
        };
        if let Err(e) = self.store.audit(&entry) {
            tracing::error!(run = self.run, error = %e, "an audit entry could not be written");
        }
    }

    /// A write whose answer was lost: look first, write only what did not land.
    async fn reconcile(&self, call: Call) -> Result<Reply, Failure> {
        if self.dry_run {
            return self.plan(call).await;
        }
        tracing::info!(
            run = self.run,
            call = call.name(),
            "reconciling a write in doubt"
        );
        self.write(call, true).await
    }

    /// Sends a write with its audit entries. `in_doubt`: the write may have landed already,
    /// so the client checks before it sends (the same check it makes when an answer is lost).
    async fn write(&self, call: Call, in_doubt: bool) -> Result<Reply, Failure> {
        let name = call.name();
        let write = match call.into_write(self.since) {
            Ok(w) => w,
            Err(read) => return Gateway::call(&*self.client, read).await,
        };
        let written = self.client.write(&write, in_doubt).await?;
        for (entity, changes) in written.changed {
            self.audit(name, entity, convert(changes), None);
        }
        for entity in written.landed {
            self.audit(
                name,
                entity,
                Vec::new(),
                Some("reconciled after a restart: the write had landed before"),
            );
        }
        Ok(written.wrote.into())
    }

    /// A dry run's write: read what is stored, record the change as a plan, answer as if it
    /// had been written. Planned from the [`Write`] the call makes, the one list of writes.
    async fn plan(&self, call: Call) -> Result<Reply, Failure> {
        let name = call.name();
        let write = match call.into_write(self.since) {
            Ok(w) => w,
            Err(read) => return Gateway::call(&*self.client, read).await,
        };
        let mut entries = Vec::new();
        let reply = match write {
            Write::UpdateCustomer(id, patch) => {
                let before = self.client.customer_json(id).await?;
                entries.push(planned(
                    name,
                    format!("customer {id}"),
                    changes(&patch, &before, id)?,
                ));
                Reply::Customer(Box::new(customer(patch.apply(before, id)?)?))
            }
            Write::BulkUpdateCustomers { updates, .. } => {
                for (id, patch) in &updates {
                    let before = self.client.customer_json(*id).await?;
                    entries.push(planned(
                        name,
                        format!("customer {id}"),
                        changes(patch, &before, *id)?,
                    ));
                }
                Reply::Receipts(Vec::new())
            }
            Write::CreateCustomer(new) => {
                entries.push(planned(
                    name,
                    format!("new customer {}", new.email),
                    vec![FieldChange {
                        field: "email".into(),
                        before: Value::Null,
                        after: json!(new.email),
                    }],
                ));
                let mut c = customer(json!({
                    "id": 0, "email": new.email, "firstname": new.firstname,
                    "lastname": new.lastname, "website_id": new.website_id.unwrap_or(1),
                    "group_id": new.group_id.unwrap_or(1),
                }))?;
                c.id = 0;
                Reply::Customer(Box::new(c))
            }
            Write::DeleteCustomer(id) => {
                entries.push(planned(name, format!("customer {id}"), Vec::new()));
                Reply::Done
            }
            // Deactivating is this update with `is_active: false`.
            Write::UpdateAdminUser(id, patch) => {
                let user = self.client.admin_user(id).await?;
                let before = serde_json::to_value(&user).map_err(stored)?;
                entries.push(planned(
                    name,
                    format!("admin user {id}"),
                    changes(&patch, &before, id)?,
                ));
                let after = serde_json::from_value(patch.apply(before, id)?).map_err(|e| {
                    Failure::Unavailable(format!("unexpected admin user JSON: {e}"))
                })?;
                Reply::AdminUser(Box::new(after))
            }
            Write::CreateAdminUser(new) => {
                entries.push(planned(
                    name,
                    format!("new admin user {}", new.username),
                    Vec::new(),
                ));
                Reply::AdminUser(Box::new(mageflow_magento::AdminUser {
                    id: 0,
                    username: new.username.clone(),
                    firstname: new.firstname.clone(),
                    lastname: new.lastname.clone(),
                    email: new.email.clone(),
                    is_active: true,
                    role_id: new.role_id,
                    other: serde_json::Map::new(),
                }))
            }
            Write::DeleteAdminUser(id) => {
                entries.push(planned(name, format!("admin user {id}"), Vec::new()));
                Reply::Done
            }
        };
        self.plan
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .extend(entries);
        Ok(reply)
    }
}

fn planned(call: &str, entity: String, changes: Vec<FieldChange>) -> Value {
    let mut m = serde_json::Map::new();
    m.insert("call".into(), json!(call));
    m.insert("entity".into(), Value::String(entity));
    m.insert(
        "changes".into(),
        Value::Array(changes.into_iter().map(|c| json!(c)).collect()),
    );
    Value::Object(m)
}

fn changes(patch: &Patch, before: &Value, id: u64) -> Result<Vec<FieldChange>, Failure> {
    Ok(convert(patch.changes(before, id)?))
}

fn convert(changes: Vec<Change>) -> Vec<FieldChange> {
    changes
        .into_iter()
        .map(
            |Change {
                 field,
                 before,
                 after,
             }| FieldChange {
                field,
                before,
                after,
            },
        )
        .collect()
}

fn customer(v: Value) -> Result<mageflow_magento::Customer, Failure> {
    serde_json::from_value(v)
        .map_err(|e| Failure::Unavailable(format!("unexpected customer JSON: {e}")))
}

/// The run's clock: readings come back from the journal on replay, live ones are recorded.
#[derive(Debug)]
pub(crate) struct JournalClock {
    pub(crate) store: Store,
    pub(crate) run: u64,
    pub(crate) recorded: Vec<u128>,
    pub(crate) next: AtomicU64,
}

impl Clock for JournalClock {
    fn now(&self) -> Duration {
        let seq = self.next.fetch_add(1, Ordering::SeqCst);
        let nanos = match self.recorded.get(seq as usize) {
            Some(n) => *n,
            None => {
                let live = SystemTime::now()
                    .duration_since(UNIX_EPOCH)
                    .map_or(0, |d| d.as_nanos());
                if let Err(e) = self.store.record_clock(self.run, seq, live) {
                    tracing::error!(run = self.run, error = %e, "a clock reading could not be journaled");
                }
                live
            }
        };
        Duration::from_nanos(u64::try_from(nanos).unwrap_or(u64::MAX))
    }
}

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
