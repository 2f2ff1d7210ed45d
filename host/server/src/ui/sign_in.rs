//! Signing in and out of the pages. A token typed into the sign-in form opens a session as
//! its principal; failed attempts from one address are slowed down; sign-out ends the session
//! on the server, so a copied cookie opens nothing after it.

use std::net::{IpAddr, SocketAddr};

use axum::Extension;
use axum::Form;
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use serde_json::json;

use super::{csrf_refusal, esc, page};
use crate::api::Api;
use crate::auth::{Principal, SESSION_COOKIE, Session, cookie};

/// The cookie that carries the sign-in form's CSRF token, before there is a session.
const SIGN_IN_CSRF: &str = "mageflow_sign_in";

/// The sign-in page: a fresh CSRF token in a cookie and in the form.
pub(super) async fn form_page(State(api): State<Api>) -> Response {
    sign_in_form(&api, StatusCode::OK, None)
}

fn sign_in_form(api: &Api, status: StatusCode, problem: Option<&str>) -> Response {
    let csrf = crate::auth::tokens::random_text(24);
    let problem = problem
        .map(|p| format!("<p class=\"problem\" id=\"problem\">{}</p>", esc(p)))
        .unwrap_or_default();
    let sso = if api.access.sso.is_some() {
        "<p><a class=\"button\" id=\"sso\" href=\"/ui/sso/start\">Sign in with your \
         identity provider</a></p><p>or with a token:</p>"
    } else {
        ""
    };
    let body = format!(
        "{problem}{sso}<form method=\"post\" action=\"/ui/sign-in\" class=\"card\">\
         <label for=\"token\">Your token</label>\
         <input type=\"password\" id=\"token\" name=\"token\" autocomplete=\"current-password\" required>\
         <input type=\"hidden\" name=\"csrf\" value=\"{}\">\
         <p><button type=\"submit\" id=\"sign-in\">Sign in</button></p></form>\
         <p>An admin creates tokens with <code>mageflow tokens create NAME --role approver</code>.</p>",
        esc(&csrf)
    );
    (
        status,
        [(
            header::SET_COOKIE,
            api.access.set_cookie(SIGN_IN_CSRF, &csrf, Some(3600)),
        )],
        page("Sign in", None, &body),
    )
        .into_response()
}

#[derive(Deserialize)]
pub(super) struct SignIn {
    token: String,
    #[serde(default)]
    csrf: String,
}

/// The client's address, for slowing down its failed sign-ins.
pub(super) fn client(info: Option<&ConnectInfo<SocketAddr>>) -> IpAddr {
    info.map_or(IpAddr::from([127, 0, 0, 1]), |c| c.0.ip())
}

/// A refusal while the client must wait, or `None`.
pub(super) fn throttled(api: &Api, ip: IpAddr) -> Option<Response> {
    let wait = api.access.throttle.wait(ip, mageflow_model::now_secs());
    (wait > 0).then(|| {
        let mut r = sign_in_form(
            api,
            StatusCode::TOO_MANY_REQUESTS,
            Some(&format!(
                "Too many failed sign-ins from your address: wait {wait} s, then try again."
            )),
        );
        r.headers_mut().insert(
            header::RETRY_AFTER,
            wait.to_string().parse().expect("digits"),
        );
        r
    })
}

/// Opens a session for `who` and sends them on to the approvals.
pub(super) fn open_session(api: &Api, who: Principal, ip: IpAddr, how: &str) -> Response {
    api.access.throttle.succeeded(ip);
    api.access.audit(
        &who.name,
        "sign-in",
        "session",
        json!({"via": how, "client": ip.to_string(), "roles": who.roles_text()}),
    );
    let id = api.access.sessions.open(who, mageflow_model::now_secs());
    let mut r = Redirect::to("/ui/approvals").into_response();
    let h = r.headers_mut();
    h.append(
        header::SET_COOKIE,
        api.access
            .set_cookie(SESSION_COOKIE, &id, None)
            .parse()
            .expect("cookie text"),
    );
    h.append(
        header::SET_COOKIE,
        api.access
            .set_cookie(SIGN_IN_CSRF, "", Some(0))
            .parse()
            .expect("cookie text"),
    );
    r
}

/// Counts and audits a failed sign-in, and answers the form again with why.
pub(super) fn refuse(api: &Api, ip: IpAddr, principal: &str, why: &str) -> Response {
    api.access.throttle.failed(ip, mageflow_model::now_secs());
    api.access.audit(
        principal,
        "sign-in.refused",
        "session",
        json!({"client": ip.to_string(), "reason": why}),
    );
    sign_in_form(api, StatusCode::UNAUTHORIZED, Some(why))
}

pub(super) async fn with_token(
    State(api): State<Api>,
    info: Option<Extension<ConnectInfo<SocketAddr>>>,
    headers: HeaderMap,
    Form(form): Form<SignIn>,
) -> Response {
    let ip = client(info.as_ref().map(|e| &e.0));
    if let Some(wait) = throttled(&api, ip) {
        return wait;
    }
    let expected = cookie(&headers, SIGN_IN_CSRF).unwrap_or_default();
    let csrf_ok = !expected.is_empty() && crate::auth::tokens::same(expected, &form.csrf);
    if !csrf_ok {
        return sign_in_form(
            &api,
            StatusCode::FORBIDDEN,
            Some("The sign-in form's CSRF token was missing or wrong: sign in from this page."),
        );
    }
    match api.access.token(form.token.trim()) {
        Ok(who) => open_session(&api, who, ip, "token"),
        Err(e) => refuse(&api, ip, &format!("client:{ip}"), &e.to_string()),
    }
}

#[derive(Deserialize)]
pub(super) struct SignOut {
    #[serde(default)]
    csrf: String,
}

pub(super) async fn sign_out(
    State(api): State<Api>,
    Extension(session): Extension<Session>,
    Form(form): Form<SignOut>,
) -> Response {
    if let Some(refused) = csrf_refusal(&session, &form.csrf) {
        return refused;
    }
    api.access.sessions.close(&session.key);
    api.access
        .audit(&session.principal.name, "sign-out", "session", json!({}));
    let cookie = api.access.set_cookie(SESSION_COOKIE, "", Some(0));
    ([(header::SET_COOKIE, cookie)], Redirect::to("/ui/sign-in")).into_response()
}
