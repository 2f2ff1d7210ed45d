//! The Magento side of the server: store-code routing (`/rest[/<store>][/async[/bulk]]/V1/...`),
//! the route table with each route's ACL resource, authentication, body decoding, and dispatch.
//! Any path or method the table does not know answers Magento's 404.

use std::sync::Arc;
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde_json::{Value, json};

use crate::Sim;
use crate::auth::{self, Principal, allowed, authenticate};
use crate::bulk;
use crate::customers::{self, Ctx};
use crate::error::{MResult, MagentoError};
use crate::input::{normalize, parse_int, string};
use crate::model::{store_views, websites};
use crate::routes::{Ep, Mode, parse_path, route};
use crate::webhooks::{self, Event};
use crate::{admin_users, criteria, faults};

/// A JSON answer with Magento's content type.
pub fn json_response<T: Serialize + ?Sized>(status: StatusCode, value: &T) -> Response {
    bytes_response(
        status,
        serde_json::to_vec(value).expect("response bodies always serialise"),
    )
}

fn bytes_response(status: StatusCode, body: Vec<u8>) -> Response {
    let mut r = Response::new(Body::from(body));
    *r.status_mut() = status;
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json; charset=utf-8"),
    );
    r
}

/// Decodes a JSON request body, with Magento's answers for a missing or bad content type.
fn decode_body(headers: &HeaderMap, body: &[u8]) -> MResult<Value> {
    let ct = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase();
    if ct.trim().is_empty() {
        return Err(MagentoError::bad_request("Content-Type header is empty."));
    }
    if !ct.contains("json") {
        return Err(MagentoError::bad_request("Content-Type header is invalid."));
    }
    if ct.contains("charset=") && !ct.contains("charset=utf-8") {
        return Err(MagentoError::bad_request(
            "UTF-8 is the only supported charset.",
        ));
    }
    serde_json::from_slice(body).map_err(|_| MagentoError::decoding())
}

/// A path id: not an integer is a type error; a negative one names no entity (Magento casts
/// and then finds nothing, e.g. `fieldValue: -1`).
fn id_of(raw: &str, field: &str) -> MResult<u64> {
    let n = parse_int(&Value::String(raw.to_owned()))?;
    u64::try_from(n).map_err(|_| MagentoError::no_such_entity(field, n))
}

/// The fallback handler: every `/rest/...` request.
pub async fn magento(
    State(sim): State<Arc<Sim>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let path = uri.path();
    let parsed = parse_path(path);
    let api_path = parsed.as_ref().map_or(path.to_owned(), |p| p.3.clone());
    // Most requests meet no fault: look under the read lock first so the hot path never
    // serialises on the write lock.
    let has_faults = !sim.read().faults.is_empty();
    let fault = if has_faults {
        faults::check(&mut sim.write().faults, method.as_str(), &api_path)
    } else {
        None
    };
    let mut after = None;
    if let Some(action) = fault {
        if action.latency_ms > 0 {
            tokio::time::sleep(Duration::from_millis(action.latency_ms)).await;
        }
        if action.after {
            after = Some(action);
        } else if action.drop {
            return dropped();
        } else if let Some(code) = action.status {
            return injected(code, action.retry_after);
        }
    }
    let started = std::time::Instant::now();
    let (response, events) = match handle(&sim, &method, &uri, &headers, &body, parsed) {
        Ok((r, events)) => (r, events),
        Err(e) => (e.into_response(), Vec::new()),
    };
    tracing::debug!(%method, path, status = response.status().as_u16(), elapsed_us = started.elapsed().as_micros() as u64, "request");
    if !events.is_empty() {
        webhooks::deliver(&sim, events).await;
    }
    match after {
        Some(faults::Action { drop: true, .. }) => dropped(),
        Some(faults::Action {
            status: Some(code),
            retry_after,
            ..
        }) => injected(code, retry_after),
        _ => response,
    }
}

type Handled = (Response, Vec<Event>);

fn handle(
    sim: &Sim,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    body: &[u8],
    parsed: Option<(u32, Mode, Vec<&str>, String)>,
) -> MResult<Handled> {
    let (store_id, mode, segs, _) = parsed.ok_or_else(MagentoError::no_route)?;
    let (ep, resource) = route(method, mode, &segs, sim.config.admin_users_api.on())
        .ok_or_else(MagentoError::no_route)?;
    let path_and_query = uri.path_and_query().map_or(uri.path(), |p| p.as_str());
    let who = authenticate(sim, headers, method.as_str(), path_and_query)?;
    {
        let state = sim.read();
        if !allowed(&state, who, resource) {
            return Err(MagentoError::unauthorized(resource));
        }
    }
    let needs_body = matches!(*method, Method::POST | Method::PUT);
    let body = if needs_body {
        decode_body(headers, body)?
    } else {
        Value::Null
    };
    let query = uri.query().unwrap_or("");
    let ctx = Ctx {
        now: sim.clock.now(),
        store_id,
        via: "rest",
    };
    Ok(match ep {
        Ep::AdminToken => ok(&auth::login(sim, auth::Kind::Admin, &body)?),
        Ep::CustomerToken => ok(&auth::login(sim, auth::Kind::Customer, &body)?),
        Ep::RevokeCustomerToken => {
            let m = normalize(&body, &["customer_id"])?;
            let id = crate::input::int(&m, "customer_id")?
                .ok_or_else(|| MagentoError::required("customerId"))?;
            sim.write().revoke_tokens(Principal::Customer(id as u64));
            ok(&true)
        }
        Ep::CustomerSearch => {
            let criteria = search_criteria(sim, query)?;
            (
                bytes_response(
                    StatusCode::OK,
                    customers::search_json(&sim.read(), &criteria)?,
                ),
                Vec::new(),
            )
        }
        Ep::CustomerGet(raw) => {
            let id = id_of(&raw, "customerId")?;
            let state = sim.read();
            let c = state
                .customer(id)
                .ok_or_else(|| MagentoError::no_such_entity("customerId", id))?;
            ok(c)
        }
        Ep::MeGet => {
            let state = sim.read();
            let id = who.user_id();
            ok(state
                .customer(id)
                .ok_or_else(|| MagentoError::no_such_entity("customerId", id))?)
        }
        Ep::CustomerCreate => {
            let (c, events) = customers::create(&mut sim.write(), &ctx, &body)?;
            (json_response(StatusCode::OK, &c), events)
        }
        Ep::CustomerUpdate(raw) => {
            let id = id_of(&raw, "customerId")?;
            let (c, events) =
                customers::update(&mut sim.write(), &ctx, id, &body, sim.config.put_mode)?;
            (json_response(StatusCode::OK, &c), events)
        }
        Ep::MePut => {
            // Self routes never take an id from the caller: it is forced to the token's customer.
            let mut body = body;
            if let Some(c) = body.get_mut("customer").and_then(Value::as_object_mut) {
                c.remove("id");
            }
            let (c, events) = customers::update(
                &mut sim.write(),
                &ctx,
                who.user_id(),
                &body,
                crate::config::PutMode::Merge,
            )?;
            (json_response(StatusCode::OK, &c), events)
        }
        Ep::CustomerDelete(raw) => {
            let id = id_of(&raw, "customerId")?;
            let event = customers::delete(&mut sim.write(), &ctx, id)?;
            (json_response(StatusCode::OK, &true), vec![event])
        }
        Ep::IsEmailAvailable => ok(&email_available(sim, store_id, &body)?),
        Ep::GroupSearch => {
            let criteria = search_criteria(sim, query)?;
            let state = sim.read();
            let groups: Vec<_> = state.groups.values().collect();
            let window = criteria.window(groups.len());
            ok(
                &json!({"items": groups[window].to_vec(), "search_criteria": criteria.echo(), "total_count": groups.len()}),
            )
        }
        Ep::GroupDefault => ok(&sim.read().groups[&1].clone()),
        Ep::GroupGet(raw) => {
            let id = id_of(&raw, "id")?;
            let state = sim.read();
            ok(state
                .groups
                .get(&(id as u32))
                .ok_or_else(|| MagentoError::no_such_entity("id", id))?)
        }
        Ep::Websites => ok(&websites()),
        Ep::StoreViews => ok(&store_views()),
        Ep::UserSearch => {
            let criteria = search_criteria(sim, query)?;
            (
                bytes_response(
                    StatusCode::OK,
                    admin_users::search_json(&sim.read(), &criteria)?,
                ),
                Vec::new(),
            )
        }
        Ep::UserGet(raw) => {
            let id = id_of(&raw, "userId")?;
            let state = sim.read();
            ok(state
                .admin_users
                .get(&id)
                .ok_or_else(|| MagentoError::no_such_entity("userId", id))?)
        }
        Ep::UserCreate => ok(&admin_users::create(&mut sim.write(), ctx.now, &body)?),
        Ep::UserUpdate(raw) => ok(&admin_users::update(
            &mut sim.write(),
            ctx.now,
            id_of(&raw, "userId")?,
            &body,
        )?),
        Ep::UserDelete(raw) => {
            admin_users::delete(&mut sim.write(), ctx.now, who, id_of(&raw, "userId")?)?;
            ok(&true)
        }
        Ep::Roles => ok(&admin_users::roles_json(&sim.read())),
        Ep::RoleGet(raw) => {
            let id = id_of(&raw, "roleId")?;
            let state = sim.read();
            ok(state
                .roles
                .get(&(id as u32))
                .ok_or_else(|| MagentoError::no_such_entity("roleId", id))?)
        }
        Ep::BulkLog => {
            let criteria = search_criteria(sim, query)?;
            ok(&bulk::search_log(&sim.read(), &criteria)?)
        }
        Ep::BulkStatus(uuid) => ok(&bulk::short_status(&sim.read(), &uuid)?),
        Ep::BulkDetailed(uuid) => ok(&bulk::detailed_status(&sim.read(), &uuid)?),
        Ep::BulkCount(uuid, s) => {
            let wanted = id_of(&s, "status")? as u8;
            ok(&bulk::count_with_status(&sim.read(), &uuid, wanted)?)
        }
        Ep::AsyncCreate | Ep::AsyncSave => {
            let kind = if ep == Ep::AsyncCreate {
                bulk::Kind::Create
            } else {
                bulk::Kind::Save
            };
            let answer =
                bulk::submit(&mut sim.write(), &ctx, who, kind, &body, mode == Mode::Bulk)?;
            sim.consumer_wake.notify_one();
            (json_response(StatusCode::ACCEPTED, &answer), Vec::new())
        }
    })
}

/// Reads `searchCriteria` with the installation's input-limit and past-the-end behaviour.
fn search_criteria(sim: &Sim, query: &str) -> MResult<criteria::Criteria> {
    let mut c = criteria::parse(query, sim.config.input_limits.on())?;
    c.repeat_last_page = sim.config.past_end == crate::config::PastEnd::LastPage;
    Ok(c)
}

/// `POST /V1/customers/isEmailAvailable`.
fn email_available(sim: &Sim, store_id: u32, body: &Value) -> MResult<bool> {
    let m = normalize(body, &["customer_email", "website_id"])?;
    let email =
        string(&m, "customer_email")?.ok_or_else(|| MagentoError::required("customerEmail"))?;
    // 2.4.7+: with guest checkout login off the answer is always true (no account enumeration).
    if !sim.config.guest_checkout_login.on() {
        return Ok(true);
    }
    let default_site = store_views()
        .iter()
        .find(|s| s.id == store_id.max(1))
        .map_or(1, |s| s.website_id);
    let website = crate::input::int(&m, "website_id")?.map_or(default_site, |w| w as u32);
    Ok(!sim
        .read()
        .email_index
        .contains_key(&(website, email.to_ascii_lowercase())))
}

/// An injected error answer, shaped as Magento or its web server would send it.
fn injected(code: u16, retry_after: Option<u64>) -> Response {
    let status = StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let message = match code {
        500 => format!(
            "Internal Error. Details are available in Magento log file. Report ID: webapi-{:013x}",
            rand::random::<u64>() >> 12
        ),
        429 => "Too Many Requests".to_owned(),
        _ => status.canonical_reason().unwrap_or("Error").to_owned(),
    };
    let mut r = json_response(status, &json!({ "message": message }));
    if let Some(secs) = retry_after {
        r.headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(secs));
    }
    r
}

/// A response whose body fails at once: hyper aborts the connection, so the client sees a
/// dropped connection rather than an answer.
fn dropped() -> Response {
    Response::new(Body::from_stream(failing_stream()))
}

fn failing_stream() -> impl futures_core::Stream<Item = Result<Bytes, std::io::Error>> {
    struct Fail(bool);
    impl futures_core::Stream for Fail {
        type Item = Result<Bytes, std::io::Error>;
        fn poll_next(
            mut self: std::pin::Pin<&mut Self>,
            _: &mut std::task::Context<'_>,
        ) -> std::task::Poll<Option<Self::Item>> {
            if self.0 {
                return std::task::Poll::Ready(None);
            }
            self.0 = true;
            std::task::Poll::Ready(Some(Err(std::io::Error::new(
                std::io::ErrorKind::ConnectionAborted,
                "fault: drop",
            ))))
        }
    }
    Fail(false)
}

/// A 200 with a JSON body and no webhook events.
fn ok<T: Serialize + ?Sized>(value: &T) -> Handled {
    (json_response(StatusCode::OK, value), Vec::new())
}
