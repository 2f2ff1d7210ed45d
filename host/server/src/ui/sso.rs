//! Signing in through the identity provider: `/ui/sso/start` sends the browser to the
//! provider, `/ui/sso/callback` takes it back and opens a session for the person the ID
//! token names, with the roles their groups map to.

use std::net::SocketAddr;

use axum::Extension;
use axum::extract::{ConnectInfo, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use super::sign_in::{client, open_session, refuse, throttled};
use super::{esc, page, problem};
use crate::api::Api;
use crate::auth::{SsoError, cookie};

/// The cookie that ties the provider's answer to the browser that started the sign-in.
const SSO_COOKIE: &str = "mageflow_sso";

fn not_configured() -> Response {
    problem(
        StatusCode::NOT_FOUND,
        None,
        "Single sign-on is not configured on this server ([sso] in mageflow.toml): sign in \
         with a token.",
    )
}

fn unreachable(e: &SsoError) -> Response {
    tracing::warn!(error = %e, "single sign-on failed");
    problem(
        StatusCode::BAD_GATEWAY,
        None,
        &format!("{e}. Try again later, or sign in with a token."),
    )
}

pub(super) async fn start(State(api): State<Api>) -> Response {
    let Some(sso) = &api.access.sso else {
        return not_configured();
    };
    match sso.start(mageflow_model::now_secs()).await {
        Ok((key, url)) => {
            let mut r = Redirect::to(&url).into_response();
            r.headers_mut().insert(
                header::SET_COOKIE,
                api.access
                    .set_cookie_with(SSO_COOKIE, &key, Some(600), "Lax")
                    .parse()
                    .expect("cookie text"),
            );
            r
        }
        Err(e) => unreachable(&e),
    }
}

#[derive(Deserialize)]
pub(super) struct Callback {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
    error_description: Option<String>,
}

pub(super) async fn callback(
    State(api): State<Api>,
    info: Option<Extension<ConnectInfo<SocketAddr>>>,
    headers: HeaderMap,
    Query(q): Query<Callback>,
) -> Response {
    let Some(sso) = &api.access.sso else {
        return not_configured();
    };
    let ip = client(info.as_ref().map(|e| &e.0));
    if let Some(wait) = throttled(&api, ip) {
        return wait;
    }
    let who = format!("client:{ip}");
    if let Some(error) = q.error {
        let why = format!(
            "the identity provider did not sign you in: {error}{}",
            q.error_description
                .map(|d| format!(" ({d})"))
                .unwrap_or_default()
        );
        return refuse(&api, ip, &who, &why);
    }
    let key = cookie(&headers, SSO_COOKIE);
    let finished = sso
        .finish(
            key,
            q.code.as_deref().unwrap_or_default(),
            q.state.as_deref().unwrap_or_default(),
            mageflow_model::now_secs(),
        )
        .await;
    let mut r = match finished {
        Ok(principal) => {
            // The session cookie is SameSite=Strict, and a redirect that ends a cross-site
            // navigation would not carry it: land on a page of ours, which moves on.
            let mut r = open_session(&api, principal, ip, "sso");
            *r.status_mut() = StatusCode::OK;
            r.headers_mut().remove(header::LOCATION);
            r.headers_mut().insert(
                header::REFRESH,
                "0; url=/ui/approvals".parse().expect("header text"),
            );
            let body = page(
                "Signed in",
                None,
                &format!(
                    "<p>You are signed in. <a href=\"/ui/approvals\" id=\"continue\">{}</a></p>",
                    esc("Continue to the approvals")
                ),
            );
            let (parts, _) = r.into_parts();
            Response::from_parts(parts, body.into_response().into_body())
        }
        Err(e @ SsoError::Provider(..)) => unreachable(&e),
        Err(e) => refuse(&api, ip, &who, &e.to_string()),
    };
    r.headers_mut().append(
        header::SET_COOKIE,
        api.access
            .set_cookie_with(SSO_COOKIE, "", Some(0), "Lax")
            .parse()
            .expect("cookie text"),
    );
    r
}
