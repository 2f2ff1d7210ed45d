//! `mageflow serve` as a child process against magento-sim, killed with SIGKILL in the middle
//! of a run's writes and while a run waits for approval: after a restart every customer is
//! written exactly once and the run ends `succeeded`. The same through a fault-injecting proxy
//! (issue 11): a quarter of the requests refused, failed after Magento applied them, or
//! dropped unanswered; and through a minute of 503s, which the run waits out `retrying`.

#[path = "../../../tests/support/postgres.rs"]
mod postgres;
#[path = "support/proxy.rs"]
mod proxy;
#[path = "support/serve.rs"]
mod serve_support;
#[path = "support/sim.rs"]
mod sim_support;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use magento_sim::Server;
use serde_json::{Value, json};

use serve_support::{
    ALICE, Launch, ROOT, Serve, approve, call, creates, get, run_status, scratch, updates, wait_for,
};

/// A sim whose first `n` customers are all in group 1.
async fn sim(n: usize) -> Server {
    sim_support::in_group_1(n).await
}

fn workflows(dir: &Path) -> PathBuf {
    workflow(dir, "mover", mageflow_test_artifacts::UPDATE_EACH, "")
}

/// Writes `workflows/NAME.toml` running `plugin` with customer grants and bob as approver,
/// and `extra` lines at the end.
fn workflow(dir: &Path, name: &str, plugin: &str, extra: &str) -> PathBuf {
    let wf = dir.join("workflows");
    std::fs::create_dir_all(&wf).unwrap();
    std::fs::write(
        wf.join(format!("{name}.toml")),
        format!(
            "plugin = {plugin:?}\ngrants = [\"customers:read\", \"customers:write\", \"bulk\", \"approvals\"]\n\
             [approvals]\napprovers = [\"bob\"]\n{extra}"
        ),
    )
    .unwrap();
    wf
}

/// Starts `mageflow serve` against `sim` and waits for its `listening on` line.
fn serve(dir: &Path, sim: &Server) -> Serve {
    serve_via(dir, &sim.url())
}

/// Starts `mageflow serve` against the Magento at `magento` (a proxy, say).
fn serve_via(dir: &Path, magento: &str) -> Serve {
    Launch::new(dir, magento)
        .start()
        .expect("mageflow serve starts")
}

/// Starts `mageflow serve` on the PostgreSQL store at `store`, with 4 s leases (its
/// workflows' Magento timeouts must be at most 2 s), so a killed worker's run is taken over
/// within seconds.
fn serve_on(dir: &Path, magento: &str, store: &str) -> Result<Serve, String> {
    Launch {
        store: Some(store),
        args: &["--lease", "4s"],
        keep_log: true,
        ..Launch::new(dir, magento)
    }
    .start()
}

async fn start_and_reach_approval(serve: &Serve) -> (u64, u64) {
    start_run(serve, "mover", "1 2").await
}

/// Starts a run of `workflow` with `input` and waits for its approval: (run, approval).
async fn start_run(serve: &Serve, workflow: &str, input: &str) -> (u64, u64) {
    let run = call(
        reqwest::Method::POST,
        format!("{}/api/workflows/{workflow}/runs", serve.url),
        Some(ALICE),
        json!({ "input": input }),
    )
    .await;
    let id = run["id"].as_u64().unwrap();
    wait_for("the approval", Duration::from_secs(120), async || {
        run_status(serve, id).await == "awaiting-approval"
    })
    .await;
    let pending = get(format!("{}/api/approvals?status=pending", serve.url)).await;
    let approval = pending[0]["id"].as_u64().unwrap();
    assert_eq!(pending[0]["run"], id);
    (id, approval)
}

async fn succeeded(serve: &Serve, id: u64) {
    wait_for(
        "the run to succeed",
        Duration::from_secs(400),
        async || match run_status(serve, id).await.as_str() {
            "succeeded" => true,
            "failed" => panic!("{}", get(format!("{}/api/runs/{id}", serve.url)).await),
            _ => false,
        },
    )
    .await;
}

async fn finish_and_check(serve: &Serve, id: u64, sim: &Server, customers: usize) {
    succeeded(serve, id).await;
    let per = updates(sim);
    assert_eq!(per.len(), customers, "every customer written");
    let twice: Vec<_> = per.iter().filter(|(_, n)| **n != 1).collect();
    assert!(twice.is_empty(), "written more than once: {twice:?}");
    assert!(sim.sim.read().all_customers().all(|c| c.group_id == 2));
}

/// Approves a 2,000-customer run, SIGKILLs `first` once 300 are written, starts `again` and
/// checks every customer is written exactly once.
async fn kill_mid_writes_and_finish(
    sim: &Server,
    first: Serve,
    again: impl FnOnce() -> Serve,
) -> Serve {
    let (id, approval) = start_and_reach_approval(&first).await;
    assert!(updates(sim).is_empty());
    approve(&first, approval).await;
    wait_for("writes to begin", Duration::from_secs(120), async || {
        updates(sim).len() >= 300
    })
    .await;
    drop(first); // SIGKILL, then reap
    let written = updates(sim).len();
    assert!(
        written < 2000,
        "the kill landed mid-run ({written} written)"
    );
    let second = again();
    finish_and_check(&second, id, sim, 2000).await;
    let run = get(format!("{}/api/runs/{id}", second.url)).await;
    assert_eq!(
        run["attempts"], 3,
        "started, resumed after approval, resumed after the kill"
    );
    second
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sigkill_in_the_middle_of_the_writes_loses_and_repeats_nothing() {
    let sim = sim(2000).await;
    let dir = scratch("mid-writes");
    workflows(&dir);
    let first = serve(&dir, &sim);
    kill_mid_writes_and_finish(&sim, first, || serve(&dir, &sim)).await;
}

/// The same kill on the PostgreSQL store, its schema migrated by hand first: the restart
/// after the kill writes each customer once. (Several workers at once: tests/workers.rs.)
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn on_postgres_sigkill_in_the_middle_of_the_writes_loses_and_repeats_nothing() {
    let sim = sim(2000).await;
    let dir = scratch("pg-mid-writes");
    workflow(
        &dir,
        "mover",
        mageflow_test_artifacts::UPDATE_EACH,
        "[magento]\ntimeout = \"2s\"\n",
    );
    let store = postgres::server().fresh();
    let migrated = Command::new(env!("CARGO_BIN_EXE_mageflow"))
        .env_clear()
        .args(["store", "migrate", "--store", &store])
        .output()
        .unwrap();
    assert!(migrated.status.success(), "{migrated:?}");
    assert_eq!(
        String::from_utf8_lossy(&migrated.stdout).trim(),
        format!(
            "migrated the schema from version 0 to {}",
            mageflow_store::SCHEMA_VERSION
        )
    );
    let first = serve_on(&dir, &sim.url(), &store).unwrap();
    wait_for("readyz", Duration::from_secs(30), async || {
        let r = reqwest::get(format!("{}/readyz", first.url)).await.unwrap();
        r.status().is_success() && r.text().await.unwrap() == "ready"
    })
    .await;
    kill_mid_writes_and_finish(&sim, first, || serve_on(&dir, &sim.url(), &store).unwrap()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sigkill_while_waiting_for_approval_loses_nothing() {
    let sim = sim(60).await;
    let dir = scratch("awaiting");
    workflows(&dir);
    let first = serve(&dir, &sim);
    let (id, approval) = start_and_reach_approval(&first).await;
    drop(first);
    let second = serve(&dir, &sim);
    assert_eq!(run_status(&second, id).await, "awaiting-approval");
    approve(&second, approval).await;
    finish_and_check(&second, id, &sim, 60).await;
}

/// Fast durable retries for the flaky-network tests.
const QUICK_RETRY: &str = "[retry]\ninitial-interval = \"1s\"\nmax-interval = \"2s\"\n";

/// Kills `serve` when `count` reaches `at`, and starts a new one; a failed run `id` stops the
/// test with its error.
async fn kill_when(
    (serve, id): (Serve, u64),
    dir: &Path,
    magento: &str,
    what: &str,
    mut count: impl FnMut() -> usize,
    at: usize,
) -> Serve {
    wait_for(what, Duration::from_secs(300), async || {
        if run_status(&serve, id).await == "failed" {
            panic!("{}", get(format!("{}/api/runs/{id}", serve.url)).await);
        }
        count() >= at
    })
    .await;
    drop(serve); // SIGKILL, then reap
    serve_via(dir, magento)
}

/// Issue 11: 1,100 customers moved with one `customers.update` each through a proxy that
/// refuses, fails after applying, or drops a quarter of all requests, with `serve` killed
/// while the run awaits approval and twice during the writes: each customer written once.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_flaky_network_and_three_sigkills_write_each_customer_exactly_once() {
    let sim = sim(1100).await;
    let proxy = proxy::Proxy::start(&sim.url(), 0.25).await;
    let dir = scratch("flaky-updates");
    workflow(
        &dir,
        "mover",
        mageflow_test_artifacts::UPDATE_EACH,
        QUICK_RETRY,
    );
    let first = serve_via(&dir, &proxy.url);
    let (id, approval) = start_run(&first, "mover", "1 2").await;
    drop(first); // killed while awaiting approval
    let second = serve_via(&dir, &proxy.url);
    assert_eq!(run_status(&second, id).await, "awaiting-approval");
    approve(&second, approval).await;
    let third = kill_when(
        (second, id),
        &dir,
        &proxy.url,
        "300 writes",
        || updates(&sim).len(),
        300,
    )
    .await;
    let fourth = kill_when(
        (third, id),
        &dir,
        &proxy.url,
        "700 writes",
        || updates(&sim).len(),
        700,
    )
    .await;
    finish_and_check(&fourth, id, &sim, 1100).await;
    assert!(
        proxy.faults() > 500,
        "the proxy misbehaved {} times",
        proxy.faults()
    );
    let counts = &proxy.counts;
    for (kind, n) in [
        ("refused", &counts.refused),
        ("failed after", &counts.failed_after),
        ("dropped after", &counts.dropped_after),
    ] {
        assert!(
            n.load(std::sync::atomic::Ordering::Relaxed) > 50,
            "{kind}: {n:?}"
        );
    }
}

/// Issue 11: the same for a bulk run (`bulk.submit-updates` + `bulk.wait`): the consumer is
/// held so `serve` is killed with the bulks submitted and open, and again while it waits.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_flaky_network_and_sigkills_submit_each_bulk_update_once() {
    let sim = sim(1000).await;
    sim.sim.write().consumer_running = false;
    let proxy = proxy::Proxy::start(&sim.url(), 0.25).await;
    let dir = scratch("flaky-bulk");
    workflow(
        &dir,
        "reassign",
        mageflow_test_artifacts::GROUP_REASSIGN,
        QUICK_RETRY,
    );
    let first = serve_via(&dir, &proxy.url);
    let (id, approval) = start_run(&first, "reassign", r#"{"from_group": 1, "to_group": 2}"#).await;
    drop(first);
    let second = serve_via(&dir, &proxy.url);
    approve(&second, approval).await;
    let scheduled = || {
        sim.sim
            .read()
            .bulks
            .values()
            .map(|b| b.operations.len())
            .sum::<usize>()
    };
    let third = kill_when(
        (second, id),
        &dir,
        &proxy.url,
        "the first bulk",
        scheduled,
        1,
    )
    .await;
    let fourth = kill_when((third, id), &dir, &proxy.url, "every bulk", scheduled, 1000).await;
    assert_eq!(
        scheduled(),
        1000,
        "each customer scheduled once, none resubmitted"
    );
    {
        let mut state = sim.sim.write();
        state.consumer_running = true;
    }
    succeeded(&fourth, id).await;
    assert_eq!(scheduled(), 1000, "nothing submitted twice");
    let per = updates(&sim);
    assert_eq!(per.len(), 1000, "every customer written");
    assert!(per.values().all(|n| *n == 1), "written more than once");
    assert!(sim.sim.read().all_customers().all(|c| c.group_id == 2));
}

/// Issue 11: the same for creates: 400 customers created with one `customers.create` each,
/// `serve` killed during the creates; each customer exists once.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_flaky_network_and_sigkills_create_each_customer_once() {
    let sim = sim(0).await;
    let proxy = proxy::Proxy::start(&sim.url(), 0.25).await;
    let dir = scratch("flaky-creates");
    workflow(
        &dir,
        "creator",
        mageflow_test_artifacts::CREATE_EACH,
        QUICK_RETRY,
    );
    let first = serve_via(&dir, &proxy.url);
    let (id, approval) = start_run(&first, "creator", "400").await;
    approve(&first, approval).await;
    let second = kill_when(
        (first, id),
        &dir,
        &proxy.url,
        "100 creates",
        || creates(&sim).len(),
        100,
    )
    .await;
    let third = kill_when(
        (second, id),
        &dir,
        &proxy.url,
        "250 creates",
        || creates(&sim).len(),
        250,
    )
    .await;
    succeeded(&third, id).await;
    let per = creates(&sim);
    assert_eq!(per.len(), 400, "every customer created");
    let twice: Vec<_> = per.iter().filter(|(_, n)| **n != 1).collect();
    assert!(twice.is_empty(), "created more than once: {twice:?}");
    assert_eq!(sim.sim.read().all_customers().count(), 400);
}

/// Issue 11: Magento answers 503 to everything for a minute in the middle of a run: the run
/// goes `retrying`, holds no worker, survives a restart in that state, and finishes when
/// Magento is back.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_minute_of_503s_is_waited_out_retrying_across_a_restart() {
    let sim = sim(400).await;
    let proxy = proxy::Proxy::start(&sim.url(), 0.0).await;
    let dir = scratch("outage");
    workflow(
        &dir,
        "mover",
        mageflow_test_artifacts::UPDATE_EACH,
        "[retry]\ninitial-interval = \"2s\"\nmax-interval = \"10s\"\n",
    );
    let first = serve_via(&dir, &proxy.url);
    let (id, approval) = start_run(&first, "mover", "1 2").await;
    approve(&first, approval).await;
    wait_for("100 writes", Duration::from_secs(120), async || {
        updates(&sim).len() >= 100
    })
    .await;
    proxy.set_outage(true);
    let outage = Instant::now();
    wait_for("the run to retry", Duration::from_secs(60), async || {
        run_status(&first, id).await == "retrying"
    })
    .await;
    let run = get(format!("{}/api/runs/{id}", first.url)).await;
    assert!(run["retry"]["next_at"].as_u64().is_some(), "{run}");
    assert!(
        run["retry"]["last_error"].as_str().unwrap().contains("503"),
        "{run}"
    );
    assert!(
        run["error"].as_str().unwrap().starts_with("retrying at "),
        "{run}"
    );
    // /metrics needs a token unless it is configured open.
    let metrics = reqwest::Client::new()
        .get(format!("{}/metrics", first.url))
        .bearer_auth(ALICE)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(metrics.contains("mageflow_runs_retrying 1\n"), "{metrics}");
    drop(first);
    let second = serve_via(&dir, &proxy.url);
    assert_eq!(
        run_status(&second, id).await,
        "retrying",
        "the state survives a restart"
    );
    let written = updates(&sim).len();
    tokio::time::sleep(Duration::from_secs(60).saturating_sub(outage.elapsed())).await;
    assert_eq!(
        updates(&sim).len(),
        written,
        "nothing reached Magento in the outage"
    );
    let run = get(format!("{}/api/runs/{id}", second.url)).await;
    assert!(
        run["retry"]["attempts"].as_u64().unwrap() >= 3,
        "it kept trying: {run}"
    );
    proxy.set_outage(false);
    finish_and_check(&second, id, &sim, 400).await;
}

/// `mageflow` with `args`, its server at `server`, as `token`: its stdout.
fn cli(server: &str, token: Option<&str>, args: &[&str]) -> String {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_mageflow"));
    cmd.env_clear().env("MAGEFLOW_SERVER", server).args(args);
    if let Some(t) = token {
        cmd.env("MAGEFLOW_TOKEN", t);
    }
    let o = cmd.output().unwrap();
    assert!(
        o.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8(o.stdout).unwrap()
}

async fn whoami(serve: &Serve, token: &str) -> reqwest::Response {
    reqwest::Client::new()
        .get(format!("{}/api/whoami", serve.url))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn tokens_are_made_listed_revoked_and_audited_and_only_their_hash_is_kept() {
    let dir = scratch("tokens");
    let sim = sim(3).await;
    workflows(&dir);
    let data = dir.join("data");
    let data = data.to_str().unwrap();
    // No server yet: the data directory is opened by its owner.
    let closed = "http://127.0.0.1:9";
    let made: Value = serde_json::from_str(&cli(
        closed,
        None,
        &[
            "tokens",
            "create",
            "ops",
            "--role",
            "operator,viewer",
            "--workflows",
            "mov*",
            "--expires",
            "30d",
            "--json",
            "--data-dir",
            data,
        ],
    ))
    .unwrap();
    let token = made["token"].as_str().unwrap().to_owned();
    let id = made["id"].as_str().unwrap().to_owned();
    assert!(
        token.starts_with(&format!("mft_{id}_")) && token.len() > 60,
        "{token}"
    );
    let listed = cli(
        closed,
        None,
        &["tokens", "ls", "--json", "--data-dir", data],
    );
    assert!(listed.contains(&id) && !listed.contains(&token), "{listed}");
    let secret = token.rsplit('_').next().unwrap();
    for f in walk(&dir.join("data")) {
        let bytes = std::fs::read(&f).unwrap();
        assert!(
            !bytes.windows(secret.len()).any(|w| w == secret.as_bytes()),
            "{} holds the token in clear",
            f.display()
        );
    }

    let serve = serve(&dir, &sim);
    let me: Value = whoami(&serve, &token).await.json().await.unwrap();
    assert_eq!(me["name"], "ops", "{me}");
    let out = cli(&serve.url, Some(ROOT), &["tokens", "revoke", &id]);
    assert!(out.contains("revoked"), "{out}");
    let refused = whoami(&serve, &token).await;
    assert_eq!(refused.status(), 401);
    let why: Value = refused.json().await.unwrap();
    assert!(why["error"].as_str().unwrap().contains("revoked"), "{why}");

    let audit = cli(&serve.url, Some(ROOT), &["audit", "ls", "--json"]);
    let actions: Vec<(String, String)> = audit
        .lines()
        .map(|l| {
            let e: Value = serde_json::from_str(l).unwrap();
            (
                e["principal"].as_str().unwrap().to_owned(),
                e["action"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert!(
        actions.contains(&("root".into(), "token.revoke".into()))
            && actions
                .iter()
                .any(|(p, a)| p.starts_with("local:") && a == "token.create"),
        "{actions:?}"
    );
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut all = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            all.extend(walk(&p));
        } else {
            all.push(p);
        }
    }
    all
}
