//! Test controls under `/__sim/` (never a Magento path): the write log, the outbox, fault
//! injection, the clock, the bulk consumer, webhook targets, and a reset.

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::json;

use crate::Sim;
use crate::faults::Fault;
use crate::http::json_response;

/// The `/__sim/` routes.
pub fn routes() -> Router<Arc<Sim>> {
    Router::new()
        .route("/__sim/writes", get(writes))
        .route("/__sim/outbox", get(outbox))
        .route(
            "/__sim/faults",
            get(list_faults).post(add_faults).delete(clear_faults),
        )
        .route("/__sim/clock", get(clock_now).post(clock_advance))
        .route("/__sim/reset", post(reset))
        .route("/__sim/consumer", post(consumer))
        .route("/__sim/webhooks", get(deliveries).post(set_webhook))
        .route("/__sim/webhooks/key", get(webhook_key))
        .route("/__sim/integrations", get(integrations))
}

fn bad(message: &str) -> Response {
    json_response(StatusCode::BAD_REQUEST, &json!({ "message": message }))
}

fn parse<T: DeserializeOwned>(body: &[u8], what: &str) -> Result<T, Response> {
    serde_json::from_slice(body).map_err(|e| bad(&format!("bad {what} body: {e}")))
}

async fn writes(State(sim): State<Arc<Sim>>) -> Response {
    json_response(StatusCode::OK, &sim.read().writes)
}

async fn outbox(State(sim): State<Arc<Sim>>) -> Response {
    json_response(StatusCode::OK, &sim.read().outbox)
}

async fn list_faults(State(sim): State<Arc<Sim>>) -> Response {
    json_response(StatusCode::OK, &sim.read().faults)
}

/// One fault object or a list of them; they add to the faults in force.
#[derive(Deserialize)]
#[serde(untagged)]
enum Faults {
    One(Fault),
    Many(Vec<Fault>),
}

async fn add_faults(State(sim): State<Arc<Sim>>, body: Bytes) -> Response {
    let faults = match parse::<Faults>(&body, "fault") {
        Ok(Faults::One(f)) => vec![f],
        Ok(Faults::Many(list)) => list,
        Err(r) => return r,
    };
    let mut state = sim.write();
    state.faults.extend(faults);
    json_response(StatusCode::OK, &state.faults)
}

async fn clear_faults(State(sim): State<Arc<Sim>>) -> Response {
    sim.write().faults.clear();
    json_response(StatusCode::OK, &true)
}

fn now_json(sim: &Sim) -> serde_json::Value {
    let now = sim.clock.now();
    json!({ "unix": now, "now": crate::time::format_ts(now) })
}

async fn clock_now(State(sim): State<Arc<Sim>>) -> Response {
    json_response(StatusCode::OK, &now_json(&sim))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Advance {
    advance_secs: i64,
}

async fn clock_advance(State(sim): State<Arc<Sim>>, body: Bytes) -> Response {
    match parse::<Advance>(&body, "clock") {
        Ok(a) => {
            sim.clock.advance(a.advance_secs);
            json_response(StatusCode::OK, &now_json(&sim))
        }
        Err(r) => r,
    }
}

async fn reset(State(sim): State<Arc<Sim>>) -> Response {
    sim.reset();
    json_response(StatusCode::OK, &true)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ConsumerSwitch {
    running: bool,
}

async fn consumer(State(sim): State<Arc<Sim>>, body: Bytes) -> Response {
    match parse::<ConsumerSwitch>(&body, "consumer") {
        Ok(c) => {
            sim.write().consumer_running = c.running;
            sim.consumer_wake.notify_one();
            json_response(StatusCode::OK, &json!({ "running": c.running }))
        }
        Err(r) => r,
    }
}

async fn deliveries(State(sim): State<Arc<Sim>>) -> Response {
    json_response(StatusCode::OK, &sim.read().deliveries)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Target {
    url: Option<String>,
}

async fn set_webhook(State(sim): State<Arc<Sim>>, body: Bytes) -> Response {
    match parse::<Target>(&body, "webhook") {
        Ok(t) => {
            if t.url.is_some() {
                // Make the key now, so the first delivery does not pay for it.
                sim.webhook_key();
            }
            sim.write().webhook_url = t.url;
            json_response(
                StatusCode::OK,
                &json!({ "public_key": sim.webhook_key().public_pem }),
            )
        }
        Err(r) => r,
    }
}

async fn webhook_key(State(sim): State<Arc<Sim>>) -> Response {
    (StatusCode::OK, sim.webhook_key().public_pem.clone()).into_response()
}

async fn integrations(State(sim): State<Arc<Sim>>) -> Response {
    let list: Vec<_> = sim
        .read()
        .integrations
        .iter()
        .map(|i| {
            json!({"id": i.id, "name": i.name, "consumer_key": i.consumer_key, "consumer_secret": i.consumer_secret,
                   "access_token": i.access_token, "access_token_secret": i.access_token_secret})
        })
        .collect();
    json_response(StatusCode::OK, &list)
}
