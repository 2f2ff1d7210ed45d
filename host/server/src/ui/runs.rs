//! The runs pages: every run the principal may see, and one run with its log and writes.

use std::collections::BTreeMap;

use axum::Extension;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use mageflow_store::{AuditEntry, Run, Status};
use serde::Deserialize;

use super::approvals::plan_html;
use super::groups::shown;
use super::{esc, page, store_error, when};
use crate::api::Api;
use crate::auth::Session;

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

/// Runs shown on one page of the list.
const PAGE: usize = 50;

/// The runs list's filters and page, from its query string.
#[derive(Debug, Default, Deserialize)]
pub(super) struct RunsQuery {
    #[serde(default)]
    status: String,
    #[serde(default)]
    workflow: String,
    #[serde(default)]
    page: usize,
}

impl RunsQuery {
    fn link(&self, page: usize) -> String {
        format!(
            "/ui/runs?status={}&amp;workflow={}&amp;page={page}",
            urlencoding::encode(&self.status),
            urlencoding::encode(&self.workflow)
        )
    }
}

/// A `<select>` named `name` of `options` (`""` is "any"), with `chosen` selected.
fn select(name: &str, options: &[String], chosen: &str) -> String {
    let mut html =
        format!("<select name=\"{name}\" id=\"filter-{name}\"><option value=\"\">any</option>");
    for o in options {
        let sel = if o == chosen { " selected" } else { "" };
        html.push_str(&format!("<option{sel}>{}</option>", esc(o)));
    }
    html.push_str("</select>");
    html
}

pub(super) async fn runs_page(
    State(api): State<Api>,
    Extension(session): Extension<Session>,
    Query(q): Query<RunsQuery>,
) -> Response {
    let status = Status::parse(&q.status);
    let mut runs = match api.engine().store().runs(status) {
        Ok(r) => r,
        Err(e) => return store_error(e, &session),
    };
    runs.retain(|r| {
        session.principal.may_view(&r.workflow)
            && (q.workflow.is_empty() || r.workflow == q.workflow)
    });
    runs.reverse();
    let pages = runs.len().div_ceil(PAGE).max(1);
    let page_no = q.page.min(pages - 1);
    let rows: String = runs
        .iter()
        .skip(page_no * PAGE)
        .take(PAGE)
        .map(run_row)
        .collect();
    let workflows: Vec<String> = api
        .engine()
        .workflows()
        .iter()
        .map(|w| w.def.name.clone())
        .filter(|w| session.principal.may_view(w))
        .collect();
    let statuses: Vec<String> = [
        "queued",
        "running",
        "awaiting-approval",
        "retrying",
        "succeeded",
        "failed",
    ]
    .map(String::from)
    .to_vec();
    let mut nav = String::new();
    if page_no > 0 {
        nav.push_str(&format!(
            "<a href=\"{}\" id=\"newer\">&larr; Newer</a> ",
            q.link(page_no - 1)
        ));
    }
    nav.push_str(&format!(
        "page {} of {pages} ({} runs)",
        page_no + 1,
        runs.len()
    ));
    if page_no + 1 < pages {
        nav.push_str(&format!(
            " <a href=\"{}\" id=\"older\">Older &rarr;</a>",
            q.link(page_no + 1)
        ));
    }
    let body = format!(
        "<form method=\"get\" action=\"/ui/runs\" class=\"card\">\
         <label>Status {}</label> <label>Workflow {}</label> \
         <button type=\"submit\" id=\"filter\">Show</button></form>\
         <table><tr><th>#</th><th>Workflow</th><th>Status</th><th>Started by</th><th>Created</th>\
         <th>Summary or error</th></tr>{rows}</table><p id=\"pages\">{nav}</p>",
        select("status", &statuses, &q.status),
        select("workflow", &workflows, &q.workflow),
    );
    page("Runs", Some(&session), &body).into_response()
}

fn writes_html(writes: &[AuditEntry], names: &BTreeMap<u64, String>) -> String {
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
                    esc(&shown(&c.field, &c.before, names)),
                    esc(&shown(&c.field, &c.after, names))
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

pub(super) async fn run_page(
    State(api): State<Api>,
    Extension(session): Extension<Session>,
    Path(id): Path<u64>,
) -> Response {
    let store = api.engine().store();
    let (run, writes) = match store.run(id).and_then(|r| Ok((r, store.audit_of(id)?))) {
        Ok(x) => x,
        Err(e) => return store_error(e, &session),
    };
    if let Err(e) = session.principal.require_view(&run.workflow) {
        return super::ui_error(&e, &session);
    }
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
    let names = super::groups::names(&api, &run.workflow).await;
    body.push_str(&plan_html(&run.plan, &names));
    body.push_str("<h2>Writes</h2>");
    body.push_str(&writes_html(&writes, &names));
    body.push_str(&format!("<h2>Log</h2><pre>{log}</pre>"));
    page(&format!("Run {}", run.id), Some(&session), &body).into_response()
}
