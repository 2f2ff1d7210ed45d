//! `mageflow run`, `runs`, `approvals`, `workflows`: they talk to the running `mageflow
//! serve` over its JSON API, and open the data directory themselves only when no server
//! answers (sled allows one process per directory).

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use clap::{Args, Subcommand};
use mageflow_server::{Api, Principal, Start};
use mageflow_store::Decision;
use serde_json::{Value, json};

use crate::Usage;
use crate::serve::{Places, access, engine};

/// How to reach the server, who you are, and where the data is when no server answers.
#[derive(Debug, Args, Clone)]
pub(crate) struct Remote {
    #[command(flatten)]
    caller: Caller,
    #[command(flatten)]
    places: Places,
}

/// How to reach the server, and who you are.
#[derive(Debug, Args, Clone)]
pub(crate) struct Caller {
    /// The `mageflow serve` to talk to [default: http://127.0.0.1:7878]
    #[arg(long, env = "MAGEFLOW_SERVER", value_name = "URL", global = true)]
    server: Option<String>,
    /// Your token (`mageflow tokens create`): who you are to the server, as viewer,
    /// operator, approver or admin. `MAGEFLOW_APPROVER_TOKEN`, its older name, is read when
    /// this is unset. Without a server, the data directory is opened as its owner
    /// (`local:$USER`), or as this token's principal when given.
    #[arg(
        long,
        env = "MAGEFLOW_TOKEN",
        hide_env_values = true,
        value_name = "TOKEN",
        global = true
    )]
    token: Option<String>,
}

#[derive(Debug, Args)]
pub(crate) struct RunArgs {
    /// The workflow's name.
    workflow: String,
    /// The manual trigger's input (JSON).
    #[arg(long, default_value = "{}", value_name = "JSON")]
    input: String,
    /// Send reads, plan writes (per entity, field before -> after) instead of sending them.
    #[arg(long)]
    dry_run: bool,
    /// Wait until the run ends or waits for an approval.
    #[arg(long)]
    wait: bool,
    #[command(flatten)]
    remote: Remote,
}

#[derive(Debug, Args)]
pub(crate) struct RunsArgs {
    #[command(subcommand)]
    command: RunsCommand,
    #[command(flatten)]
    remote: Remote,
}

#[derive(Debug, Subcommand)]
enum RunsCommand {
    /// List runs, oldest first.
    Ls {
        /// Only runs with this status: queued, running, awaiting-approval, retrying, succeeded,
        /// failed.
        #[arg(long, value_name = "S")]
        status: Option<String>,
        /// One JSON object per line.
        #[arg(long)]
        json: bool,
    },
    /// One run: what went wrong first (when it did), then its journal, log, writes, plan and
    /// outcome.
    Show {
        /// The run's id.
        id: u64,
        /// Only the run as one JSON object.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Args)]
pub(crate) struct ApprovalsArgs {
    #[command(subcommand)]
    command: ApprovalsCommand,
    #[command(flatten)]
    remote: Remote,
}

#[derive(Debug, Subcommand)]
enum ApprovalsCommand {
    /// List approvals, oldest first.
    Ls {
        /// Only approvals with this status: pending, approved, rejected, expired.
        #[arg(long, value_name = "S")]
        status: Option<String>,
        /// One JSON object per line.
        #[arg(long)]
        json: bool,
    },
    /// One approval: what it asks, its plan, every decision.
    Show {
        /// The approval's id.
        id: u64,
    },
    /// Approve (with your approver token).
    Approve {
        /// The approval's id.
        id: u64,
        /// A comment kept with your decision.
        #[arg(long, value_name = "TEXT")]
        comment: Option<String>,
    },
    /// Reject (with your approver token).
    Reject {
        /// The approval's id.
        id: u64,
        /// Why (kept with your decision and given to the plugin).
        #[arg(long, value_name = "TEXT")]
        reason: String,
    },
}

#[derive(Debug, Args)]
pub(crate) struct WorkflowsArgs {
    #[command(subcommand)]
    command: WorkflowsCommand,
    #[command(flatten)]
    remote: Remote,
}

#[derive(Debug, Subcommand)]
enum WorkflowsCommand {
    /// List the workflows.
    Ls {
        /// One JSON object per line.
        #[arg(long)]
        json: bool,
    },
    /// Check every workflow file and load its plugin against its grants.
    Validate,
}

/// The server over HTTP (with the token to send), or the data directory opened here (with
/// who acts on it).
pub(crate) enum Target {
    Http(reqwest::Client, String, Option<String>),
    Local(Api, Principal),
}

pub(crate) async fn target(remote: &Remote) -> anyhow::Result<Target> {
    reach(&remote.caller, || engine(&remote.places)).await
}

/// The server `caller` names when it answers, else the data directory `open` opens.
pub(crate) async fn reach(
    caller: &Caller,
    open: impl FnOnce() -> anyhow::Result<Arc<mageflow_engine::Engine>>,
) -> anyhow::Result<Target> {
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(3600))
        .build()?;
    let server: String = crate::config::pick(
        caller.server.clone(),
        "MAGEFLOW_SERVER",
        "http://127.0.0.1:7878",
    );
    let base = server.trim_end_matches('/').to_owned();
    let up = http
        .get(format!("{base}/healthz"))
        .timeout(Duration::from_secs(2))
        .send()
        .await
        .is_ok_and(|r| r.status().is_success());
    let token = caller
        .token
        .clone()
        .or_else(|| crate::config::var("MAGEFLOW_APPROVER_TOKEN"));
    if up {
        return Ok(Target::Http(http, base, token));
    }
    let engine = open().map_err(|e| {
        if e.to_string().contains("in use by another mageflow process") {
            anyhow::anyhow!(
                "{e}; no server answers at {base} (set MAGEFLOW_SERVER or --server to the one that holds it)"
            )
        } else {
            e
        }
    })?;
    let api = Api::new(
        engine,
        access(false)?,
        Arc::new(tokio::sync::Semaphore::new(1)),
    );
    let who = match token.as_deref() {
        Some(token) => api.principal(token)?,
        None => Principal::local(),
    };
    Ok(Target::Local(api, who))
}

impl Target {
    fn with_token(&self, req: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        match self {
            Target::Http(_, _, Some(t)) => req.bearer_auth(t),
            _ => req,
        }
    }

    pub(crate) async fn get(&self, path: &str) -> anyhow::Result<Value> {
        let Target::Http(http, base, _) = self else {
            unreachable!("get is only used over HTTP")
        };
        answer(
            self.with_token(http.get(format!("{base}{path}")))
                .send()
                .await?,
        )
        .await
    }

    pub(crate) async fn post(&self, path: &str, body: Value) -> anyhow::Result<Value> {
        let Target::Http(http, base, _) = self else {
            unreachable!("post is only used over HTTP")
        };
        let req = self.with_token(http.post(format!("{base}{path}")).json(&body));
        answer(req.send().await?).await
    }
}

async fn answer(resp: reqwest::Response) -> anyhow::Result<Value> {
    let status = resp.status();
    let body: Value = resp
        .json()
        .await
        .context("the server's answer is not JSON")?;
    if status.is_success() {
        Ok(body)
    } else {
        let message = body["error"]
            .as_str()
            .unwrap_or("the server refused")
            .to_owned();
        if status == reqwest::StatusCode::BAD_REQUEST {
            Err(Usage(message).into())
        } else if status == reqwest::StatusCode::UNAUTHORIZED {
            Err(anyhow::anyhow!(
                "{message} (the server at this address refused: set MAGEFLOW_TOKEN or --token to a token from `mageflow tokens create`)"
            ))
        } else {
            Err(anyhow::anyhow!(message))
        }
    }
}

fn status_query(status: Option<&String>) -> String {
    status.map_or_else(String::new, |s| format!("?status={s}"))
}

pub(crate) async fn run(args: RunArgs) -> anyhow::Result<()> {
    let target = target(&args.remote).await?;
    let run = match &target {
        Target::Http(..) => {
            target
                .post(
                    &format!("/api/workflows/{}/runs", args.workflow),
                    json!({"input": args.input, "dry_run": args.dry_run, "wait": args.wait}),
                )
                .await?
        }
        Target::Local(api, who) => {
            let start = Start {
                input: Some(args.input),
                dry_run: args.dry_run,
                wait: true,
            };
            api.start(&args.workflow, start, who).await?
        }
    };
    print_run(&run);
    if run["status"] == "failed" {
        anyhow::bail!("run {} failed", run["id"]);
    }
    Ok(())
}

fn print_run(run: &Value) {
    let status = run["status"].as_str().unwrap_or("?");
    println!(
        "run {} ({}): {status}",
        run["id"],
        run["workflow"].as_str().unwrap_or("?")
    );
    if let Some(s) = run["summary"].as_str() {
        println!("  {s}");
    }
    // What went wrong first (a guest's exception message), then where (its traceback).
    if let Some(e) = run["error"].as_str() {
        let mut lines = e.lines();
        println!("  error: {}", lines.next().unwrap_or_default());
        for line in lines {
            println!("    {line}");
        }
    }
    if let Some(r) = run["retry"].as_object() {
        println!(
            "  next attempt at {} ({} attempts of {} failed since {})",
            mageflow_engine::utc_text(r["next_at"].as_u64().unwrap_or(0)),
            r["attempts"],
            r["call"].as_str().unwrap_or("?"),
            mageflow_engine::utc_text(r["first_failed_at"].as_u64().unwrap_or(0)),
        );
        println!("  `mageflow serve` attempts it again when due (it replays, repeating no write)");
    }
    if let Some(plan) = run["plan"].as_array().filter(|p| !p.is_empty()) {
        println!("  planned writes:");
        for p in plan {
            print_planned(p);
        }
    }
    if status == "awaiting-approval" {
        println!(
            "  decide with: mageflow approvals ls --status pending; mageflow approvals approve ID"
        );
    }
}

fn print_planned(p: &Value) {
    let changes: Vec<String> = p["changes"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|c| {
            format!(
                "{} {} -> {}",
                c["field"].as_str().unwrap_or("?"),
                c["before"],
                c["after"]
            )
        })
        .collect();
    println!(
        "    {} {}: {}",
        p["call"].as_str().unwrap_or("?"),
        p["entity"].as_str().unwrap_or("?"),
        if changes.is_empty() {
            "(no field changes)".into()
        } else {
            changes.join(", ")
        }
    );
}

fn lines(items: &Value, json: bool, row: impl Fn(&Value) -> String) {
    for item in items.as_array().into_iter().flatten() {
        if json {
            println!("{item}");
        } else {
            println!("{}", row(item));
        }
    }
}

fn text(v: &Value) -> &str {
    v.as_str().unwrap_or("")
}

pub(crate) async fn runs(args: RunsArgs) -> anyhow::Result<()> {
    let target = target(&args.remote).await?;
    match args.command {
        RunsCommand::Ls { status, json } => {
            let list = match &target {
                Target::Http(..) => {
                    target
                        .get(&format!("/api/runs{}", status_query(status.as_ref())))
                        .await?
                }
                Target::Local(api, who) => api.runs(status.as_deref(), who)?,
            };
            lines(&list, json, |r| {
                format!(
                    "{:>6}  {:<20} {:<18} {}",
                    r["id"],
                    text(&r["workflow"]),
                    text(&r["status"]),
                    r["summary"].as_str().or(r["error"].as_str()).unwrap_or("")
                )
            });
        }
        RunsCommand::Show { id, json } => {
            let run = match &target {
                Target::Http(..) => target.get(&format!("/api/runs/{id}")).await?,
                Target::Local(api, who) => api.run(id, who)?,
            };
            if json {
                println!("{run}");
            } else {
                print_run(&run);
                println!("{}", serde_json::to_string_pretty(&run)?);
            }
        }
    }
    Ok(())
}

pub(crate) async fn approvals(args: ApprovalsArgs) -> anyhow::Result<()> {
    let target = target(&args.remote).await?;
    match args.command {
        ApprovalsCommand::Ls { status, json } => {
            let list = match &target {
                Target::Http(..) => {
                    target
                        .get(&format!("/api/approvals{}", status_query(status.as_ref())))
                        .await?
                }
                Target::Local(api, who) => api.approvals(status.as_deref(), who)?,
            };
            lines(&list, json, |a| {
                format!(
                    "{:>6}  run {:<6} {:<20} {:<9} {}",
                    a["id"],
                    a["run"],
                    text(&a["workflow"]),
                    text(&a["status"]),
                    text(&a["title"])
                )
            });
        }
        ApprovalsCommand::Show { id } => {
            let a = match &target {
                Target::Http(..) => target.get(&format!("/api/approvals/{id}")).await?,
                Target::Local(api, who) => api.approval(id, who)?,
            };
            println!("{}", serde_json::to_string_pretty(&a)?);
        }
        ApprovalsCommand::Approve { id, comment } => {
            decide(&target, id, Decision::Approve(comment)).await?;
        }
        ApprovalsCommand::Reject { id, reason } => {
            decide(&target, id, Decision::Reject(reason)).await?;
        }
    }
    Ok(())
}

/// Approves or rejects over HTTP or locally, and says where the approval stands.
async fn decide(target: &Target, id: u64, decision: Decision) -> anyhow::Result<()> {
    let a = match target {
        Target::Http(..) => {
            let (verb, body) = match &decision {
                Decision::Approve(comment) => ("approve", json!({ "comment": comment })),
                Decision::Reject(reason) => ("reject", json!({ "reason": reason })),
            };
            target
                .post(&format!("/api/approvals/{id}/{verb}"), body)
                .await?
        }
        Target::Local(api, who) => api.decide(id, who, decision, true).await?,
    };
    println!("approval {id}: {}", text(&a["status"]));
    Ok(())
}

pub(crate) async fn workflows(args: WorkflowsArgs) -> anyhow::Result<()> {
    match args.command {
        WorkflowsCommand::Validate => {
            let all = mageflow_engine::Workflow::load_dir_with(
                &args.remote.places.workflows(),
                &crate::config::get().limits,
            )?;
            let runtime =
                crate::plugin::compile_runtime(args.remote.places.cache_dir().as_deref(), false)?;
            for wf in &all {
                let bytes = std::fs::read(&wf.plugin).with_context(|| {
                    format!("workflow {}: cannot read {}", wf.name, wf.plugin.display())
                })?;
                runtime
                    .load(&wf.name, &bytes, wf.grants.clone())
                    .with_context(|| format!("workflow {}", wf.name))?;
                println!("ok: {}", wf.name);
            }
            println!("{} workflows are valid", all.len());
        }
        WorkflowsCommand::Ls { json } => {
            let target = target(&args.remote).await?;
            let list = match &target {
                Target::Http(..) => target.get("/api/workflows").await?,
                Target::Local(api, who) => api.workflows(who),
            };
            lines(&list, json, |w| {
                format!(
                    "{:<20} {:<8} {}",
                    text(&w["name"]),
                    text(&w["trigger"]),
                    w["grants"]
                )
            });
        }
    }
    Ok(())
}
