//! The workflows page: each workflow the principal may see, with its trigger and when it next
//! fires, its grants, policy and approvers, its last runs; and, for its operators, a form to
//! start a run or a dry run with input.

use axum::Extension;
use axum::Form;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use mageflow_model::workflow::Trigger;
use mageflow_model::{CronCursor, Deployed, PollCursor, utc_text};
use mageflow_store::Run;
use serde::Deserialize;

use super::{csrf_field, csrf_refusal, esc, page, store_error, ui_error, when};
use crate::api::{Api, Start};
use crate::auth::{Role, Session};

/// The last runs shown per workflow.
const LAST_RUNS: usize = 5;

/// What fires the workflow, and when it next does.
fn trigger_html(api: &Api, w: &Deployed) -> String {
    let name = &w.def.name;
    let store = api.engine().store();
    match &w.def.trigger {
        Trigger::Manual => "by hand".into(),
        Trigger::Cron { schedule, .. } => {
            let next = store
                .cursor::<CronCursor>(&format!("cron/{name}"))
                .ok()
                .flatten()
                .map_or_else(
                    || "once the server has started".into(),
                    |c| utc_text(c.next),
                );
            format!(
                "cron <code>{}</code>; next fire <span id=\"next-{}\">{}</span>",
                esc(schedule),
                esc(name),
                esc(&next)
            )
        }
        Trigger::Poll { interval, .. } => {
            let at = store
                .cursor::<PollCursor>(&format!("poll/{name}"))
                .ok()
                .flatten()
                .map_or_else(
                    || "not polled yet".into(),
                    |c| format!("changes up to {} UTC", c.at),
                );
            format!(
                "polls customers' <code>updated_at</code> every {} s; {}",
                interval.as_secs(),
                esc(&at)
            )
        }
        Trigger::Webhook { events, .. } => {
            if events.is_empty() {
                format!("signed webhooks at <code>/hooks/{}</code>", esc(name))
            } else {
                format!(
                    "signed webhooks at <code>/hooks/{}</code> ({})",
                    esc(name),
                    esc(&events.join(", "))
                )
            }
        }
    }
}

fn start_form(w: &Deployed, session: &Session) -> String {
    let name = esc(&w.def.name);
    format!(
        "<form method=\"post\" action=\"/ui/workflows/{name}/runs\" id=\"start-{name}\">{}\
         <label for=\"input-{name}\">Input (JSON)</label>\
         <textarea id=\"input-{name}\" name=\"input\" rows=\"2\">{{}}</textarea>\
         <label><input type=\"checkbox\" name=\"dry_run\" value=\"on\" id=\"dry-run-{name}\"> \
         Dry run: read, and plan the writes instead of sending them</label>\
         <p><button type=\"submit\" id=\"run-{name}\">Start a run</button></p></form>",
        csrf_field(session)
    )
}

fn card(api: &Api, w: &Deployed, runs: &[&Run], session: &Session) -> String {
    let def = &w.def;
    let grants: Vec<&str> = def.grants.iter().map(|g| g.name()).collect();
    let policy = if def.require_approval.is_empty() {
        "none".to_owned()
    } else {
        def.require_approval
            .iter()
            .cloned()
            .collect::<Vec<_>>()
            .join(", ")
    };
    let approvers = if def.approvals.approvers.is_empty() {
        "any approver of this workflow".to_owned()
    } else {
        def.approvals.approvers.join(", ")
    };
    let last: String = if runs.is_empty() {
        "none yet".into()
    } else {
        runs.iter()
            .map(|r| {
                format!(
                    "<a href=\"/ui/runs/{id}\">{id}</a> <span class=\"{s}\">{s}</span> {}",
                    when(r.created_at),
                    id = r.id,
                    s = r.status.name()
                )
            })
            .collect::<Vec<_>>()
            .join("<br>")
    };
    let form = if session.principal.may(Role::Operator, Some(&def.name)) {
        start_form(w, session)
    } else {
        String::new()
    };
    format!(
        "<div class=\"card\" id=\"workflow-{n}\"><h2>{n}</h2><table>\
         <tr><th>Trigger</th><td>{}</td></tr><tr><th>Grants</th><td>{}</td></tr>\
         <tr><th>Needs an approval before</th><td>{}</td></tr>\
         <tr><th>Approvers</th><td>{} ({} needed)</td></tr>\
         <tr><th>Last runs</th><td>{last}</td></tr></table>{form}</div>",
        trigger_html(api, w),
        esc(&grants.join(", ")),
        esc(&policy),
        esc(&approvers),
        def.approvals.required,
        n = esc(&def.name),
    )
}

pub(super) async fn workflows_page(
    State(api): State<Api>,
    Extension(session): Extension<Session>,
) -> Response {
    let runs = match api.engine().store().runs(None) {
        Ok(r) => r,
        Err(e) => return store_error(e, &session),
    };
    let cards: String = api
        .engine()
        .workflows()
        .iter()
        .filter(|w| session.principal.may_view(&w.def.name))
        .map(|w| {
            let last: Vec<&Run> = runs
                .iter()
                .rev()
                .filter(|r| r.workflow == w.def.name)
                .take(LAST_RUNS)
                .collect();
            card(&api, w, &last, &session)
        })
        .collect();
    let body = if cards.is_empty() {
        "<p>No workflow you may see.</p>".to_owned()
    } else {
        cards
    };
    page("Workflows", Some(&session), &body).into_response()
}

#[derive(Deserialize)]
pub(super) struct StartForm {
    #[serde(default)]
    input: String,
    #[serde(default)]
    dry_run: Option<String>,
    #[serde(default)]
    csrf: String,
}

pub(super) async fn start(
    State(api): State<Api>,
    Extension(session): Extension<Session>,
    Path(name): Path<String>,
    Form(form): Form<StartForm>,
) -> Response {
    if let Some(refused) = csrf_refusal(&session, &form.csrf) {
        return refused;
    }
    let input = form.input.trim();
    let start = Start {
        input: Some(if input.is_empty() { "{}" } else { input }.to_owned()),
        dry_run: form.dry_run.is_some(),
        wait: false,
    };
    match api.start(&name, start, &session.principal).await {
        Ok(run) => Redirect::to(&format!("/ui/runs/{}", run["id"])).into_response(),
        Err(e) => ui_error(&e, &session),
    }
}
