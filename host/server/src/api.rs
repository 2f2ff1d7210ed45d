//! What the API does, apart from HTTP: the CLI calls the same functions when no server runs.

use std::sync::Arc;

use mageflow_engine::{Engine, EngineError, Event};
use mageflow_store::{Approval, ApprovalStatus, Decision, Run, Status};
use serde_json::{Value, json};
use tokio::sync::Semaphore;

use crate::Tokens;
use crate::hooks::{GroupCommit, Verifier};

/// Webhook workflows: their verifier and accepted events.
pub(crate) type HookTable = std::collections::BTreeMap<String, (Verifier, Vec<String>)>;

/// An API refusal, with the HTTP status it maps to.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// Bad input (400).
    #[error("{0}")]
    BadRequest(String),
    /// No or unknown approver token (401).
    #[error("{0}")]
    Unauthorized(String),
    /// No such workflow, run or approval (404).
    #[error("{0}")]
    NotFound(String),
    /// A decision refused: late, repeated, self-approval, not an approver (409).
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
            other => ApiError::Internal(other.to_string()),
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
    engine: Arc<Engine>,
    tokens: Tokens,
    workers: Arc<Semaphore>,
    pub(crate) hooks: Arc<HookTable>,
    pub(crate) commit: Option<Arc<GroupCommit>>,
    ready: Arc<std::sync::atomic::AtomicBool>,
}

impl Api {
    /// The API of an engine, with approver tokens and a bound on concurrent runs.
    pub fn new(engine: Arc<Engine>, tokens: Tokens, workers: Arc<Semaphore>) -> Api {
        Api {
            engine,
            tokens,
            workers,
            hooks: Arc::default(),
            commit: None,
            ready: Arc::default(),
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
    pub fn engine(&self) -> &Arc<Engine> {
        &self.engine
    }

    /// Who holds this token, if anyone.
    pub fn approver(&self, token: Option<&str>) -> Result<String, ApiError> {
        let token = token.ok_or_else(|| {
            ApiError::Unauthorized(
                "an approver token is needed: set MAGEFLOW_APPROVER_TOKEN or pass --token".into(),
            )
        })?;
        self.tokens.who(token).map(str::to_owned).ok_or_else(|| {
            ApiError::Unauthorized("the approver token is not known to this server".into())
        })
    }

    /// The loaded workflows.
    pub fn workflows(&self) -> Value {
        Value::Array(
            self.engine
                .workflows()
                .iter()
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

    /// Starts a run; with `wait`, answers once it has ended or paused.
    pub async fn start(
        &self,
        workflow: &str,
        start: Start,
        token: Option<&str>,
    ) -> Result<Value, ApiError> {
        let requester = match token {
            Some(t) => self.approver(Some(t))?,
            None => "cli".to_owned(),
        };
        let input = start.input.unwrap_or_else(|| "{}".into());
        let run =
            self.engine
                .start(workflow, Event::Manual { input }, &requester, start.dry_run)?;
        if start.wait {
            let _permit = self
                .workers
                .acquire()
                .await
                .map_err(|e| ApiError::Internal(e.to_string()))?;
            let run = self.engine.execute(run.id).await?;
            return Ok(run_detail(&self.engine, &run)?);
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

    /// Runs, oldest first, with this status when given.
    pub fn runs(&self, status: Option<&str>) -> Result<Value, ApiError> {
        let status = status.map(parse_status).transpose()?;
        Ok(Value::Array(
            self.engine
                .store()
                .runs(status)?
                .iter()
                .map(run_summary)
                .collect(),
        ))
    }

    /// One run in full.
    pub fn run(&self, id: u64) -> Result<Value, ApiError> {
        let run = self.engine.store().run(id)?;
        Ok(run_detail(&self.engine, &run)?)
    }

    /// Approvals, oldest first, with this status when given.
    pub fn approvals(&self, status: Option<&str>) -> Result<Value, ApiError> {
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
                .map(approval_json)
                .collect(),
        ))
    }

    /// One approval.
    pub fn approval(&self, id: u64) -> Result<Value, ApiError> {
        Ok(approval_json(&self.engine.store().approval(id)?))
    }

    /// Records a decision by the token's approver; a settled approval's run resumes in the
    /// background (or before answering, with `wait`).
    pub async fn decide(
        &self,
        id: u64,
        token: Option<&str>,
        decision: Decision,
        wait: bool,
    ) -> Result<Value, ApiError> {
        let by = self.approver(token)?;
        let settled = self.engine.record_decision(id, &by, &decision)?;
        if settled.status != ApprovalStatus::Pending {
            if wait {
                self.engine.execute(settled.run).await?;
            } else {
                self.dispatch(settled.run);
            }
        }
        Ok(approval_json(&settled))
    }
}

fn parse_status(s: &str) -> Result<Status, ApiError> {
    Status::parse(s).ok_or_else(|| {
        ApiError::BadRequest(format!(
            "status {s:?} must be queued, running, awaiting-approval, succeeded or failed"
        ))
    })
}

fn trigger_name(t: &mageflow_engine::workflow::Trigger) -> &'static str {
    use mageflow_engine::workflow::Trigger;
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
pub(crate) fn run_detail(engine: &Engine, run: &Run) -> Result<Value, mageflow_store::Error> {
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
