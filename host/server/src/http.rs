//! The HTTP routes over [`Api`]: JSON in, JSON out, errors as `{"error": "..."}` with a
//! status that says what kind of refusal it is.

use axum::Json;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use mageflow_store::Decision;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::api::{Api, ApiError, Start};

impl ApiError {
    /// The HTTP status this refusal maps to.
    pub(crate) fn status(&self) -> StatusCode {
        match self {
            ApiError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ApiError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::Conflict(_) => StatusCode::CONFLICT,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.status(), Json(json!({ "error": self.to_string() }))).into_response()
    }
}

type Answer = Result<Json<Value>, ApiError>;

pub(crate) fn router(api: Api) -> Router {
    Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
        .route("/api/workflows", get(workflows))
        .route("/api/workflows/{name}/runs", post(start))
        .route("/api/runs", get(runs))
        .route("/api/runs/{id}", get(run))
        .route("/api/approvals", get(approvals))
        .route("/api/approvals/{id}", get(approval))
        .route("/api/approvals/{id}/approve", post(approve))
        .route("/api/approvals/{id}/reject", post(reject))
        .route(
            "/hooks/{workflow}",
            post(hook).layer(axum::extract::DefaultBodyLimit::max(
                crate::hooks::MAX_BODY * 2,
            )),
        )
        .merge(crate::ui::routes())
        .with_state(api)
}

/// Ready once unfinished runs have been resumed after a start.
async fn readyz(State(api): State<Api>) -> Response {
    if api.is_ready() {
        "ready".into_response()
    } else {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            "not ready: resuming unfinished runs",
        )
            .into_response()
    }
}

async fn metrics(State(api): State<Api>) -> Response {
    let mut text = api.engine().metrics().render();
    let (retrying, next) = api.engine().retry_queue();
    text.push_str(&format!(
        "# HELP mageflow_runs_retrying Runs waiting to retry a Magento call that kept failing.\n\
         # TYPE mageflow_runs_retrying gauge\nmageflow_runs_retrying {retrying}\n"
    ));
    if let Some(at) = next {
        text.push_str(&format!(
            "# HELP mageflow_retry_next_attempt_timestamp_seconds When the soonest retrying run is attempted again.\n\
             # TYPE mageflow_retry_next_attempt_timestamp_seconds gauge\n\
             mageflow_retry_next_attempt_timestamp_seconds {at}\n"
        ));
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

fn bearer(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(header::AUTHORIZATION)?
        .to_str()
        .ok()?
        .strip_prefix("Bearer ")
        .map(str::trim)
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

async fn workflows(State(api): State<Api>) -> Answer {
    Ok(Json(api.workflows()))
}

async fn start(
    State(api): State<Api>,
    Path(name): Path<String>,
    headers: HeaderMap,
    bytes: axum::body::Bytes,
) -> Result<Response, ApiError> {
    let start: Start = body(&bytes)?;
    let wait = start.wait;
    let run = api.start(&name, start, bearer(&headers)).await?;
    let status = if wait {
        StatusCode::OK
    } else {
        StatusCode::ACCEPTED
    };
    Ok((status, Json(run)).into_response())
}

async fn runs(State(api): State<Api>, Query(f): Query<Filter>) -> Answer {
    Ok(Json(api.runs(f.status.as_deref())?))
}

fn id(text: &str, what: &str) -> Result<u64, ApiError> {
    text.parse()
        .map_err(|_| ApiError::BadRequest(format!("{what} id {text:?} is not a number")))
}

async fn run(State(api): State<Api>, Path(run): Path<String>) -> Answer {
    Ok(Json(api.run(id(&run, "run")?)?))
}

async fn approvals(State(api): State<Api>, Query(f): Query<Filter>) -> Answer {
    Ok(Json(api.approvals(f.status.as_deref())?))
}

async fn approval(State(api): State<Api>, Path(a): Path<String>) -> Answer {
    Ok(Json(api.approval(id(&a, "approval")?)?))
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
    Path(a): Path<String>,
    headers: HeaderMap,
    bytes: axum::body::Bytes,
) -> Answer {
    let b: Approve = body(&bytes)?;
    let decision = Decision::Approve(b.comment);
    Ok(Json(
        api.decide(id(&a, "approval")?, bearer(&headers), decision, b.wait)
            .await?,
    ))
}

async fn reject(
    State(api): State<Api>,
    Path(a): Path<String>,
    headers: HeaderMap,
    bytes: axum::body::Bytes,
) -> Answer {
    let b: Reject = body(&bytes)?;
    let reason = b.reason.filter(|r| !r.trim().is_empty()).ok_or_else(|| {
        ApiError::BadRequest("a rejection needs a reason: {\"reason\": \"...\"}".into())
    })?;
    Ok(Json(
        api.decide(
            id(&a, "approval")?,
            bearer(&headers),
            Decision::Reject(reason),
            b.wait,
        )
        .await?,
    ))
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
            Json(json!({ "op": "success" })).into_response()
        }
        Ok(crate::hooks::Intake::Duplicate(run)) => {
            api.engine().metrics().webhook(&workflow, "duplicate");
            tracing::info!(workflow, run, "duplicate delivery dropped");
            Json(json!({ "op": "success" })).into_response()
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
