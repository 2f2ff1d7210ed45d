//! `mageflow demo`: the whole product on one machine with nothing installed. Starts
//! magento-sim in-process with seeded customers, serves the example workflows (their plugins
//! are built into this binary), fires an onboarding by a signed webhook and a group
//! reassignment by hand, and stops at their approvals with the page to decide them. With
//! `--auto-approve` the demo approvers decide, and it ends with a summary. Both SCIM roots are
//! served too, each with its own printed bearer token, so a SCIM client can be pointed at them.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use clap::Args;
use mageflow_engine::{Engine, Workflow};
use mageflow_server::scim::config::{GroupMap, RootConfig, ScimConfig, Target};
use mageflow_server::{AccessConfig, EnvTokens, HMAC_HEADER, NewToken};
use mageflow_store::{ApprovalStatus, Status, Store};
use serde_json::{Value, json};

use crate::output::Spinner;
use crate::plugin::compile_runtime;
use crate::serve::client_for;

#[derive(Debug, Args)]
pub(crate) struct DemoArgs {
    /// Decide every approval as the demo approvers, run to the end, print a summary, exit.
    #[arg(long)]
    auto_approve: bool,
    /// Where to serve the approvals page and the API.
    #[arg(long, default_value = "127.0.0.1:7878", value_name = "ADDR")]
    listen: String,
    /// Keep the demo's runs, journals and approvals here (default: a temporary directory,
    /// removed at the end).
    #[arg(long, value_name = "DIR")]
    data_dir: Option<PathBuf>,
    /// Customers seeded into the simulator.
    #[arg(long, default_value_t = 1000, value_name = "N")]
    customers: usize,
    /// Stop waiting for decisions after this long (e.g. `30m`); default: until Ctrl-C.
    #[arg(long, value_name = "DURATION", value_parser = duration)]
    timeout: Option<Duration>,
}

fn duration(text: &str) -> Result<Duration, String> {
    mageflow_engine::workflow::parse_duration(text)
        .ok_or_else(|| format!("{text:?} is not a duration: write e.g. \"90s\", \"30m\" or \"2h\""))
}

/// The shipped workflows the demo serves, with their plugins.
const WORKFLOWS: &[(&str, &str, &[u8])] = &[
    (
        "workflows/onboard-customer.toml",
        include_str!("../../../workflows/onboard-customer.toml"),
        mageflow_test_artifacts::ONBOARD_CUSTOMER_WASM,
    ),
    (
        "workflows/group-reassign.toml",
        include_str!("../../../workflows/group-reassign.toml"),
        mageflow_test_artifacts::GROUP_REASSIGN_WASM,
    ),
    (
        "workflows/offboard-admin.toml",
        include_str!("../../../workflows/offboard-admin.toml"),
        mageflow_test_artifacts::OFFBOARD_ADMIN_WASM,
    ),
    (
        "workflows/scim-admin.toml",
        include_str!("../../../workflows/scim-admin.toml"),
        mageflow_test_artifacts::SCIM_ADMIN_WASM,
    ),
    (
        "workflows/scim-customers.toml",
        include_str!("../../../workflows/scim-customers.toml"),
        mageflow_test_artifacts::SCIM_CUSTOMERS_WASM,
    ),
];

/// The demo's SCIM roots: the sim's two admin roles and its Wholesale group are mapped, and
/// a deactivated customer moves to NOT LOGGED IN (group 0).
fn scim_roots() -> ScimConfig {
    let map = |group: &str, target, privileged| GroupMap {
        group: group.into(),
        target,
        privileged,
    };
    let mut admin = RootConfig::new(Target::Admin, "scim-admin");
    admin.groups = vec![map("Magento Admins", 1, false), map("Support", 2, false)];
    admin.default_target = 2;
    let mut customers = RootConfig::new(Target::Customers, "scim-customers");
    customers.groups = vec![map("Wholesale", 2, true)];
    customers.inactive_group = 0;
    ScimConfig {
        roots: vec![admin, customers],
    }
}

/// The simulator's administrator (the demo's Magento credentials).
const SIM_ADMIN: (&str, &str) = ("admin", "Admin123!");

/// A directory removed when dropped.
struct Scratch(PathBuf);

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn random_hex() -> String {
    mageflow_runtime::fresh_seed()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Prints a numbered step.
fn step(n: u32, text: &str) {
    println!("[{n}/5] {text}");
}

pub(crate) async fn run(args: DemoArgs) -> anyhow::Result<()> {
    let began = Instant::now();
    if WORKFLOWS.iter().any(|(_, _, bytes)| bytes.is_empty()) {
        anyhow::bail!(
            "this mageflow was built without its example plugins (SKIP_GUEST_BUILD=1): rebuild without it"
        );
    }

    step(
        1,
        &format!("starting magento-sim with {} customers", args.customers),
    );
    let sim = magento_sim::start(
        magento_sim::SimConfig {
            seed_customers: args.customers,
            ..Default::default()
        },
        "127.0.0.1:0",
    )
    .await?;
    println!("      Magento REST API at {}", sim.rest_url());

    let (_scratch, data_dir) = match args.data_dir {
        Some(dir) => (None, dir),
        None => {
            let dir = std::env::temp_dir().join(format!("mageflow-demo-{}", random_hex()));
            (Some(Scratch(dir.clone())), dir)
        }
    };
    let hook_secret = random_hex();
    let vars: BTreeMap<&str, String> = BTreeMap::from([
        ("MAGEFLOW_MAGENTO_URL", sim.url()),
        ("MAGEFLOW_ADMIN_USER", SIM_ADMIN.0.to_owned()),
        ("MAGEFLOW_ADMIN_PASSWORD", SIM_ADMIN.1.to_owned()),
        ("MAGEFLOW_HOOK_SECRET", hook_secret.clone()),
    ]);
    let var = move |k: &str| vars.get(k).cloned();

    step(
        2,
        "loading the example workflows (compiling their plugins once)",
    );
    let store = Store::open(&data_dir)?;
    if !store.runs(None)?.is_empty() {
        anyhow::bail!(
            "{} holds runs from before: the demo needs an empty data directory (or none: a \
             temporary one is used by default)",
            data_dir.display()
        );
    }
    let cache = crate::config::var("MAGEFLOW_CACHE_DIR").map(PathBuf::from);
    let runtime = compile_runtime(cache.as_deref(), false)?;
    let engine = Arc::new(Engine::new(store, Arc::new(runtime)));
    for (file, text, bytes) in WORKFLOWS {
        let wf = Workflow::parse(Path::new(file), text)?;
        let name = wf.name.clone();
        let client = client_for(&engine, &wf, &var)?;
        engine
            .add_bytes(wf, bytes, client)
            .with_context(|| format!("workflow {name}"))?;
        println!("      {name}");
    }

    let approvers: Vec<(&str, String)> = ["alice", "bob", "carol"]
        .into_iter()
        .map(|n| (n, random_hex()))
        .collect();
    // The group reassignment is started by an operator who may not approve: olga.
    let operator = random_hex();
    let env_tokens = EnvTokens::parse(
        &approvers
            .iter()
            .map(|(n, t)| format!("{n}={t}"))
            .chain([format!("olga:operator+viewer={operator}")])
            .collect::<Vec<_>>()
            .join(","),
    )
    .map_err(anyhow::Error::msg)?;
    // The demo's tokens live in memory for its lifetime; /metrics is open so it can be read
    // with a plain curl.
    let mut scim_tokens = Vec::new();
    for root in ["admin", "customers"] {
        let workflow = format!("scim-{root}");
        let new = NewToken {
            name: format!("identity-provider-{root}"),
            roles: vec!["scim".into()],
            workflows: vec![workflow],
            ..NewToken::default()
        };
        let (_, token) = mageflow_server::auth::tokens::issue(
            engine.store(),
            &new,
            "demo",
            mageflow_engine::now_secs(),
        )
        .map_err(|e| anyhow::anyhow!("{e}"))?;
        scim_tokens.push((root, token));
    }
    let access = AccessConfig {
        env_tokens,
        metrics_open: true,
        scim: scim_roots(),
        ..AccessConfig::default()
    };
    let listener = tokio::net::TcpListener::bind(&args.listen)
        .await
        .with_context(|| {
            format!(
                "cannot listen on {}: is another mageflow running? Pass --listen 127.0.0.1:0 to take any free port",
                args.listen
            )
        })?;
    let base = format!("http://{}", listener.local_addr()?);
    step(
        3,
        &format!("serving the API and the approvals page at {base}"),
    );
    println!("      SCIM 2.0 roots for an identity provider (a bearer token each):");
    for (root, token) in &scim_tokens {
        println!("        {base}/scim/v2/{root:<9}  {token}");
    }
    println!(
        "        e.g. curl -s -H 'Authorization: Bearer {}' {base}/scim/v2/admin/Users",
        scim_tokens[0].1
    );
    let serving = tokio::spawn(mageflow_server::serve(
        engine.clone(),
        access,
        listener,
        var,
    ));

    step(
        4,
        "firing an onboarding (signed webhook) and a group reassignment",
    );
    let http = reqwest::Client::new();
    let event = json!({
        "eventName": "observer.customer_register_success",
        "data": { "customer": {
            "email": "dana.whitfield@example.com",
            "firstname": "Dana",
            "lastname": "Whitfield",
            "website_id": 1,
            "group": "Wholesale"
        }}
    })
    .to_string();
    let signature = mageflow_server::hmac_signature(hook_secret.as_bytes(), event.as_bytes());
    let answer: Value = http
        .post(format!("{base}/hooks/onboard-customer"))
        .header("content-type", "application/json")
        .header(HMAC_HEADER, signature)
        .body(event)
        .send()
        .await?
        .json()
        .await?;
    println!("      POST /hooks/onboard-customer -> {answer}");
    let reassign: Value = http
        .post(format!("{base}/api/workflows/group-reassign/runs"))
        .bearer_auth(&operator)
        .json(&json!({ "input": r#"{"from_group": 1, "to_group": 3}"# }))
        .send()
        .await?
        .json()
        .await?;
    anyhow::ensure!(
        reassign["id"].is_u64(),
        "the group reassignment could not be started: {reassign}"
    );
    println!(
        "      POST /api/workflows/group-reassign/runs (as olga, an operator) -> run {}",
        reassign["id"]
    );
    let fired = 2;

    step(5, "waiting for the runs to reach their approvals");
    let spinner = Spinner::new();
    let pending = loop {
        let runs = engine.store().runs(None)?;
        if runs.iter().any(|r| r.status == Status::Failed) {
            spinner.clear();
            return Err(anyhow::anyhow!(summary(&engine, began)?))
                .context("a demo run failed before its approval");
        }
        let pending = engine.store().approvals(Some(ApprovalStatus::Pending))?;
        if pending.len() >= fired {
            break pending;
        }
        spinner.tick(&format!(
            "{} of {fired} runs wait for a decision",
            pending.len()
        ));
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    spinner.clear();

    println!();
    for a in &pending {
        println!("  approval {}: {} ({})", a.id, a.title, a.workflow);
        for line in a.summary.lines() {
            println!("      {line}");
        }
    }
    if args.auto_approve {
        println!("\n--auto-approve: alice approves each one");
        let (name, token) = &approvers[0];
        for a in &pending {
            let resp = http
                .post(format!("{base}/api/approvals/{}/approve", a.id))
                .bearer_auth(token)
                .json(&json!({ "comment": "approved by the demo" }))
                .send()
                .await?;
            anyhow::ensure!(
                resp.status().is_success(),
                "{name} could not approve approval {}: {}",
                a.id,
                resp.text().await.unwrap_or_default()
            );
            println!("  approval {}: approved by {name}", a.id);
        }
    } else {
        println!(
            "\nDecide them in a browser: open {base}/ui and sign in with one of these tokens:"
        );
        for (name, token) in &approvers {
            println!("  {name:<6} {token}");
        }
        println!("\nor from another terminal:");
        let exe = "cargo run -q --release --";
        for a in &pending {
            println!(
                "  MAGEFLOW_SERVER={base} MAGEFLOW_TOKEN={} {exe} approvals approve {} --comment 'looks right'",
                approvers[0].1, a.id
            );
        }
        println!(
            "  (reject with: ... approvals reject ID --reason 'why'; list with: ... approvals ls)\n\nWaiting for your decisions (Ctrl-C stops the demo)."
        );
    }

    let deadline = args.timeout.map(|t| Instant::now() + t);
    let spinner = Spinner::new();
    loop {
        let runs = engine.store().runs(None)?;
        let open = runs.iter().filter(|r| !r.status.is_final()).count();
        if open == 0 {
            break;
        }
        if deadline.is_some_and(|d| Instant::now() >= d) {
            spinner.clear();
            anyhow::bail!("{open} runs still open after --timeout; stopping the demo");
        }
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_millis(100)) => {}
            _ = tokio::signal::ctrl_c() => {
                spinner.clear();
                println!("\nstopped; {open} runs were still open");
                return Ok(());
            }
        }
        spinner.tick(&format!("{open} runs still open"));
    }
    spinner.clear();
    serving.abort();
    let text = summary(&engine, began)?;
    println!("\n{text}");
    let failed = engine.store().runs(Some(Status::Failed))?.len();
    anyhow::ensure!(failed == 0, "{failed} demo runs failed (see above)");
    Ok(())
}

/// Runs, writes and time, for the end of the demo.
fn summary(engine: &Engine, began: Instant) -> anyhow::Result<String> {
    let mut out = String::from("Summary\n");
    let runs = engine.store().runs(None)?;
    let mut writes = 0;
    for r in &runs {
        let audit = engine.store().audit_of(r.id)?;
        writes += audit.len();
        let approvers: Vec<String> = audit
            .iter()
            .filter_map(|w| w.approver.clone())
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .collect();
        out.push_str(&format!(
            "  run {:>3}  {:<18} {:<18} {:>5} writes{}  {}\n",
            r.id,
            r.workflow,
            r.status.name(),
            audit.len(),
            if approvers.is_empty() {
                String::new()
            } else {
                format!(" (approved by {})", approvers.join(", "))
            },
            r.summary.as_deref().or(r.error.as_deref()).unwrap_or("")
        ));
    }
    out.push_str(&format!(
        "  {} runs, {writes} Magento writes, {:.1} s",
        runs.len(),
        began.elapsed().as_secs_f64()
    ));
    Ok(out)
}
