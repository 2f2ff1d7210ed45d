//! The HTTP routes over [`Api`]: JSON in, JSON out, errors as `{"error": "..."}` with a
//! status that says what kind of refusal it is. Every route is listed once, in [`table`],
//! with the guard that lets requests in, so no route can be added without one.

use axum::Extension;
use axum::Json;
use axum::Router;
use axum::extract::{Path, Query, Request, State};
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::middleware::{Next, from_fn_with_state};
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodRouter, get, post};
use mageflow_store::Decision;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::api::{Api, ApiError, Start};
use crate::auth::{NewToken, Principal};

impl ApiError {
    /// The HTTP status this refusal maps to.
    pub(crate) fn status(&self) -> StatusCode {
        match self {
            ApiError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ApiError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden(_) => StatusCode::FORBIDDEN,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::Conflict(_) => StatusCode::CONFLICT,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        let body = Json(json!({ "error": self.to_string() }));
        if status == StatusCode::UNAUTHORIZED {
            return (
                status,
                [(header::WWW_AUTHENTICATE, "Bearer realm=\"mageflow\"")],
                body,
            )
                .into_response();
        }
        (status, body).into_response()
    }
}

/// Who a route lets in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Guard {
    /// Anyone: the health checks and the sign-in pages.
    Open,
    /// Webhook deliveries, checked by their signature.
    Signature,
    /// A bearer token, unless `/metrics` is configured open.
    Metrics,
    /// A bearer token: the JSON API.
    Token,
    /// A session of the pages; their forms also carry its CSRF token.
    Session,
    /// A bearer token with the `scim` role for the SCIM root's workflow.
    Scim,
}

/// One route of the server.
#[derive(Debug, Clone)]
pub struct RouteInfo {
    /// Its method.
    pub method: Method,
    /// Its path, with `{param}` placeholders.
    pub path: &'static str,
    /// Who it lets in.
    pub guard: Guard,
}

/// One route and its handler.
pub(crate) type Entry = (RouteInfo, MethodRouter<Api>);

/// A route of `method` at `path`.
pub(crate) fn at(
    method: Method,
    path: &'static str,
    guard: Guard,
    handler: MethodRouter<Api>,
) -> Entry {
    (
        RouteInfo {
            method,
            path,
            guard,
        },
        handler,
    )
}

/// Every route: the API's, the pages' and the webhooks'.
fn table() -> Vec<Entry> {
    let mut t = vec![
        at(Method::GET, "/healthz", Guard::Open, get(|| async { "ok" })),
        at(Method::GET, "/readyz", Guard::Open, get(readyz)),
        at(Method::GET, "/metrics", Guard::Metrics, get(metrics)),
        at(Method::GET, "/api/whoami", Guard::Token, get(whoami)),
        at(Method::GET, "/api/workflows", Guard::Token, get(workflows)),
        at(
            Method::POST,
            "/api/workflows/{name}/runs",
            Guard::Token,
            post(start),
        ),
        at(Method::GET, "/api/runs", Guard::Token, get(runs)),
        at(Method::GET, "/api/runs/{id}", Guard::Token, get(run)),
        at(Method::GET, "/api/approvals", Guard::Token, get(approvals)),
        at(
            Method::GET,
            "/api/approvals/{id}",
            Guard::Token,
            get(approval),
        ),
        at(
            Method::POST,
            "/api/approvals/{id}/approve",
            Guard::Token,
            post(approve),
        ),
        at(
            Method::POST,
            "/api/approvals/{id}/reject",
            Guard::Token,
            post(reject),
        ),
        at(Method::GET, "/api/tokens", Guard::Token, get(tokens)),
        at(
            Method::POST,
            "/api/tokens",
            Guard::Token,
            post(create_token),
        ),
        at(
            Method::POST,
            "/api/tokens/{id}/revoke",
            Guard::Token,
            post(revoke_token),
        ),
        at(Method::GET, "/api/audit", Guard::Token, get(audit)),
        at(
            Method::POST,
            "/hooks/{workflow}",
            Guard::Signature,
            post(hook).layer(axum::extract::DefaultBodyLimit::max(
                crate::hooks::MAX_BODY * 2,
            )),
        ),
    ];
    t.extend(crate::ui::table());
    t.extend(crate::scim::table());
    t
}

/// Every route the server answers, with its guard (the security tests call each one).
pub fn routes() -> Vec<RouteInfo> {
    table().into_iter().map(|(info, _)| info).collect()
}

pub(crate) fn router(api: Api) -> Router {
    let mut router = Router::new();
    for (info, handler) in table() {
        let handler = match info.guard {
            Guard::Open | Guard::Signature => handler,
            Guard::Metrics => handler.route_layer(from_fn_with_state(api.clone(), metrics_guard)),
            Guard::Token => handler.route_layer(from_fn_with_state(api.clone(), token_guard)),
            Guard::Session => {
                handler.route_layer(from_fn_with_state(api.clone(), crate::ui::session_guard))
            }
            Guard::Scim => handler.route_layer(from_fn_with_state(api.clone(), crate::scim::guard)),
        };
        router = router.route(info.path, handler);
    }
    router.with_state(api)
}

/// Lets in a request with a known bearer token, and hands its principal to the handler.
async fn token_guard(State(api): State<Api>, mut req: Request, next: Next) -> Response {
    match api.access.bearer(req.headers()) {
        Ok(who) => {
            req.extensions_mut().insert(who);
            next.run(req).await
        }
        Err(e) => e.into_response(),
    }
}

/// `/metrics`: open when so configured, else as the API.
async fn metrics_guard(State(api): State<Api>, req: Request, next: Next) -> Response {
    if api.access.config.metrics_open {
        return next.run(req).await;
    }
    token_guard(State(api), req, next).await
}

type Answer = Result<Json<Value>, ApiError>;

/// Ready once unfinished runs have been resumed after a start, and while the store answers
/// (a PostgreSQL store can be down while the process runs).
async fn readyz(State(api): State<Api>) -> Response {
    let engine = api.engine().clone();
    let store = tokio::task::spawn_blocking(move || engine.store().check()).await;
    let down = match store {
        Ok(Ok(())) => None,
        Ok(Err(e)) => Some(e.to_string()),
        Err(e) => Some(e.to_string()),
    };
    if let Some(why) = down {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            format!("not ready: the store does not answer: {why}"),
        )
            .into_response()
    } else if api.is_ready() {
        "ready".into_response()
    } else {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            "not ready: resuming unfinished runs",
        )
            .into_response()
    }
}

/// Commerce's answer to a delivery taken, with what became of it for whoever reads headers
/// (`x-mageflow-delivery: queued` or `duplicate`, and the run in `x-mageflow-run`).
fn delivered(what: &'static str, run: u64) -> Response {
    (
        [
            ("x-mageflow-delivery", what.to_owned()),
            ("x-mageflow-run", run.to_string()),
        ],
        Json(json!({ "op": "success" })),
    )
        .into_response()
}

async fn metrics(State(api): State<Api>) -> Response {
    let metrics = api.engine().metrics().clone();
    let mut text = metrics.render();
    let (retrying, next) = api.engine().retry_queue();
    metrics.gauge(
        &mut text,
        "mageflow_runs_retrying",
        "Runs waiting to retry a Magento call that kept failing.",
        retrying as f64,
    );
    if let Some(at) = next {
        metrics.gauge(
            &mut text,
            "mageflow_retry_next_attempt_timestamp_seconds",
            "When the soonest retrying run is attempted again.",
            at as f64,
        );
    }
    let engine = api.engine().clone();
    let now = mageflow_model::now_secs();
    let queue = tokio::task::spawn_blocking(move || engine.store().queue_stats(now)).await;
    match queue {
        Ok(Ok(q)) => {
            metrics.gauge(
                &mut text,
                "mageflow_queue_depth",
                "Runs due now that no worker holds (queued, woken by a decision, due to retry, or left by a worker that died).",
                q.depth as f64,
            );
            metrics.gauge(
                &mut text,
                "mageflow_queue_oldest_age_seconds",
                "How long ago the oldest of those runs was created (0 when none waits).",
                q.oldest_created_at.map_or(0, |t| now.saturating_sub(t)) as f64,
            );
        }
        Ok(Err(e)) => {
            tracing::warn!(error = %e, "the queue's depth could not be read for /metrics")
        }
        Err(e) => tracing::warn!(error = %e, "the queue's depth could not be read for /metrics"),
    }
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        text,
    )
        .into_response()
}

fn body<T: serde::de::DeserializeOwned + Default>(bytes: &[u8]) -> Result<T, ApiError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(T::default());
    }
    serde_json::from_slice(bytes).map_err(|e| {
        ApiError::BadRequest(format!("the request body is not the JSON expected: {e}"))
    })
}

#[derive(Deserialize, Default)]
struct Filter {
    status: Option<String>,
}

type Who = Extension<Principal>;

async fn whoami(Extension(who): Who) -> Answer {
    Ok(Json(json!({
        "name": who.name,
        "roles": who.roles_text(),
        "grants": who.grants,
        "groups": who.groups,
        "via": who.via,
    })))
}

async fn workflows(State(api): State<Api>, Extension(who): Who) -> Answer {
    Ok(Json(api.workflows(&who)))
}

async fn start(
    State(api): State<Api>,
    Extension(who): Who,
    Path(name): Path<String>,
    bytes: axum::body::Bytes,
) -> Result<Response, ApiError> {
    let start: Start = body(&bytes)?;
    let wait = start.wait;
    let run = api.start(&name, start, &who).await?;
    let status = if wait {
        StatusCode::OK
    } else {
        StatusCode::ACCEPTED
    };
    Ok((status, Json(run)).into_response())
}

async fn runs(State(api): State<Api>, Extension(who): Who, Query(f): Query<Filter>) -> Answer {
    Ok(Json(api.runs(f.status.as_deref(), &who)?))
}

fn id(text: &str, what: &str) -> Result<u64, ApiError> {
    text.parse()
        .map_err(|_| ApiError::BadRequest(format!("{what} id {text:?} is not a number")))
}

async fn run(State(api): State<Api>, Extension(who): Who, Path(run): Path<String>) -> Answer {
    Ok(Json(api.run(id(&run, "run")?, &who)?))
}

async fn approvals(State(api): State<Api>, Extension(who): Who, Query(f): Query<Filter>) -> Answer {
    Ok(Json(api.approvals(f.status.as_deref(), &who)?))
}

async fn approval(State(api): State<Api>, Extension(who): Who, Path(a): Path<String>) -> Answer {
    Ok(Json(api.approval(id(&a, "approval")?, &who)?))
}

#[derive(Deserialize, Default)]
struct Approve {
    comment: Option<String>,
    #[serde(default)]
    wait: bool,
}

#[derive(Deserialize, Default)]
struct Reject {
    reason: Option<String>,
    #[serde(default)]
    wait: bool,
}

async fn approve(
    State(api): State<Api>,
    Extension(who): Who,
    Path(a): Path<String>,
    bytes: axum::body::Bytes,
) -> Answer {
    let b: Approve = body(&bytes)?;
    let decision = Decision::Approve(b.comment);
    Ok(Json(
        api.decide(id(&a, "approval")?, &who, decision, b.wait)
            .await?,
    ))
}

async fn reject(
    State(api): State<Api>,
    Extension(who): Who,
    Path(a): Path<String>,
    bytes: axum::body::Bytes,
) -> Answer {
    let b: Reject = body(&bytes)?;
    let reason = b.reason.unwrap_or_default();
    Ok(Json(
        api.decide(id(&a, "approval")?, &who, Decision::Reject(reason), b.wait)
            .await?,
    ))
}

async fn tokens(State(api): State<Api>, Extension(who): Who) -> Answer {
    Ok(Json(api.tokens(&who)?))
}

async fn create_token(
    State(api): State<Api>,
    Extension(who): Who,
    bytes: axum::body::Bytes,
) -> Result<Response, ApiError> {
    let new: NewToken = body(&bytes)?;
    Ok((StatusCode::CREATED, Json(api.create_token(&new, &who)?)).into_response())
}

async fn revoke_token(
    State(api): State<Api>,
    Extension(who): Who,
    Path(token): Path<String>,
) -> Answer {
    Ok(Json(api.revoke_token(&token, &who)?))
}

async fn audit(State(api): State<Api>, Extension(who): Who) -> Answer {
    Ok(Json(Value::Array(api.audit(&who)?)))
}

async fn hook(
    State(api): State<Api>,
    Path(workflow): Path<String>,
    headers: HeaderMap,
    bytes: axum::body::Bytes,
) -> Response {
    let refuse = |status: StatusCode, message: String| {
        (
            status,
            Json(json!({ "op": "exception", "message": message })),
        )
            .into_response()
    };
    let (Some((verifier, events)), Some(commit)) = (api.hooks.get(&workflow), api.commit.as_ref())
    else {
        return refuse(
            StatusCode::NOT_FOUND,
            format!("no webhook workflow is named {workflow:?}"),
        );
    };
    match crate::hooks::intake(
        api.engine(),
        commit,
        verifier,
        events,
        &workflow,
        &headers,
        &bytes,
    )
    .await
    {
        Ok(crate::hooks::Intake::Queued(run)) => {
            api.engine().metrics().webhook(&workflow, "queued");
            api.dispatch(run);
            delivered("queued", run)
        }
        Ok(crate::hooks::Intake::Duplicate(run)) => {
            api.engine().metrics().webhook(&workflow, "duplicate");
            tracing::info!(workflow, run, "duplicate delivery dropped");
            delivered("duplicate", run)
        }
        Ok(crate::hooks::Intake::Ignored(name)) => {
            api.engine().metrics().webhook(&workflow, "ignored");
            tracing::info!(
                workflow,
                event = name,
                "delivery of an event the workflow does not take"
            );
            Json(json!({ "op": "success" })).into_response()
        }
        Err(crate::hooks::Refused(status, message)) => {
            api.engine().metrics().webhook(&workflow, "refused");
            tracing::warn!(workflow, %status, message, "webhook refused");
            refuse(status, message)
        }
    }
}
