//! The SCIM 2.0 bridge (RFC 7643, RFC 7644): `/scim/v2/admin` provisions Magento admin users
//! (groups map to admin roles) and `/scim/v2/customers` storefront customers (groups map to
//! customer groups). Each root is its own application in the identity provider, with its own
//! bearer token: a principal with the `scim` role for the root's workflow.
//!
//! The protocol is [`mageflow_scim`]'s; the bridge ([`bridge`]) keeps the resources in the
//! store and carries every Magento change out as a run of the root's workflow (the
//! scim-bridge plugin), so it is durable, exactly once, audited, and held for an approval
//! where the root gates it. While a change waits, the resource is answered as asked for, with
//! `urn:mageflow:params:scim:schemas:extension:approval:2.0:User` saying
//! `{"state": "pending", "run": N}`; a re-send joins the same run; after a rejection, the
//! same change is refused with a 403 whose detail names who rejected it and why.

mod account;
mod bridge;
pub mod config;
mod records;

use axum::body::Bytes;
use axum::extract::{Path, Query, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, patch, post, put};
use mageflow_scim::query::{ListQuery, Projection};
use mageflow_scim::{Kind, MEDIA_TYPE, Schema, ScimError, ScimType, schema};
use serde_json::{Value, json};

pub use bridge::APPROVAL_EXTENSION;
pub(crate) use bridge::Bridge;

use crate::api::Api;
use crate::auth::{Principal, Role};
use crate::http::{Entry, Guard, at};

/// A SCIM answer: `application/scim+json`.
fn scim(status: StatusCode, body: &Value) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, HeaderValue::from_static(MEDIA_TYPE))],
        body.to_string(),
    )
        .into_response()
}

fn error(e: &ScimError) -> Response {
    let status = StatusCode::from_u16(e.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut r = scim(status, &e.body());
    if e.status == 401 {
        r.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Bearer realm=\"mageflow-scim\""),
        );
    }
    r
}

/// Lets in a bearer token with the `scim` role for the root's workflow; refusals are SCIM
/// errors, so they show in the identity provider's provisioning log.
pub(crate) async fn guard(
    State(api): State<Api>,
    Path(params): Path<Vec<(String, String)>>,
    mut req: Request,
    next: Next,
) -> Response {
    let root = params
        .iter()
        .find(|(k, _)| k == "root")
        .map(|(_, v)| v.clone())
        .unwrap_or_default();
    let who = match api.access.bearer(req.headers()) {
        Ok(who) => who,
        Err(e) => return error(&ScimError::new(401, e.to_string())),
    };
    let Some(cfg) = api.scim.config.root(&root) else {
        return error(&ScimError::not_found(format!(
            "no SCIM root /scim/v2/{root}: mageflow.toml turns on [scim.admin] and [scim.customers]"
        )));
    };
    if !who.may(Role::Scim, Some(&cfg.workflow)) {
        return error(&ScimError::new(
            403,
            format!(
                "{} may not provision through /scim/v2/{root}: that needs the scim role for workflow {} (mageflow tokens create --roles scim --workflows {})",
                who.name, cfg.workflow, cfg.workflow
            ),
        ));
    }
    req.extensions_mut().insert(who);
    next.run(req).await
}

/// The routes of both roots.
pub(crate) fn table() -> Vec<Entry> {
    let mut t = Vec::new();
    for kind in ["Users", "Groups"] {
        let (list, one): (&'static str, &'static str) = match kind {
            "Users" => ("/scim/v2/{root}/Users", "/scim/v2/{root}/Users/{id}"),
            _ => ("/scim/v2/{root}/Groups", "/scim/v2/{root}/Groups/{id}"),
        };
        t.push(at(Method::GET, list, Guard::Scim, get(list_resources)));
        t.push(at(Method::POST, list, Guard::Scim, post(create)));
        t.push(at(Method::GET, one, Guard::Scim, get(read)));
        t.push(at(Method::PUT, one, Guard::Scim, put(replace)));
        t.push(at(Method::PATCH, one, Guard::Scim, patch(modify)));
        t.push(at(Method::DELETE, one, Guard::Scim, delete(remove)));
    }
    for path in [
        "/scim/v2/{root}/.search",
        "/scim/v2/{root}/Users/.search",
        "/scim/v2/{root}/Groups/.search",
    ] {
        t.push(at(Method::POST, path, Guard::Scim, post(search)));
    }
    t.push(at(
        Method::GET,
        "/scim/v2/{root}/{*rest}",
        Guard::Scim,
        get(unknown),
    ));
    for path in [
        "/scim/v2/{root}/ServiceProviderConfig",
        "/scim/v2/{root}/ResourceTypes",
        "/scim/v2/{root}/ResourceTypes/{id}",
        "/scim/v2/{root}/Schemas",
        "/scim/v2/{root}/Schemas/{id}",
    ] {
        t.push(at(Method::GET, path, Guard::Scim, get(discovery)));
    }
    t
}

fn kind_of(uri: &axum::http::Uri) -> Kind {
    if uri.path().contains("/Groups") {
        Kind::Group
    } else {
        Kind::User
    }
}

/// The root's absolute URL, from the request's Host (and a proxy's X-Forwarded-Proto).
fn base(headers: &HeaderMap, root: &str) -> String {
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("localhost");
    let proto = headers
        .get("x-forwarded-proto")
        .and_then(|h| h.to_str().ok())
        .unwrap_or("http");
    format!("{proto}://{host}/scim/v2/{root}")
}

/// The identity provider's request id (Entra's `client-request-id`, a proxy's `x-request-id`).
fn request_id(headers: &HeaderMap) -> String {
    ["client-request-id", "x-request-id", "x-okta-request-id"]
        .iter()
        .find_map(|h| headers.get(*h).and_then(|v| v.to_str().ok()))
        .map(str::to_owned)
        .unwrap_or_else(|| format!("mageflow-{:016x}", rand::random::<u64>()))
}

/// What every SCIM handler starts from: the root (the guard let the request in), who asks,
/// the resource type and id the path names, and the query.
struct Call {
    root: config::RootConfig,
    base: String,
    who: String,
    request: String,
    kind: Kind,
    id: String,
    query: Vec<(String, String)>,
}

impl Call {
    fn ctx(&self) -> bridge::Ctx<'_> {
        bridge::Ctx {
            root: &self.root,
            base: self.base.clone(),
            who: self.who.clone(),
            request: self.request.clone(),
        }
    }

    fn query(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

impl axum::extract::FromRequestParts<Api> for Call {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        api: &Api,
    ) -> Result<Call, Response> {
        let Path(params) = Path::<Vec<(String, String)>>::from_request_parts(parts, api)
            .await
            .map_err(|e| error(&ScimError::not_found(e.to_string())))?;
        let param = |name: &str| {
            params
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.clone())
                .unwrap_or_default()
        };
        let name = param("root");
        let root = api.scim.config.root(&name).cloned().ok_or_else(|| {
            error(&ScimError::not_found(format!(
                "no SCIM root /scim/v2/{name}"
            )))
        })?;
        let who = parts
            .extensions
            .get::<Principal>()
            .map(|p| p.name.clone())
            .unwrap_or_default();
        let Query(query) = Query::<Vec<(String, String)>>::from_request_parts(parts, api)
            .await
            .map_err(|e| error(&ScimError::bad(ScimType::InvalidValue, e.to_string())))?;
        Ok(Call {
            base: base(&parts.headers, &name),
            request: request_id(&parts.headers),
            kind: kind_of(&parts.uri),
            id: param("id"),
            root,
            who,
            query,
        })
    }
}

fn body_json(body: &Bytes) -> Result<Value, ScimError> {
    serde_json::from_slice(body).map_err(|e| {
        ScimError::bad(
            ScimType::InvalidSyntax,
            format!("the body is not JSON: {e}"),
        )
    })
}

fn answer(r: Result<Value, ScimError>, status: StatusCode) -> Response {
    match r {
        Ok(v) => scim(status, &v),
        Err(e) => error(&e),
    }
}

async fn list_resources(State(api): State<Api>, call: Call) -> Response {
    let r = ListQuery::parse(&call.query, bridge::MAX_RESULTS)
        .and_then(|q| api.scim.list(&call.ctx(), call.kind, &q));
    answer(r, StatusCode::OK)
}

/// A SearchRequest body (RFC 7644 §3.4.3) as the query parameters it stands for.
fn search_params(body: &Value) -> Vec<(String, String)> {
    let mut params = Vec::new();
    let Some(o) = body.as_object() else {
        return params;
    };
    for (k, v) in o {
        let text = match v {
            Value::String(s) => s.clone(),
            Value::Number(n) => n.to_string(),
            Value::Array(items) => items
                .iter()
                .filter_map(Value::as_str)
                .collect::<Vec<_>>()
                .join(","),
            _ => continue,
        };
        params.push((k.clone(), text));
    }
    params
}

/// `POST /.search`, at the root (users and groups) or under a resource type.
async fn search(State(api): State<Api>, call: Call, uri: axum::http::Uri, body: Bytes) -> Response {
    let kinds: Vec<Kind> = if uri.path().contains("/Users/") {
        vec![Kind::User]
    } else if uri.path().contains("/Groups/") {
        vec![Kind::Group]
    } else {
        vec![Kind::User, Kind::Group]
    };
    let r = body_json(&body)
        .and_then(|b| ListQuery::parse(&search_params(&b), bridge::MAX_RESULTS))
        .and_then(|q| api.scim.search(&call.ctx(), &kinds, &q));
    answer(r, StatusCode::OK)
}

/// Anything else under a root: a SCIM 404.
async fn unknown(uri: axum::http::Uri) -> Response {
    error(&ScimError::not_found(format!(
        "{} is not a SCIM endpoint: the roots serve /Users, /Groups, /.search, /ServiceProviderConfig, /ResourceTypes and /Schemas",
        uri.path()
    )))
}

async fn read(State(api): State<Api>, call: Call) -> Response {
    let r = Projection::parse(call.query("attributes"), call.query("excludedAttributes"))
        .and_then(|p| api.scim.get(&call.ctx(), call.kind, &call.id, &p));
    answer(r, StatusCode::OK)
}

async fn create(State(api): State<Api>, call: Call, body: Bytes) -> Response {
    let r = match body_json(&body) {
        Ok(b) => api.scim.create(&call.ctx(), call.kind, &b).await,
        Err(e) => Err(e),
    };
    match r {
        Ok(v) => {
            let location = v["meta"]["location"].as_str().unwrap_or("").to_owned();
            let mut resp = scim(StatusCode::CREATED, &v);
            if let Ok(l) = HeaderValue::from_str(&location) {
                resp.headers_mut().insert(header::LOCATION, l);
            }
            resp
        }
        Err(e) => error(&e),
    }
}

async fn change(api: &Api, call: &Call, body: &Bytes, is_patch: bool) -> Response {
    let r = match body_json(body) {
        Ok(b) => {
            api.scim
                .change(&call.ctx(), call.kind, &call.id, &b, is_patch)
                .await
        }
        Err(e) => Err(e),
    };
    answer(r, StatusCode::OK)
}

async fn replace(State(api): State<Api>, call: Call, body: Bytes) -> Response {
    change(&api, &call, &body, false).await
}

async fn modify(State(api): State<Api>, call: Call, body: Bytes) -> Response {
    change(&api, &call, &body, true).await
}

async fn remove(State(api): State<Api>, call: Call) -> Response {
    match api.scim.delete(&call.ctx(), call.kind, &call.id).await {
        Ok(()) => StatusCode::NO_CONTENT.into_response(),
        Err(e) => error(&e),
    }
}

async fn discovery(call: Call, uri: axum::http::Uri) -> Response {
    let (base, id) = (call.base, call.id);
    let schemas = [Schema::user(), Schema::group()];
    let list = |items: Vec<Value>| json!({"schemas": [mageflow_scim::LIST_RESPONSE], "totalResults": items.len(), "startIndex": 1, "itemsPerPage": items.len(), "Resources": items});
    let path = uri.path();
    let found = if path.ends_with("/ServiceProviderConfig") {
        Some(schema::service_provider_config(&base, bridge::MAX_RESULTS))
    } else if path.contains("/ResourceTypes") {
        let all: Vec<Value> = schemas.iter().map(|s| s.resource_type(&base)).collect();
        if id.is_empty() {
            Some(list(all))
        } else {
            all.into_iter().find(|t| t["id"] == id.as_str())
        }
    } else {
        let all: Vec<Value> = schemas.iter().flat_map(|s| s.documents(&base)).collect();
        if id.is_empty() {
            Some(list(all))
        } else {
            all.into_iter().find(|t| t["id"] == id.as_str())
        }
    };
    match found {
        Some(v) => scim(StatusCode::OK, &v),
        None => error(&ScimError::not_found(format!("no {id} here"))),
    }
}
