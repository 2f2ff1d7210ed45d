//! `mageflow serve`: the process that owns the store. It resumes unfinished runs at start,
//! runs queued runs on workers, expires approvals, and answers the JSON API every other
//! `mageflow` command talks to.
//!
//! Every `/api` route needs `Authorization: Bearer <token>`, and the role it names; the pages
//! need a session. See [`auth`] and [`routes`].
//!
//! | Method and path | Who | What |
//! |---|---|---|
//! | `GET /healthz`, `GET /readyz` | anyone | `ok` while serving; `ready` once unfinished runs are resumed (503 before; at once on a shared store, whose runs are claimed) and while the store answers |
//! | `GET /metrics` | a token, or anyone when configured open | Prometheus text exposition |
//! | `GET /ui/...` | a session | the pages: sign in, approvals, runs |
//! | `GET /api/whoami` | a token | the principal and its roles |
//! | `GET /api/workflows` | viewer | the workflows it may see |
//! | `POST /api/workflows/{name}/runs` | operator | start a run: `{"input": "...", "dry_run": false, "wait": false}` |
//! | `GET /api/runs?status=S`, `GET /api/runs/{id}` | viewer | runs, oldest first; one with its journal, log, plan and audit |
//! | `GET /api/approvals?status=S`, `GET /api/approvals/{id}` | viewer | approvals; one with its decisions |
//! | `POST /api/approvals/{id}/approve` | approver, named | `{"comment": "..."}` |
//! | `POST /api/approvals/{id}/reject` | approver, named | `{"reason": "..."}` |
//! | `GET /api/tokens`, `POST /api/tokens`, `POST /api/tokens/{id}/revoke` | admin | tokens |
//! | `GET /api/audit` | admin | the audit: access events, run starts, Magento writes |
//! | `POST /hooks/{workflow}` | the webhook's signature | a delivery; `{"op":"success"}` once durably queued |
//! | `/scim/v2/{admin,customers}/...` | scim, for the root's workflow | the SCIM 2.0 roots (see [`scim`]) |

#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod api;
pub mod auth;
mod hooks;
mod http;
pub mod scim;
mod ui;

use std::net::SocketAddr;
use std::sync::Arc;

use mageflow_model::Operations;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;

pub use api::{Api, ApiError, Start};
pub use auth::{AccessConfig, EnvTokens, NewToken, Principal, Role, SessionTimeouts, SsoConfig};
pub use hooks::{ADOBE_HEADER, HMAC_HEADER, MAX_BODY, hmac_signature};
pub use http::{Guard, RouteInfo, routes};

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

/// Serves the API on `listener` until the process ends: first resumes every unfinished run.
/// Webhook secrets are read from the environment (`var`).
pub async fn serve(
    engine: Arc<dyn Operations>,
    access: AccessConfig,
    listener: TcpListener,
    var: impl Fn(&str) -> Option<String>,
) -> Result<(), ServeError> {
    let app = app(engine, access, var)?.into_make_service_with_connect_info::<SocketAddr>();
    axum::serve(listener, app).await?;
    Ok(())
}

/// The server's routes over `engine`, with its background work started on the current tokio
/// runtime: unfinished runs resume (`/readyz` answers ready once they have), retries and
/// approval expiry are looked at every second, and cron and poll triggers fire. [`serve`]
/// serves it on a listener; tests can call it with `tower::ServiceExt::oneshot`.
pub fn app(
    engine: Arc<dyn Operations>,
    access: AccessConfig,
    var: impl Fn(&str) -> Option<String>,
) -> Result<axum::Router, ServeError> {
    let verifiers = hooks::verifiers(&*engine, var).map_err(ServeError::Setup)?;
    for root in &access.scim.roots {
        if engine.workflow(&root.workflow).is_err() {
            return Err(ServeError::Setup(format!(
                "[scim.{}] runs its changes as workflow {}, which is not loaded: add workflows/{}.toml \
                 (the README's SCIM section has it), or name another with workflow = \"...\"",
                root.target.name(),
                root.workflow,
                root.workflow
            )));
        }
    }
    // On a store several workers share, unfinished runs are claimed by the claim loop, as
    // many at a time as this worker has room for, and the worker is ready at once.
    let unfinished = if engine.store().shared() {
        Vec::new()
    } else {
        engine.prepare_recovery().map_err(|e| {
            ServeError::Setup(format!(
                "reading unfinished runs failed: {}",
                e.with_causes()
            ))
        })?
    };
    let commit = hooks::GroupCommit::start(engine.clone());
    let api =
        Api::new(engine, access, Arc::new(Semaphore::new(WORKERS))).with_hooks(verifiers, commit);
    let recovering = api.clone();
    tokio::spawn(async move {
        match recovering.engine().resume(unfinished).await {
            Ok(runs) if !runs.is_empty() => {
                tracing::info!(runs = runs.len(), "resumed unfinished runs")
            }
            Ok(_) => {}
            Err(e) => {
                tracing::error!(error = %e.with_causes(), "resuming unfinished runs failed")
            }
        }
        recovering.set_ready();
    });
    // Cron and poll triggers, due retries and approval expiry, in the engine; their runs go
    // to the workers.
    let (engine, workers) = (api.engine().clone(), api.clone());
    tokio::spawn(async move {
        engine
            .run_triggers(Arc::new(move |run| workers.dispatch(run)))
            .await;
    });
    Ok(http::router(api))
}
