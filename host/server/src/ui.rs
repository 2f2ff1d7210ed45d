//! The approvers' web pages: server-rendered HTML with plain forms, no JavaScript, readable
//! on a phone. An approver signs in with their token (kept in an HttpOnly, SameSite=Strict
//! cookie, so another site cannot submit a decision in their name), then sees the pending
//! approvals with their planned changes and time left, decides with a comment, and follows
//! runs: status, log and writes.

use axum::Form;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use mageflow_store::{Approval, ApprovalStatus, AuditEntry, Decision, Run};
use serde::Deserialize;
use serde_json::Value;

use crate::api::{Api, ApiError};

/// The cookie that carries the approver's token.
const COOKIE: &str = "mageflow_token";

pub(crate) fn routes() -> Router<Api> {
    Router::new()
        .route("/", get(|| async { Redirect::to("/ui/approvals") }))
        .route("/ui", get(|| async { Redirect::to("/ui/approvals") }))
        .route("/ui/sign-in", get(sign_in_page).post(sign_in))
        .route("/ui/sign-out", post(sign_out))
        .route("/ui/approvals", get(approvals_page))
        .route("/ui/approvals/{id}", get(approval_page))
        .route("/ui/approvals/{id}/decide", post(decide))
        .route("/ui/runs", get(runs_page))
        .route("/ui/runs/{id}", get(run_page))
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
fn page(title: &str, who: Option<&str>, body: &str) -> Html<String> {
    let nav = match who {
        Some(who) => format!(
            "<a href=\"/ui/approvals\">Approvals</a><a href=\"/ui/runs\">Runs</a>\
             <form method=\"post\" action=\"/ui/sign-out\"><span>signed in as <b>{}</b></span> \
             <button type=\"submit\">Sign out</button></form>",
            esc(who)
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

/// The token from the sign-in cookie.
fn cookie_token(headers: &HeaderMap) -> Option<&str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .find_map(|pair| pair.trim().strip_prefix(COOKIE)?.strip_prefix('='))
}

/// The signed-in approver and their token, if the cookie holds a known token.
fn signed_in<'h>(api: &Api, headers: &'h HeaderMap) -> Option<(String, &'h str)> {
    let token = cookie_token(headers).filter(|t| !t.is_empty())?;
    api.approver(Some(token)).ok().map(|who| (who, token))
}

fn to_sign_in() -> Response {
    Redirect::to("/ui/sign-in").into_response()
}

fn problem(status: StatusCode, who: Option<&str>, message: &str) -> Response {
    let body = format!("<p class=\"problem\">{}</p>", esc(message));
    (status, page("Something is wrong", who, &body)).into_response()
}

fn ui_error(e: &ApiError, who: &str) -> Response {
    problem(e.status(), Some(who), &e.to_string())
}

fn store_error(e: mageflow_store::Error, who: &str) -> Response {
    ui_error(&ApiError::from(e), who)
}

async fn sign_in_page() -> Html<String> {
    sign_in_form(None)
}

fn sign_in_form(problem: Option<&str>) -> Html<String> {
    let problem = problem
        .map(|p| format!("<p class=\"problem\">{}</p>", esc(p)))
        .unwrap_or_default();
    page(
        "Sign in",
        None,
        &format!(
            "{problem}<form method=\"post\" action=\"/ui/sign-in\" class=\"card\">\
             <label for=\"token\">Your approver token</label>\
             <input type=\"password\" id=\"token\" name=\"token\" autocomplete=\"current-password\" required>\
             <p><button type=\"submit\" id=\"sign-in\">Sign in</button></p></form>\
             <p>Tokens are set where the server runs (<code>MAGEFLOW_APPROVER_TOKENS</code> or the \
             <code>[approvers]</code> of <code>mageflow.toml</code>).</p>"
        ),
    )
}

#[derive(Deserialize)]
struct SignIn {
    token: String,
}

async fn sign_in(State(api): State<Api>, Form(form): Form<SignIn>) -> Response {
    let token = form.token.trim();
    if api.approver(Some(token)).is_err() {
        return (
            StatusCode::UNAUTHORIZED,
            sign_in_form(Some("That token is not known to this server.")),
        )
            .into_response();
    }
    let cookie = format!("{COOKIE}={token}; Path=/; HttpOnly; SameSite=Strict");
    (
        [(header::SET_COOKIE, cookie)],
        Redirect::to("/ui/approvals"),
    )
        .into_response()
}

async fn sign_out() -> Response {
    let cookie = format!("{COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0");
    ([(header::SET_COOKIE, cookie)], Redirect::to("/ui/sign-in")).into_response()
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
    mageflow_engine::utc_text(secs)
}

fn decisions_html(a: &Approval) -> String {
    if a.decisions.is_empty() {
        return "<p>No decisions yet.</p>".into();
    }
    let rows: String = a
        .decisions
        .iter()
        .map(|d| {
            format!(
                "<tr><td>{}</td><td class=\"{}\">{}</td><td>{}</td><td>{}</td></tr>",
                esc(&d.by),
                if d.approve { "approved" } else { "rejected" },
                if d.approve { "approved" } else { "rejected" },
                esc(d.comment.as_deref().unwrap_or("")),
                when(d.at)
            )
        })
        .collect();
    format!(
        "<table><tr><th>Who</th><th>Decided</th><th>Comment</th><th>When</th></tr>{rows}</table>"
    )
}

/// The planned changes: entity, field, before -> after.
fn plan_html(plan: &[Value]) -> String {
    if plan.is_empty() {
        return String::new();
    }
    let mut rows = String::new();
    for write in plan {
        let call = write["call"].as_str().unwrap_or("");
        let entity = write["entity"].as_str().unwrap_or("");
        let changes = write["changes"]
            .as_array()
            .map(Vec::as_slice)
            .unwrap_or(&[]);
        if changes.is_empty() {
            rows.push_str(&format!(
                "<tr><td>{}</td><td>{}</td><td colspan=\"2\"></td></tr>",
                esc(entity),
                esc(call)
            ));
        }
        for c in changes {
            rows.push_str(&format!(
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{} &rarr; {}</td></tr>",
                esc(entity),
                esc(call),
                esc(c["field"].as_str().unwrap_or("")),
                esc(&c["before"].to_string()),
                esc(&c["after"].to_string())
            ));
        }
    }
    format!(
        "<h2>Planned changes ({} writes)</h2><table><tr><th>Entity</th><th>Call</th><th>Field</th>\
         <th>Before &rarr; after</th></tr>{rows}</table>",
        plan.len()
    )
}

#[derive(Deserialize, Default)]
struct Notice {
    done: Option<String>,
}

async fn approvals_page(
    State(api): State<Api>,
    headers: HeaderMap,
    Query(notice): Query<Notice>,
) -> Response {
    let Some((who, _)) = signed_in(&api, &headers) else {
        return to_sign_in();
    };
    let all = match api.engine().store().approvals(None) {
        Ok(all) => all,
        Err(e) => return store_error(e, &who),
    };
    let now = mageflow_engine::now_secs();
    let mut body = notice_html(notice.done.as_deref());
    let (pending, settled): (Vec<&Approval>, Vec<&Approval>) = all
        .iter()
        .partition(|a| a.status == ApprovalStatus::Pending);
    body.push_str(&format!("<h2>Pending ({})</h2>", pending.len()));
    if pending.is_empty() {
        body.push_str("<p>Nothing waits for a decision.</p>");
    }
    for a in &pending {
        body.push_str(&format!(
            "<div class=\"card\"><a href=\"/ui/approvals/{id}\" id=\"approval-{id}\"><b>#{id} {}</b></a>\
             <br>{} &middot; run <a href=\"/ui/runs/{run}\">{run}</a> &middot; asked by {} &middot; \
             {} of {} approvals &middot; {}<p>{}</p></div>",
            esc(&a.title),
            esc(&a.workflow),
            esc(&a.requester),
            a.decisions.iter().filter(|d| d.approve).count(),
            a.required,
            time_left(a.expires_at, now),
            esc(&a.summary),
            id = a.id,
            run = a.run,
        ));
    }
    body.push_str("<h2>Decided</h2>");
    if settled.is_empty() {
        body.push_str("<p>None yet.</p>");
    } else {
        body.push_str("<table><tr><th>#</th><th>Workflow</th><th>Title</th><th>Status</th><th>Who decided</th></tr>");
        for a in settled.iter().rev() {
            let by: Vec<String> = a
                .decisions
                .iter()
                .map(|d| {
                    format!(
                        "{} {}",
                        esc(&d.by),
                        if d.approve { "approved" } else { "rejected" }
                    )
                })
                .collect();
            body.push_str(&format!(
                "<tr><td><a href=\"/ui/approvals/{id}\">{id}</a></td><td>{}</td><td>{}</td>\
                 <td class=\"{s}\">{s}</td><td>{}</td></tr>",
                esc(&a.workflow),
                esc(&a.title),
                by.join(", "),
                id = a.id,
                s = a.status.name(),
            ));
        }
        body.push_str("</table>");
    }
    page("Approvals", Some(&who), &body).into_response()
}

fn notice_html(done: Option<&str>) -> String {
    match done {
        Some("approved") => {
            "<p class=\"notice\" id=\"notice\">Your approval is recorded.</p>".into()
        }
        Some("rejected") => {
            "<p class=\"notice\" id=\"notice\">Your rejection is recorded.</p>".into()
        }
        _ => String::new(),
    }
}

async fn approval_page(
    State(api): State<Api>,
    headers: HeaderMap,
    Path(id): Path<u64>,
    Query(notice): Query<Notice>,
) -> Response {
    let Some((who, _)) = signed_in(&api, &headers) else {
        return to_sign_in();
    };
    let a = match api.engine().store().approval(id) {
        Ok(a) => a,
        Err(e) => return store_error(e, &who),
    };
    let now = mageflow_engine::now_secs();
    let details: Option<Value> = a
        .details_json
        .as_deref()
        .and_then(|d| serde_json::from_str(d).ok());
    let plan = details
        .as_ref()
        .and_then(|d| d["plan"].as_array().cloned())
        .unwrap_or_default();
    let own_details = details.as_ref().and_then(Value::as_object).map(|d| {
        let mut d = d.clone();
        d.remove("plan");
        d
    });
    let mut body = notice_html(notice.done.as_deref());
    body.push_str(&format!(
        "<div class=\"card\"><p><b>{}</b></p><p>{}</p><table>\
         <tr><th>Status</th><td class=\"{s}\" id=\"status\">{s}</td></tr>\
         <tr><th>Workflow</th><td>{}</td></tr><tr><th>Run</th><td><a href=\"/ui/runs/{run}\">{run}</a></td></tr>\
         <tr><th>Requested by</th><td>{}</td></tr><tr><th>Asked</th><td>{}</td></tr>\
         <tr><th>Approvals needed</th><td>{} (approvers: {})</td></tr>\
         <tr><th>Expiry</th><td>{}</td></tr></table></div>",
        esc(&a.title),
        esc(&a.summary),
        esc(&a.workflow),
        esc(&a.requester),
        when(a.created_at),
        a.required,
        if a.approvers.is_empty() {
            "anyone with a token".to_owned()
        } else {
            esc(&a.approvers.join(", "))
        },
        time_left(a.expires_at, now),
        s = a.status.name(),
        run = a.run,
    ));
    if let Some(d) = own_details.filter(|d| !d.is_empty()) {
        let text = serde_json::to_string_pretty(&d).unwrap_or_default();
        body.push_str(&format!("<h2>Details</h2><pre>{}</pre>", esc(&text)));
    }
    body.push_str(&plan_html(&plan));
    body.push_str("<h2>Decisions</h2>");
    body.push_str(&decisions_html(&a));
    if a.status == ApprovalStatus::Pending {
        body.push_str(&format!(
            "<form method=\"post\" action=\"/ui/approvals/{}/decide\" class=\"card\">\
             <label for=\"comment\">Comment (a rejection needs one)</label>\
             <textarea id=\"comment\" name=\"comment\" rows=\"3\"></textarea>\
             <p><button type=\"submit\" name=\"decision\" value=\"approve\" class=\"approve\" id=\"approve\">Approve</button>\
             <button type=\"submit\" name=\"decision\" value=\"reject\" class=\"reject\" id=\"reject\">Reject</button></p>\
             </form>",
            a.id
        ));
    }
    page(&format!("Approval {}", a.id), Some(&who), &body).into_response()
}

#[derive(Deserialize)]
struct DecideForm {
    decision: String,
    #[serde(default)]
    comment: String,
}

async fn decide(
    State(api): State<Api>,
    headers: HeaderMap,
    Path(id): Path<u64>,
    Form(form): Form<DecideForm>,
) -> Response {
    let Some((who, token)) = signed_in(&api, &headers) else {
        return to_sign_in();
    };
    let comment = form.comment.trim().to_owned();
    let decision = match form.decision.as_str() {
        "approve" => Decision::Approve((!comment.is_empty()).then_some(comment)),
        "reject" if comment.is_empty() => {
            return problem(
                StatusCode::BAD_REQUEST,
                Some(&who),
                "A rejection needs a reason: write it in the comment box, then reject.",
            );
        }
        "reject" => Decision::Reject(comment),
        other => {
            return problem(
                StatusCode::BAD_REQUEST,
                Some(&who),
                &format!("unknown decision {other:?}: approve or reject"),
            );
        }
    };
    let verb = match decision {
        Decision::Approve(_) => "approved",
        Decision::Reject(_) => "rejected",
    };
    match api.decide(id, Some(token), decision, false).await {
        Ok(_) => Redirect::to(&format!("/ui/approvals/{id}?done={verb}")).into_response(),
        Err(e) => ui_error(&e, &who),
    }
}

fn run_row(r: &Run) -> String {
    format!(
        "<tr><td><a href=\"/ui/runs/{id}\">{id}</a></td><td>{}</td><td class=\"{s}\">{s}</td>\
         <td>{}</td><td>{}</td><td>{}</td></tr>",
        esc(&r.workflow),
        esc(&r.requester),
        when(r.created_at),
        esc(r.summary.as_deref().or(r.error.as_deref()).unwrap_or("")),
        id = r.id,
        s = r.status.name(),
    )
}

async fn runs_page(State(api): State<Api>, headers: HeaderMap) -> Response {
    let Some((who, _)) = signed_in(&api, &headers) else {
        return to_sign_in();
    };
    let runs = match api.engine().store().runs(None) {
        Ok(r) => r,
        Err(e) => return store_error(e, &who),
    };
    let rows: String = runs.iter().rev().map(run_row).collect();
    let body = format!(
        "<table><tr><th>#</th><th>Workflow</th><th>Status</th><th>Started by</th><th>Created</th>\
         <th>Summary or error</th></tr>{rows}</table>"
    );
    page("Runs", Some(&who), &body).into_response()
}

fn writes_html(writes: &[AuditEntry]) -> String {
    if writes.is_empty() {
        return "<p>No writes.</p>".into();
    }
    let mut rows = String::new();
    for w in writes {
        let changes: Vec<String> = w
            .changes
            .iter()
            .map(|c| {
                format!(
                    "{}: {} &rarr; {}",
                    esc(&c.field),
                    esc(&c.before.to_string()),
                    esc(&c.after.to_string())
                )
            })
            .collect();
        rows.push_str(&format!(
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            esc(&w.entity),
            esc(&w.call),
            changes.join("<br>"),
            esc(w.approver.as_deref().unwrap_or("")),
            when(w.at)
        ));
    }
    format!(
        "<table><tr><th>Entity</th><th>Call</th><th>Changes</th><th>Approved by</th><th>When</th></tr>{rows}</table>"
    )
}

async fn run_page(State(api): State<Api>, headers: HeaderMap, Path(id): Path<u64>) -> Response {
    let Some((who, _)) = signed_in(&api, &headers) else {
        return to_sign_in();
    };
    let store = api.engine().store();
    let (run, writes) = match store.run(id).and_then(|r| Ok((r, store.audit_of(id)?))) {
        Ok(x) => x,
        Err(e) => return store_error(e, &who),
    };
    let log: String = run
        .log
        .iter()
        .map(|(level, line)| format!("{level:>5} {}\n", esc(line)))
        .collect();
    // What went wrong comes first, in one line; the rest (a backtrace, say) is in the note.
    let headline = match (&run.error, run.status.is_final() || run.retry.is_some()) {
        (Some(e), true) => format!(
            "<div class=\"card\" id=\"headline\"><strong>{}</strong></div>",
            esc(e.lines().next().unwrap_or_default())
        ),
        _ => String::new(),
    };
    let mut body = format!(
        "{headline}<div class=\"card\"><table><tr><th>Status</th><td class=\"{s}\" id=\"status\">{s}</td></tr>\
         <tr><th>Workflow</th><td>{}</td></tr><tr><th>Started by</th><td>{}</td></tr>\
         <tr><th>Created</th><td>{}</td></tr><tr><th>Updated</th><td>{}</td></tr>\
         <tr><th>Attempts</th><td>{}</td></tr><tr><th>Dry run</th><td>{}</td></tr>",
        esc(&run.workflow),
        esc(&run.requester),
        when(run.created_at),
        when(run.updated_at),
        run.attempts,
        if run.dry_run { "yes" } else { "no" },
        s = run.status.name(),
    );
    if let Some(s) = &run.summary {
        body.push_str(&format!("<tr><th>Summary</th><td>{}</td></tr>", esc(s)));
    }
    if let Some(r) = &run.retry {
        body.push_str(&format!(
            "<tr><th>Next attempt</th><td id=\"next-attempt\">{} ({} of {} failed so far, since {})</td></tr>",
            when(r.next_at),
            r.attempts,
            esc(&r.name),
            when(r.first_failed_at)
        ));
    }
    if let Some(e) = &run.error {
        body.push_str(&format!(
            "<tr><th>Note</th><td><pre>{}</pre></td></tr>",
            esc(e)
        ));
    }
    body.push_str("</table></div>");
    body.push_str(&plan_html(&run.plan));
    body.push_str("<h2>Writes</h2>");
    body.push_str(&writes_html(&writes));
    body.push_str(&format!("<h2>Log</h2><pre>{log}</pre>"));
    page(&format!("Run {}", run.id), Some(&who), &body).into_response()
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

    #[test]
    fn the_token_is_read_from_among_cookies() {
        let mut h = HeaderMap::new();
        h.insert(
            header::COOKIE,
            "a=1; mageflow_token=abc; b=2".parse().unwrap(),
        );
        assert_eq!(cookie_token(&h), Some("abc"));
    }
}
