//! The web pages: server-rendered HTML with plain forms, no JavaScript, readable on a phone.
//! A person signs in (with a token, or through the identity provider) and gets a session kept
//! on the server: the cookie holds only a random id (HttpOnly, SameSite=Strict, Secure over
//! https), and every form carries the session's CSRF token. Approvers see the pending
//! approvals with their planned changes and time left and decide with a comment; everyone
//! follows the runs they may see: status, log and writes.

use axum::extract::{Request, State};
use axum::http::{Method, StatusCode};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};

use crate::api::{Api, ApiError};
use crate::auth::Session;
use crate::http::{Entry, Guard, at};

mod approvals;
mod groups;
mod runs;
mod sign_in;
mod sso;
mod workflows;

pub(crate) use groups::GroupNames;

/// The pages' routes.
pub(crate) fn table() -> Vec<Entry> {
    vec![
        at(
            Method::GET,
            "/",
            Guard::Open,
            get(|| async { Redirect::to("/ui/approvals") }),
        ),
        at(
            Method::GET,
            "/ui",
            Guard::Open,
            get(|| async { Redirect::to("/ui/approvals") }),
        ),
        at(
            Method::GET,
            "/ui/sign-in",
            Guard::Open,
            get(sign_in::form_page),
        ),
        at(
            Method::POST,
            "/ui/sign-in",
            Guard::Open,
            post(sign_in::with_token),
        ),
        at(Method::GET, "/ui/sso/start", Guard::Open, get(sso::start)),
        at(
            Method::GET,
            "/ui/sso/callback",
            Guard::Open,
            get(sso::callback),
        ),
        at(
            Method::POST,
            "/ui/sign-out",
            Guard::Session,
            post(sign_in::sign_out),
        ),
        at(
            Method::GET,
            "/ui/approvals",
            Guard::Session,
            get(approvals::approvals_page),
        ),
        at(
            Method::GET,
            "/ui/approvals/{id}",
            Guard::Session,
            get(approvals::approval_page),
        ),
        at(
            Method::POST,
            "/ui/approvals/{id}/decide",
            Guard::Session,
            post(approvals::decide),
        ),
        at(
            Method::GET,
            "/ui/workflows",
            Guard::Session,
            get(workflows::workflows_page),
        ),
        at(
            Method::POST,
            "/ui/workflows/{name}/runs",
            Guard::Session,
            post(workflows::start),
        ),
        at(
            Method::GET,
            "/ui/runs",
            Guard::Session,
            get(runs::runs_page),
        ),
        at(
            Method::GET,
            "/ui/runs/{id}",
            Guard::Session,
            get(runs::run_page),
        ),
    ]
}

/// Lets in a request with a live session; without one, a page is sent to the sign-in page and
/// a form is refused.
pub(crate) async fn session_guard(
    State(api): State<Api>,
    mut req: Request,
    next: Next,
) -> Response {
    match api.access.session(req.headers()) {
        Some(session) => {
            req.extensions_mut().insert(session);
            next.run(req).await
        }
        None if req.method() == Method::GET => Redirect::to("/ui/sign-in").into_response(),
        None => problem(
            StatusCode::UNAUTHORIZED,
            None,
            "You are not signed in, or your session has ended: sign in again, then repeat what you did.",
        ),
    }
}

/// The refusal of a form whose CSRF token is not its session's, if it is not.
fn csrf_refusal(session: &Session, presented: &str) -> Option<Response> {
    if crate::auth::tokens::same(presented, &session.csrf) {
        return None;
    }
    Some(problem(
        StatusCode::FORBIDDEN,
        Some(session),
        "This form did not carry the page's CSRF token, so it was refused (it may have come from \
         another site). Reload the page and try again.",
    ))
}

/// The hidden field that carries the session's CSRF token in a form.
fn csrf_field(session: &Session) -> String {
    format!(
        "<input type=\"hidden\" name=\"csrf\" value=\"{}\">",
        esc(&session.csrf)
    )
}

/// Escapes text for HTML.
fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

const STYLE: &str = "body{font-family:system-ui,sans-serif;margin:0 auto;max-width:60rem;padding:0 1rem 2rem;line-height:1.45;color:#1b1b1b}\
header{display:flex;flex-wrap:wrap;gap:1rem;align-items:center;border-bottom:1px solid #ccc;padding:.6rem 0;margin-bottom:1rem}\
header a{font-weight:600}header form{margin-left:auto}\
table{border-collapse:collapse;width:100%;display:block;overflow-x:auto}th,td{border-bottom:1px solid #ddd;padding:.35rem .5rem;text-align:left;vertical-align:top}\
.card{border:1px solid #ccc;border-radius:6px;padding:.8rem 1rem;margin:.8rem 0}\
.pending{color:#8a5a00}.approved,.succeeded{color:#17692b}.rejected,.failed,.expired{color:#a31515}\
textarea,input[type=text],input[type=password]{width:100%;box-sizing:border-box;font:inherit;padding:.4rem}\
button{font:inherit;padding:.5rem 1.1rem;margin:.3rem .3rem .3rem 0;border-radius:4px;border:1px solid #555;background:#f3f3f3}\
button.approve{background:#17692b;color:#fff}button.reject{background:#a31515;color:#fff}\
.notice{background:#eef6ee;border-left:4px solid #17692b;padding:.5rem .8rem}.problem{background:#fbeeee;border-left:4px solid #a31515;padding:.5rem .8rem}\
pre{white-space:pre-wrap;word-break:break-word;background:#f6f6f6;padding:.5rem}code{font-size:.95em}";

/// A whole page: the layout around `body`.
fn page(title: &str, session: Option<&Session>, body: &str) -> Html<String> {
    let nav = match session {
        Some(s) => format!(
            "<a href=\"/ui/approvals\">Approvals</a><a href=\"/ui/workflows\">Workflows</a>\
             <a href=\"/ui/runs\">Runs</a>\
             <form method=\"post\" action=\"/ui/sign-out\"><span>signed in as <b>{}</b></span> \
             {}<button type=\"submit\" id=\"sign-out\">Sign out</button></form>",
            esc(&s.principal.name),
            csrf_field(s)
        ),
        None => String::new(),
    };
    Html(format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{} · mageflow</title><style>{STYLE}</style></head>\
         <body><header><strong>mageflow</strong>{nav}</header><main><h1>{}</h1>{body}</main></body></html>",
        esc(title),
        esc(title)
    ))
}

fn problem(status: StatusCode, session: Option<&Session>, message: &str) -> Response {
    let body = format!("<p class=\"problem\">{}</p>", esc(message));
    (status, page("Something is wrong", session, &body)).into_response()
}

fn ui_error(e: &ApiError, session: &Session) -> Response {
    problem(e.status(), Some(session), &e.to_string())
}

fn store_error(e: mageflow_store::Error, session: &Session) -> Response {
    ui_error(&ApiError::from(e), session)
}

/// "2 d 3 h", "14 min", "expired".
fn time_left(expires_at: Option<u64>, now: u64) -> String {
    let Some(at) = expires_at else {
        return "never expires".into();
    };
    if at <= now {
        return "expired".into();
    }
    let s = at - now;
    match s {
        0..60 => format!("{s} s left"),
        60..3600 => format!("{} min left", s / 60),
        3600..86_400 => format!("{} h {} min left", s / 3600, s % 3600 / 60),
        _ => format!("{} d {} h left", s / 86_400, s % 86_400 / 3600),
    }
}

fn when(secs: u64) -> String {
    mageflow_model::utc_text(secs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup() {
        assert_eq!(
            esc("<a href=\"x\">O'Brien & co</a>"),
            "&lt;a href=&quot;x&quot;&gt;O&#39;Brien &amp; co&lt;/a&gt;"
        );
    }

    #[test]
    fn time_left_reads_well() {
        assert_eq!(time_left(None, 10), "never expires");
        assert_eq!(time_left(Some(10), 10), "expired");
        assert_eq!(time_left(Some(100), 10), "1 min left");
        assert_eq!(time_left(Some(10 + 3 * 86_400 + 7200), 10), "3 d 2 h left");
    }
}
