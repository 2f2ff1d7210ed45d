//! What the API does, apart from HTTP: the CLI calls the same functions when no server runs.

use std::sync::Arc;

use mageflow_model::{EngineError, Event, Operations};
use mageflow_store::{Approval, ApprovalStatus, Decision, Run, Status};
use serde_json::{Value, json};
use tokio::sync::Semaphore;

use crate::auth::{Access, AccessConfig, NewToken, Principal, Role};
use crate::hooks::{GroupCommit, Verifier};

/// Webhook workflows: their verifier and accepted events.
pub(crate) type HookTable = std::collections::BTreeMap<String, (Verifier, Vec<String>)>;

/// An API refusal, with the HTTP status it maps to.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// Bad input (400).
    #[error("{0}")]
    BadRequest(String),
    /// No credentials, or unknown, revoked or expired ones (401).
    #[error("{0}")]
    Unauthorized(String),
    /// Authenticated, but without the role this needs (403).
    #[error("{0}")]
    Forbidden(String),
    /// No such workflow, run or approval (404).
    #[error("{0}")]
    NotFound(String),
    /// A decision refused by the approval's state: late or repeated (409).
    #[error("{0}")]
    Conflict(String),
    /// Anything else (500).
    #[error("{0}")]
    Internal(String),
}

impl From<EngineError> for ApiError {
    fn from(e: EngineError) -> ApiError {
        match e {
            EngineError::UnknownWorkflow(..) => ApiError::NotFound(e.to_string()),
            EngineError::Store(
                mageflow_store::Error::NoRun(_) | mageflow_store::Error::NoApproval(_),
            ) => ApiError::NotFound(e.to_string()),
            EngineError::Store(mageflow_store::Error::Refused(why)) => ApiError::Conflict(why),
            other => ApiError::Internal(other.with_causes()),
        }
    }
}

impl From<mageflow_store::Error> for ApiError {
    fn from(e: mageflow_store::Error) -> ApiError {
        EngineError::from(e).into()
    }
}

/// A run to start.
#[derive(Debug, Clone, Default, serde::Deserialize)]
pub struct Start {
    /// The manual input (JSON text); `{}` when absent.
    #[serde(default)]
    pub input: Option<String>,
    /// Plan writes instead of sending them.
    #[serde(default)]
    pub dry_run: bool,
    /// Answer when the run has ended or paused, instead of at once.
    #[serde(default)]
    pub wait: bool,
}

/// The API over an engine.
#[derive(Clone, Debug)]
pub struct Api {
    engine: Arc<dyn Operations>,
    pub(crate) access: Arc<Access>,
    workers: Arc<Semaphore>,
    pub(crate) hooks: Arc<HookTable>,
    pub(crate) commit: Option<Arc<GroupCommit>>,
    ready: Arc<std::sync::atomic::AtomicBool>,
    pub(crate) group_names: Arc<crate::ui::GroupNames>,
    pub(crate) scim: Arc<crate::scim::Bridge>,
}

impl Api {
    /// The API of an engine, with how it authenticates and a bound on concurrent runs.
    pub fn new(engine: Arc<dyn Operations>, access: AccessConfig, workers: Arc<Semaphore>) -> Api {
        Api {
            scim: Arc::new(crate::scim::Bridge::new(
                engine.clone(),
                access.scim.clone(),
            )),
            access: Arc::new(Access::new(engine.store().clone(), access)),
            engine,
            workers,
            hooks: Arc::default(),
            commit: None,
            ready: Arc::default(),
            group_names: Arc::default(),
        }
    }

    /// Whether the server has resumed its unfinished runs (`/readyz`).
    pub fn is_ready(&self) -> bool {
        self.ready.load(std::sync::atomic::Ordering::Acquire)
    }

    /// Marks the server ready.
    pub(crate) fn set_ready(&self) {
        self.ready.store(true, std::sync::atomic::Ordering::Release);
    }

    pub(crate) fn with_hooks(mut self, hooks: HookTable, commit: Arc<GroupCommit>) -> Api {
        self.hooks = Arc::new(hooks);
        self.commit = Some(commit);
        self
    }

    /// The engine.
    pub fn engine(&self) -> &Arc<dyn Operations> {
        &self.engine
    }

    /// The principal a token stands for (401 naming why when none).
    pub fn principal(&self, token: &str) -> Result<Principal, ApiError> {
        self.access.token(token)
    }

    /// The workflows `who` may see.
    pub fn workflows(&self, who: &Principal) -> Value {
        Value::Array(
            self.engine
                .workflows()
                .iter()
                .filter(|w| who.may_view(&w.def.name))
                .map(|w| {
                    json!({
                        "name": w.def.name,
                        "trigger": trigger_name(&w.def.trigger),
                        "grants": w.def.grants.iter().map(|g| g.name()).collect::<Vec<_>>(),
                        "plugin": w.def.plugin.display().to_string(),
                        "plugin_hash": w.hash,
                    })
                })
                .collect(),
        )
    }

    /// Starts a run as `who` (an operator of the workflow); with `wait`, answers once it has
    /// ended or paused.
    pub async fn start(
        &self,
        workflow: &str,
        start: Start,
        who: &Principal,
    ) -> Result<Value, ApiError> {
        // An unknown workflow is a 404 for whoever may see runs at all, before the role check
        // names it.
        self.engine.workflow(workflow)?;
        let what = if start.dry_run {
            format!("start dry runs of {workflow}")
        } else {
            format!("start runs of {workflow}")
        };
        who.require(Role::Operator, Some(workflow), &what)?;
        let input = start.input.unwrap_or_else(|| "{}".into());
        let run = self
            .engine
            .start(workflow, Event::Manual { input }, &who.name, start.dry_run)?;
        if start.wait {
            let _permit = self
                .workers
                .acquire()
                .await
                .map_err(|e| ApiError::Internal(e.to_string()))?;
            let run = self.engine.settle(run.id).await?;
            return Ok(run_detail(&*self.engine, &run)?);
        }
        self.dispatch(run.id);
        Ok(run_summary(&run))
    }

    /// Executes a run on a worker, in the background.
    pub fn dispatch(&self, id: u64) {
        let api = self.clone();
        tokio::spawn(async move {
            let Ok(_permit) = api.workers.acquire().await else {
                return;
            };
            if let Err(e) = api.engine.execute(id).await {
                tracing::error!(run = id, error = %e, "the run could not be executed");
            }
        });
    }

    /// The runs `who` may see, oldest first, with this status when given.
    pub fn runs(&self, status: Option<&str>, who: &Principal) -> Result<Value, ApiError> {
        let status = status.map(parse_status).transpose()?;
        Ok(Value::Array(
            self.engine
                .store()
                .runs(status)?
                .iter()
                .filter(|r| who.may_view(&r.workflow))
                .map(run_summary)
                .collect(),
        ))
    }

    /// One run in full.
    pub fn run(&self, id: u64, who: &Principal) -> Result<Value, ApiError> {
        let run = self.engine.store().run(id)?;
        who.require_view(&run.workflow)?;
        Ok(run_detail(&*self.engine, &run)?)
    }

    /// The approvals `who` may see, oldest first, with this status when given.
    pub fn approvals(&self, status: Option<&str>, who: &Principal) -> Result<Value, ApiError> {
        let status = status
            .map(|s| match s {
                "pending" => Ok(ApprovalStatus::Pending),
                "approved" => Ok(ApprovalStatus::Approved),
                "rejected" => Ok(ApprovalStatus::Rejected),
                "expired" => Ok(ApprovalStatus::Expired),
                other => Err(ApiError::BadRequest(format!(
                    "status {other:?} must be pending, approved, rejected or expired"
                ))),
            })
            .transpose()?;
        Ok(Value::Array(
            self.engine
                .store()
                .approvals(status)?
                .iter()
                .filter(|a| who.may_view(&a.workflow))
                .map(approval_json)
                .collect(),
        ))
    }

    /// One approval.
    pub fn approval(&self, id: u64, who: &Principal) -> Result<Value, ApiError> {
        let a = self.engine.store().approval(id)?;
        who.require_view(&a.workflow)?;
        Ok(approval_json(&a))
    }

    /// Whether `who` may decide approval `a`: an approver of its workflow, named by it (or
    /// in a group it names), and not the run's requester. 403 naming why.
    pub fn may_decide(&self, a: &Approval, who: &Principal) -> Result<(), ApiError> {
        who.require(
            Role::Approver,
            Some(&a.workflow),
            &format!("decide approval {}", a.id),
        )?;
        if who.name == a.requester {
            return Err(ApiError::Forbidden(format!(
                "{} started run {} and cannot decide its own approval, with any of their tokens",
                who.name, a.run
            )));
        }
        if !a.may_decide(&who.name, &who.groups) {
            return Err(ApiError::Forbidden(format!(
                "{} is not an approver of approval {}; its approvers are {}",
                who.name,
                a.id,
                a.approvers.join(", ")
            )));
        }
        Ok(())
    }

    /// Records `who`'s decision; a settled approval's run resumes in the background (or
    /// before answering, with `wait`).
    pub async fn decide(
        &self,
        id: u64,
        who: &Principal,
        decision: Decision,
        wait: bool,
    ) -> Result<Value, ApiError> {
        let a = self.engine.store().approval(id)?;
        self.may_decide(&a, who)?;
        // Who may decide is answered before what the decision lacks.
        if let Decision::Reject(why) = &decision
            && why.trim().is_empty()
        {
            return Err(ApiError::BadRequest(
                "a rejection needs a reason: {\"reason\": \"...\"} (on the page, the comment box)"
                    .into(),
            ));
        }
        let settled = self
            .engine
            .record_decision(id, &who.name, &who.groups, &decision)?;
        let (action, comment) = match &decision {
            Decision::Approve(c) => ("approval.approve", c.clone()),
            Decision::Reject(why) => ("approval.reject", Some(why.clone())),
        };
        self.access.audit(
            &who.name,
            action,
            &format!("approval {id}"),
            json!({"workflow": a.workflow, "run": a.run, "comment": comment, "status": settled.status.name()}),
        );
        if settled.status != ApprovalStatus::Pending {
            if wait {
                self.engine.settle(settled.run).await?;
            } else {
                self.dispatch(settled.run);
            }
        }
        Ok(approval_json(&settled))
    }

    /// Creates a token (admins only); answers its record and, once, its text.
    pub fn create_token(&self, new: &NewToken, who: &Principal) -> Result<Value, ApiError> {
        who.require(Role::Admin, None, "create tokens")?;
        let (record, text) = crate::auth::tokens::issue(
            self.engine.store(),
            new,
            &who.name,
            mageflow_model::now_secs(),
        )?;
        self.access.audit(
            &who.name,
            "token.create",
            &format!("token {}", record.id),
            json!({"name": record.name, "roles": record.roles, "workflows": record.workflows,
                   "groups": record.groups, "expires_at": record.expires_at}),
        );
        let mut v = token_json(&record);
        v["token"] = json!(text);
        Ok(v)
    }

    /// Every token, without secrets (admins only).
    pub fn tokens(&self, who: &Principal) -> Result<Value, ApiError> {
        who.require(Role::Admin, None, "list tokens")?;
        Ok(Value::Array(
            self.engine
                .store()
                .tokens()?
                .iter()
                .map(token_json)
                .collect(),
        ))
    }

    /// Revokes a token by id (admins only): it stops working at once.
    pub fn revoke_token(&self, id: &str, who: &Principal) -> Result<Value, ApiError> {
        who.require(Role::Admin, None, "revoke tokens")?;
        if self.engine.store().token(id)?.is_none() {
            return Err(ApiError::NotFound(format!(
                "no token has the id {id}: mageflow tokens ls lists them"
            )));
        }
        let now = mageflow_model::now_secs();
        let record = self.engine.store().update_token(id, |t| {
            t.revoked_at.get_or_insert(now);
        })?;
        self.access.audit(
            &who.name,
            "token.revoke",
            &format!("token {id}"),
            json!({"name": record.name}),
        );
        Ok(token_json(&record))
    }

    /// The audit, oldest first (admins only): access events, run starts and Magento writes,
    /// each with its principal.
    pub fn audit(&self, who: &Principal) -> Result<Vec<Value>, ApiError> {
        who.require(Role::Admin, None, "read the audit")?;
        let store = self.engine.store();
        let mut all: Vec<(u64, u64, Value)> = Vec::new();
        for e in store.events(0)? {
            all.push((e.at, 0, serde_json::to_value(&e).unwrap_or(Value::Null)));
        }
        for r in store.runs(None)? {
            all.push((
                r.created_at,
                1,
                json!({"at": r.created_at, "principal": r.requester, "action": "run.start",
                       "target": format!("run {}", r.id),
                       "detail": {"workflow": r.workflow, "dry_run": r.dry_run}}),
            ));
        }
        for w in store.audit_all()? {
            all.push((
                w.at,
                2,
                json!({"at": w.at, "principal": format!("run:{}", w.run), "action": "magento.write",
                       "target": w.entity,
                       "detail": {"workflow": w.workflow, "run": w.run, "call": w.call,
                                  "approved_by": w.approver, "changes": w.changes}}),
            ));
        }
        all.sort_by_key(|(at, kind, _)| (*at, *kind));
        Ok(all.into_iter().map(|(_, _, v)| v).collect())
    }
}

/// A token as listed: everything but the secret's hash.
fn token_json(t: &mageflow_store::TokenRecord) -> Value {
    json!({
        "id": t.id,
        "name": t.name,
        "roles": t.roles,
        "workflows": t.workflows,
        "groups": t.groups,
        "created_by": t.created_by,
        "created_at": t.created_at,
        "expires_at": t.expires_at,
        "revoked_at": t.revoked_at,
        "last_used_at": t.last_used_at,
    })
}

fn parse_status(s: &str) -> Result<Status, ApiError> {
    Status::parse(s).ok_or_else(|| {
        ApiError::BadRequest(format!(
            "status {s:?} must be queued, running, awaiting-approval, succeeded or failed"
        ))
    })
}

fn trigger_name(t: &mageflow_model::workflow::Trigger) -> &'static str {
    use mageflow_model::workflow::Trigger;
    match t {
        Trigger::Manual => "manual",
        Trigger::Cron { .. } => "cron",
        Trigger::Webhook { .. } => "webhook",
        Trigger::Poll { .. } => "poll",
    }
}

/// A run in a listing.
pub(crate) fn run_summary(run: &Run) -> Value {
    json!({
        "id": run.id,
        "workflow": run.workflow,
        "status": run.status.name(),
        "requester": run.requester,
        "dry_run": run.dry_run,
        "created_at": run.created_at,
        "updated_at": run.updated_at,
        "attempts": run.attempts,
        "summary": run.summary,
        "error": run.error,
        "retry": run.retry.as_ref().map(|r| json!({
            "call": r.name,
            "attempts": r.attempts,
            "first_failed_at": r.first_failed_at,
            "next_at": r.next_at,
            "last_error": r.last_error,
        })),
    })
}

/// A run with its journal, log, plan and audit.
pub(crate) fn run_detail(
    engine: &dyn Operations,
    run: &Run,
) -> Result<Value, mageflow_store::Error> {
    let mut v = run_summary(run);
    let journal: Vec<Value> = engine
        .store()
        .journal(run.id)?
        .into_iter()
        .map(|e| {
            json!({
                "seq": e.seq,
                "call": e.call,
                "digest": e.digest,
                "state": match e.state {
                    mageflow_store::EntryState::Intent => "in-doubt",
                    mageflow_store::EntryState::Done { .. } => "done",
                },
            })
        })
        .collect();
    v["trigger"] = run.trigger.clone();
    v["output_json"] = json!(run.output_json);
    v["plugin_hash"] = json!(run.plugin_hash);
    v["log"] = json!(
        run.log
            .iter()
            .map(|(l, m)| json!({"level": l, "message": m}))
            .collect::<Vec<_>>()
    );
    v["plan"] = json!(run.plan);
    v["journal"] = json!(journal);
    v["writes"] = json!(engine.store().audit_of(run.id)?);
    Ok(v)
}

/// An approval as the API shows it.
pub(crate) fn approval_json(a: &Approval) -> Value {
    let mut v = serde_json::to_value(a).unwrap_or(Value::Null);
    v["status"] = json!(a.status.name());
    v
}
