//! `mageflow serve`: the process that owns the store. It resumes unfinished runs at start,
//! runs queued runs on workers, expires approvals, and answers the JSON API every other
//! `mageflow` command talks to.
//!
//! | Method and path | What |
//! |---|---|
//! | `GET /healthz` | `ok` while the process serves |
//! | `GET /readyz` | `ready` once unfinished runs are resumed after a start (503 before) |
//! | `GET /metrics` | Prometheus text exposition |
//! | `GET /ui/...` | the approvers' pages: sign in with a token, approvals, runs |
//! | `GET /api/workflows` | the loaded workflows |
//! | `POST /api/workflows/{name}/runs` | start a run: `{"input": "...", "dry_run": false, "wait": false}` |
//! | `GET /api/runs?status=S` | runs, oldest first |
//! | `GET /api/runs/{id}` | one run with its journal, log, plan and audit |
//! | `GET /api/approvals?status=S` | approvals |
//! | `GET /api/approvals/{id}` | one approval with its decisions |
//! | `POST /api/approvals/{id}/approve` | `{"comment": "..."}`, approver token as `Authorization: Bearer` |
//! | `POST /api/approvals/{id}/reject` | `{"reason": "..."}`, approver token as `Authorization: Bearer` |
//! | `POST /hooks/{workflow}` | a signed webhook delivery; `{"op":"success"}` once durably queued |

#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod api;
mod hooks;
mod http;
mod ui;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use mageflow_engine::Engine;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;

pub use api::{Api, ApiError, Start};
pub use hooks::{ADOBE_HEADER, HMAC_HEADER, MAX_BODY, hmac_signature};

/// Why the server could not start or stopped.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// A workflow's webhook key or secret is missing or unusable.
    #[error("{0}")]
    Setup(String),
    /// The listener failed.
    #[error("serving failed: {0}")]
    Io(#[from] std::io::Error),
}

/// Runs at once on the workers.
const WORKERS: usize = 16;
/// How often approvals are checked for expiry, and retrying runs for being due.
const EXPIRY_TICK: Duration = Duration::from_secs(1);

/// Approver tokens: token -> approver name.
#[derive(Clone, Default)]
pub struct Tokens(BTreeMap<String, String>);

impl std::fmt::Debug for Tokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Names only: tokens are secrets.
        f.debug_list().entries(self.0.values()).finish()
    }
}

impl Tokens {
    /// Reads `name=token,name=token` (as in `MAGEFLOW_APPROVER_TOKENS`).
    pub fn parse(text: &str) -> Result<Tokens, String> {
        let mut out = BTreeMap::new();
        for pair in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let Some((name, token)) = pair.split_once('=') else {
                return Err(format!(
                    "approver tokens must read name=token,name=token; {:?} has no '='",
                    pair.split('=').next().unwrap_or_default()
                ));
            };
            if token.len() < 16 {
                return Err(format!(
                    "the token of approver {name} is shorter than 16 characters: use a long random one"
                ));
            }
            out.insert(token.to_owned(), name.to_owned());
        }
        Ok(Tokens(out))
    }

    /// The approver a token belongs to.
    pub fn who(&self, token: &str) -> Option<&str> {
        self.0.get(token).map(String::as_str)
    }
}

/// Fires cron ticks and polls, every second, and hands their runs to the workers.
async fn triggers(api: Api) {
    use mageflow_engine::workflow::Trigger;
    let mut last_poll: BTreeMap<String, std::time::Instant> = BTreeMap::new();
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    loop {
        tick.tick().await;
        let now = mageflow_engine::now_secs();
        for w in api.engine().workflows() {
            let name = w.def.name.as_str();
            let queued = match &w.def.trigger {
                Trigger::Cron { .. } => api.engine().cron_tick(name, now),
                Trigger::Poll { interval, .. } => {
                    let due = last_poll.get(name).is_none_or(|t| t.elapsed() >= *interval);
                    if !due {
                        continue;
                    }
                    last_poll.insert(name.to_owned(), std::time::Instant::now());
                    api.engine().poll(name, now).await
                }
                Trigger::Manual | Trigger::Webhook { .. } => continue,
            };
            match queued {
                Ok(runs) => runs.into_iter().for_each(|r| api.dispatch(r)),
                Err(e) => tracing::warn!(workflow = name, error = %e, "trigger failed"),
            }
        }
    }
}

/// Serves the API on `listener` until the process ends: first resumes every unfinished run.
/// Webhook secrets are read from the environment (`var`).
pub async fn serve(
    engine: Arc<Engine>,
    tokens: Tokens,
    listener: TcpListener,
    var: impl Fn(&str) -> Option<String>,
) -> Result<(), ServeError> {
    let verifiers = hooks::verifiers(&engine, var).map_err(ServeError::Setup)?;
    let unfinished = engine
        .prepare_recovery()
        .map_err(|e| ServeError::Setup(format!("reading unfinished runs failed: {e}")))?;
    let api = Api::new(engine.clone(), tokens, Arc::new(Semaphore::new(WORKERS)))
        .with_hooks(verifiers, hooks::GroupCommit::start(engine.clone()));
    let recovering = api.clone();
    tokio::spawn(async move {
        match recovering.engine().resume(unfinished).await {
            Ok(runs) if !runs.is_empty() => {
                tracing::info!(runs = runs.len(), "resumed unfinished runs")
            }
            Ok(_) => {}
            Err(e) => tracing::error!(error = %e, "resuming unfinished runs failed"),
        }
        recovering.set_ready();
    });
    let waking = api.clone();
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(EXPIRY_TICK);
        loop {
            tick.tick().await;
            // Retrying runs whose backoff has passed go back to the workers.
            for run in waking.engine().due_retries(mageflow_engine::now_secs()) {
                waking.dispatch(run);
            }
            if let Err(e) = waking.engine().expire_due().await {
                tracing::error!(error = %e, "expiring approvals failed");
            }
        }
    });
    tokio::spawn(triggers(api.clone()));
    axum::serve(listener, http::router(api)).await?;
    Ok(())
}
