//! `mageflow serve` as a child process against magento-sim, killed with SIGKILL in the middle
//! of a run's writes and while a run waits for approval: after a restart every customer is
//! written exactly once and the run ends `succeeded`.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use magento_sim::{Server, SimConfig};
use serde_json::{Value, json};

const ALICE: &str = "alice-token-0123456789";
const BOB: &str = "bob-token-0123456789abc";

fn scratch(name: &str) -> PathBuf {
    let d =
        Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("serve-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// A sim whose first `n` customers are all in group 1.
async fn sim(n: usize) -> Server {
    let server = magento_sim::start(
        SimConfig {
            seed_customers: n,
            ..Default::default()
        },
        "127.0.0.1:0",
    )
    .await
    .expect("sim starts");
    {
        let mut state = server.sim.write();
        let all: Vec<_> = state.all_customers().cloned().collect();
        for mut c in all {
            c.group_id = 1;
            state.put_customer(c);
        }
    }
    server
}

fn workflows(dir: &Path) -> PathBuf {
    let wf = dir.join("workflows");
    std::fs::create_dir_all(&wf).unwrap();
    std::fs::write(
        wf.join("mover.toml"),
        format!(
            "plugin = {:?}\ngrants = [\"customers:read\", \"customers:write\", \"approvals\"]\n\
             [approvals]\napprovers = [\"bob\"]\n",
            mageflow_test_artifacts::UPDATE_EACH
        ),
    )
    .unwrap();
    wf
}

struct Serve {
    child: Child,
    url: String,
}

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts `mageflow serve` and waits for its `listening on` line.
fn serve(dir: &Path, sim: &Server) -> Serve {
    let mut child = Command::new(env!("CARGO_BIN_EXE_mageflow"))
        .env_clear()
        .env("MAGEFLOW_MAGENTO_URL", sim.url())
        .env("MAGEFLOW_ADMIN_USER", "admin")
        .env("MAGEFLOW_ADMIN_PASSWORD", "Admin123!")
        .env(
            "MAGEFLOW_APPROVER_TOKENS",
            format!("alice={ALICE},bob={BOB}"),
        )
        .env(
            "MAGEFLOW_CACHE_DIR",
            Path::new(env!("CARGO_TARGET_TMPDIR")).join("serve-compile-cache"),
        )
        .args(["serve", "--listen", "127.0.0.1:0", "--workflows"])
        .arg(dir.join("workflows"))
        .arg("--data-dir")
        .arg(dir.join("data"))
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("mageflow serve starts");
    let stdout = child.stdout.take().unwrap();
    let mut lines = BufReader::new(stdout).lines();
    let url = loop {
        let line = lines
            .next()
            .expect("serve printed its address before exiting")
            .unwrap();
        if let Some(url) = line.strip_prefix("listening on ") {
            break url.to_owned();
        }
    };
    // Keep reading stdout so the child never blocks on a full pipe.
    std::thread::spawn(move || for _ in lines {});
    Serve { child, url }
}

async fn call(method: reqwest::Method, url: String, token: Option<&str>, body: Value) -> Value {
    let mut req = reqwest::Client::new().request(method, url).json(&body);
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    let resp = req.send().await.expect("the server answers");
    let status = resp.status();
    let v: Value = resp.json().await.expect("JSON");
    assert!(status.is_success(), "{status}: {v}");
    v
}

async fn get(url: String) -> Value {
    call(reqwest::Method::GET, url, None, Value::Null).await
}

async fn wait_for(what: &str, limit: Duration, mut check: impl AsyncFnMut() -> bool) {
    let start = Instant::now();
    while !check().await {
        assert!(start.elapsed() < limit, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn run_status(serve: &Serve, id: u64) -> String {
    get(format!("{}/api/runs/{id}", serve.url)).await["status"]
        .as_str()
        .unwrap()
        .to_owned()
}

fn updates(server: &Server) -> BTreeMap<u64, usize> {
    let mut per = BTreeMap::new();
    for w in &server.sim.read().writes {
        if w.entity == "customer" && w.op == "update" {
            *per.entry(w.id).or_default() += 1;
        }
    }
    per
}

async fn start_and_reach_approval(serve: &Serve) -> (u64, u64) {
    let run = call(
        reqwest::Method::POST,
        format!("{}/api/workflows/mover/runs", serve.url),
        Some(ALICE),
        json!({"input": "1 2"}),
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

async fn approve(serve: &Serve, approval: u64) {
    let a = call(
        reqwest::Method::POST,
        format!("{}/api/approvals/{approval}/approve", serve.url),
        Some(BOB),
        json!({"comment": "go"}),
    )
    .await;
    assert_eq!(a["status"], "approved");
}

async fn finish_and_check(serve: &Serve, id: u64, sim: &Server, customers: usize) {
    wait_for(
        "the run to succeed",
        Duration::from_secs(300),
        async || match run_status(serve, id).await.as_str() {
            "succeeded" => true,
            "failed" => panic!("{}", get(format!("{}/api/runs/{id}", serve.url)).await),
            _ => false,
        },
    )
    .await;
    let per = updates(sim);
    assert_eq!(per.len(), customers, "every customer written");
    let twice: Vec<_> = per.iter().filter(|(_, n)| **n != 1).collect();
    assert!(twice.is_empty(), "written more than once: {twice:?}");
    assert!(sim.sim.read().all_customers().all(|c| c.group_id == 2));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sigkill_in_the_middle_of_the_writes_loses_and_repeats_nothing() {
    let sim = sim(2000).await;
    let dir = scratch("mid-writes");
    workflows(&dir);
    let first = serve(&dir, &sim);
    let (id, approval) = start_and_reach_approval(&first).await;
    assert!(updates(&sim).is_empty());
    approve(&first, approval).await;
    wait_for("writes to begin", Duration::from_secs(120), async || {
        updates(&sim).len() >= 300
    })
    .await;
    drop(first); // SIGKILL, then reap
    let written = updates(&sim).len();
    assert!(
        written < 2000,
        "the kill landed mid-run ({written} written)"
    );
    let second = serve(&dir, &sim);
    finish_and_check(&second, id, &sim, 2000).await;
    let run = get(format!("{}/api/runs/{id}", second.url)).await;
    assert_eq!(
        run["attempts"], 3,
        "started, resumed after approval, resumed after the kill"
    );
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
