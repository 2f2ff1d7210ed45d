//! The approvals pages: pending approvals with their planned changes and time left, one
//! approval with its decisions, and the decision form.

use std::collections::BTreeMap;

use axum::Extension;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use mageflow_store::{Approval, ApprovalStatus, Decision};
use serde::Deserialize;
use serde_json::Value;

use super::{csrf_field, csrf_refusal, esc, page, problem, store_error, time_left, ui_error, when};
use crate::api::Api;
use crate::auth::Session;

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
pub(super) fn plan_html(plan: &[Value], names: &BTreeMap<u64, String>) -> String {
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
            let field = c["field"].as_str().unwrap_or("");
            rows.push_str(&format!(
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{} &rarr; {}</td></tr>",
                esc(entity),
                esc(call),
                esc(field),
                esc(&super::groups::shown(field, &c["before"], names)),
                esc(&super::groups::shown(field, &c["after"], names))
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
pub(super) struct Notice {
    done: Option<String>,
}

pub(super) async fn approvals_page(
    State(api): State<Api>,
    Extension(session): Extension<Session>,
    Query(notice): Query<Notice>,
) -> Response {
    let who = &session.principal;
    let mut all = match api.engine().store().approvals(None) {
        Ok(all) => all,
        Err(e) => return store_error(e, &session),
    };
    all.retain(|a| who.may_view(&a.workflow));
    let now = mageflow_model::now_secs();
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
    page("Approvals", Some(&session), &body).into_response()
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

pub(super) async fn approval_page(
    State(api): State<Api>,
    Extension(session): Extension<Session>,
    Path(id): Path<u64>,
    Query(notice): Query<Notice>,
) -> Response {
    let a = match api.engine().store().approval(id) {
        Ok(a) => a,
        Err(e) => return store_error(e, &session),
    };
    if let Err(e) = session.principal.require_view(&a.workflow) {
        return ui_error(&e, &session);
    }
    let now = mageflow_model::now_secs();
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
            "any approver of the workflow".to_owned()
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
    let names = super::groups::names(&api, &a.workflow).await;
    body.push_str(&plan_html(&plan, &names));
    body.push_str("<h2>Decisions</h2>");
    body.push_str(&decisions_html(&a));
    if a.status == ApprovalStatus::Pending {
        body.push_str(&format!(
            "<form method=\"post\" action=\"/ui/approvals/{}/decide\" class=\"card\">\
             <label for=\"comment\">Comment (a rejection needs one)</label>\
             <textarea id=\"comment\" name=\"comment\" rows=\"3\"></textarea>\
             <p><button type=\"submit\" name=\"decision\" value=\"approve\" class=\"approve\" id=\"approve\">Approve</button>\
             <button type=\"submit\" name=\"decision\" value=\"reject\" class=\"reject\" id=\"reject\">Reject</button></p>\
             {}</form>",
            a.id,
            csrf_field(&session)
        ));
    }
    page(&format!("Approval {}", a.id), Some(&session), &body).into_response()
}

#[derive(Deserialize)]
pub(super) struct DecideForm {
    decision: String,
    #[serde(default)]
    comment: String,
    #[serde(default)]
    csrf: String,
}

pub(super) async fn decide(
    State(api): State<Api>,
    Extension(session): Extension<Session>,
    Path(id): Path<u64>,
    Form(form): Form<DecideForm>,
) -> Response {
    if let Some(refused) = csrf_refusal(&session, &form.csrf) {
        return refused;
    }
    let comment = form.comment.trim().to_owned();
    let decision = match form.decision.as_str() {
        "approve" => Decision::Approve((!comment.is_empty()).then_some(comment)),
        "reject" => Decision::Reject(comment),
        other => {
            return problem(
                StatusCode::BAD_REQUEST,
                Some(&session),
                &format!("unknown decision {other:?}: approve or reject"),
            );
        }
    };
    let verb = match decision {
        Decision::Approve(_) => "approved",
        Decision::Reject(_) => "rejected",
    };
    match api.decide(id, &session.principal, decision, false).await {
        Ok(_) => Redirect::to(&format!("/ui/approvals/{id}?done={verb}")).into_response(),
        Err(e) => ui_error(&e, &session),
    }
}
