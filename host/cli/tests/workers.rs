//! Issue 16: three `mageflow serve` workers on one PostgreSQL database and one magento-sim,
//! under load (hundreds of runs: signed webhook deliveries that create customers, some of
//! them held for approval, each delivered twice to different workers; a 3,000-customer
//! approval-gated update; a cron tick every second on every worker), while one worker is
//! killed with SIGKILL in the middle of the writes and restarted, and another is frozen with
//! SIGSTOP for three lease periods in the middle of the writes and then resumed.
//!
//! Every run succeeds, `/__sim/writes` shows each write exactly once, the frozen worker says
//! it lost its lease and sends no write after it resumes, every redelivery is answered as a
//! duplicate of the run its first delivery queued, and no cron tick fires twice. Each worker
//! reaches the sim through a proxy of its own, which notes when each write came through.

#[path = "../../../tests/support/postgres.rs"]
mod postgres;
#[path = "support/proxy.rs"]
mod proxy;
#[path = "support/serve.rs"]
mod serve_support;
#[path = "support/sim.rs"]
mod sim_support;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use serve_support::{ALICE, BOB, Launch, Serve, call, scratch, updates, wait_for};

/// How long a worker's lease lasts unrenewed.
const LEASE: Duration = Duration::from_secs(3);
/// Customers the gated update moves, each with a PUT of its own.
const MOVED: usize = 3000;
/// Webhook deliveries, each of a new customer; one in ten asks for a privileged group.
const DELIVERIES: usize = 200;
const SECRET: &str = "a-shared-secret-of-some-length";

/// The workflows every worker loads: short Magento timeouts, so a 3 s lease outlives them.
fn workflows(dir: &Path) {
    let wf = dir.join("workflows");
    std::fs::create_dir_all(&wf).unwrap();
    let common = "[magento]\ntimeout = \"1s\"\n[approvals]\napprovers = [\"bob\"]\n";
    let files = [
        (
            "mover",
            format!(
                "plugin = {:?}\ngrants = [\"customers:read\", \"customers:write\", \"approvals\"]\n{common}",
                mageflow_test_artifacts::UPDATE_EACH
            ),
        ),
        (
            "onboard",
            format!(
                "plugin = {:?}\ngrants = [\"customers:read\", \"customers:write\", \"approvals\"]\n\
                 [trigger]\nkind = \"webhook\"\nevents = [\"observer.customer_register_success\"]\n\
                 signature = \"hmac\"\nsecret-env = \"HOOK_SECRET\"\n\
                 [config]\nprivileged_groups = \"Wholesale\"\n{common}",
                mageflow_test_artifacts::ONBOARD_CUSTOMER
            ),
        ),
        (
            "tick",
            format!(
                "plugin = {:?}\ngrants = [\"customers:read\"]\n\
                 [trigger]\nkind = \"cron\"\nschedule = \"* * * * * *\"\noverlap = \"allow\"\n{common}",
                mageflow_test_artifacts::ECHO
            ),
        ),
    ];
    for (name, text) in files {
        std::fs::write(wf.join(format!("{name}.toml")), text).unwrap();
    }
}

/// One worker: its `serve`, and the proxy it reaches Magento through.
struct Worker {
    serve: Serve,
    proxy: proxy::Proxy,
}

impl Worker {
    fn pid(&self) -> u32 {
        self.serve.child.id()
    }

    fn signal(&self, signal: &str) {
        let sent = Command::new("kill")
            .args([signal, &self.pid().to_string()])
            .status()
            .unwrap();
        assert!(sent.success(), "kill {signal} {}", self.pid());
    }
}

fn start_worker(dir: &Path, store: &str, proxy: &proxy::Proxy) -> Serve {
    Launch {
        store: Some(store),
        args: &["--lease", "3s"],
        env: &[("HOOK_SECRET", SECRET)],
        keep_log: true,
        ..Launch::new(dir, &proxy.url)
    }
    .start()
    .expect("a worker starts")
}

/// The database, as psql answers (`|`-separated columns, a row a line).
struct Db {
    schema: String,
}

impl Db {
    fn sql(&self, statement: &str) -> String {
        postgres::server().sql(&statement.replace("{schema}", &self.schema))
    }

    fn count(&self, condition: &str) -> usize {
        self.sql(&format!(
            "SELECT count(*) FROM {{schema}}.runs WHERE {condition}"
        ))
        .parse()
        .unwrap()
    }

    /// The pid of the worker that holds `run`'s lease now (`host:PID#n`).
    fn holder(&self, run: u64) -> Option<u32> {
        let owner = self.sql(&format!(
            "SELECT coalesce(lease_owner, '') FROM {{schema}}.runs WHERE id = {run} AND lease_until > now()"
        ));
        owner.split(':').nth(1)?.split('#').next()?.parse().ok()
    }
}

/// A delivery's body: a new customer, privileged every tenth.
fn delivery(i: usize) -> String {
    let group = if i.is_multiple_of(10) {
        "Wholesale"
    } else {
        "Retailer"
    };
    json!({
        "eventName": "observer.customer_register_success",
        "data": {"customer": {
            "email": format!("new{i}@example.com"),
            "firstname": "New",
            "lastname": format!("Customer{i}"),
            "group": group,
        }},
    })
    .to_string()
}

/// Delivers `body` to the workers from `first` on, as Commerce retries one that does not
/// answer: (`x-mageflow-delivery`, `x-mageflow-run`) of the first worker that answered.
async fn deliver(urls: &Mutex<Vec<String>>, first: usize, body: &str) -> (String, u64) {
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(3))
        .build()
        .unwrap();
    let signature = mageflow_server::hmac_signature(SECRET.as_bytes(), body.as_bytes());
    for attempt in 0.. {
        let url = {
            let urls = urls.lock().unwrap();
            urls[(first + attempt) % urls.len()].clone()
        };
        let sent = client
            .post(format!("{url}/hooks/onboard"))
            .header(mageflow_server::HMAC_HEADER, &signature)
            .header("content-type", "application/json")
            .body(body.to_owned())
            .send()
            .await;
        if let Ok(r) = sent
            && r.status().is_success()
        {
            let header = |name: &str| {
                r.headers()
                    .get(name)
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or_default()
                    .to_owned()
            };
            return (
                header("x-mageflow-delivery"),
                header("x-mageflow-run").parse().unwrap(),
            );
        }
        assert!(attempt < 60, "no worker took delivery {body}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    unreachable!()
}

/// Approves every pending approval, each through the next worker in turn, until `done`.
async fn approve_all(urls: Arc<Mutex<Vec<String>>>, done: Arc<AtomicBool>) {
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(3))
        .build()
        .unwrap();
    let mut turn = 0;
    while !done.load(Ordering::SeqCst) {
        tokio::time::sleep(Duration::from_millis(200)).await;
        let list: Vec<String> = urls.lock().unwrap().clone();
        turn += 1;
        let Ok(r) = client
            .get(format!(
                "{}/api/approvals?status=pending",
                list[turn % list.len()]
            ))
            .bearer_auth(ALICE)
            .send()
            .await
        else {
            continue;
        };
        let Ok(pending) = r.json::<Value>().await else {
            continue;
        };
        for a in pending.as_array().into_iter().flatten() {
            turn += 1;
            // A worker that is down, or a decision another pass made first: the next pass.
            let _ = client
                .post(format!(
                    "{}/api/approvals/{}/approve",
                    list[turn % list.len()],
                    a["id"]
                ))
                .bearer_auth(BOB)
                .json(&json!({"comment": "go"}))
                .send()
                .await;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn three_workers_one_killed_and_one_frozen_mid_writes_write_each_once_and_fire_each_tick_once()
 {
    let sim = sim_support::in_group_1(MOVED).await;
    // Slow updates, so the faults land while the gated update is writing.
    sim.sim.write().faults.push(
        serde_json::from_value(
            json!({"method": "PUT", "path": "/V1/customers/*", "latency_ms": 8}),
        )
        .unwrap(),
    );
    let store = postgres::server().fresh();
    let db = Db {
        schema: store.rsplit("%3D").next().unwrap().to_owned(),
    };
    let dir = scratch("three-workers");
    workflows(&dir);
    let mut workers = Vec::new();
    for _ in 0..3 {
        let proxy = proxy::Proxy::start(&sim.url(), 0.0).await;
        workers.push(Worker {
            serve: start_worker(&dir, &store, &proxy),
            proxy,
        });
    }
    let urls = Arc::new(Mutex::new(
        workers
            .iter()
            .map(|w| w.serve.url.clone())
            .collect::<Vec<_>>(),
    ));
    for w in &workers {
        wait_for("readyz", Duration::from_secs(60), async || {
            reqwest::get(format!("{}/readyz", w.serve.url))
                .await
                .is_ok_and(|r| r.status().is_success())
        })
        .await;
    }

    // The gated update, started on the first worker; approvals are decided on any.
    let mover = call(
        reqwest::Method::POST,
        format!("{}/api/workflows/mover/runs", workers[0].serve.url),
        Some(ALICE),
        json!({"input": "1 2"}),
    )
    .await["id"]
        .as_u64()
        .unwrap();
    let done = Arc::new(AtomicBool::new(false));
    let approver = tokio::spawn(approve_all(urls.clone(), done.clone()));
    // The deliveries, each to one worker and again to the next.
    let sending = tokio::spawn({
        let urls = urls.clone();
        async move {
            let mut answers = Vec::new();
            for i in 0..DELIVERIES {
                let body = delivery(i);
                let first = deliver(&urls, i, &body).await;
                let again = deliver(&urls, i + 1, &body).await;
                answers.push((first, again));
            }
            answers
        }
    });

    // SIGKILL the worker writing the update, once 300 customers are written; restart it.
    wait_for("300 writes", Duration::from_secs(120), async || {
        updates(&sim).len() >= 300
    })
    .await;
    let holder = db.holder(mover).expect("a worker holds the update");
    let killed = workers.iter().position(|w| w.pid() == holder).unwrap();
    let old = workers.remove(killed);
    let proxy = old.proxy;
    drop(old.serve); // SIGKILL, then reap
    let at_kill = updates(&sim).len();
    assert!(at_kill < MOVED, "killed mid-writes");
    let serve = start_worker(&dir, &store, &proxy);
    urls.lock().unwrap()[killed] = serve.url.clone();
    workers.insert(killed, Worker { serve, proxy });

    // Every delivery answered, and every run they queued ended well.
    let answers = sending.await.unwrap();
    wait_for(
        "the onboarding runs",
        Duration::from_secs(180),
        async || db.count("workflow = 'onboard' AND status = 'succeeded'") == DELIVERIES,
    )
    .await;

    // SIGSTOP the worker writing the update now, for three lease periods, then resume it.
    let before = updates(&sim).len();
    wait_for(
        "the update to be taken over",
        Duration::from_secs(60),
        async || updates(&sim).len() > before + 100 && db.holder(mover).is_some(),
    )
    .await;
    let holder = db.holder(mover).expect("a worker holds the update");
    let frozen = workers.iter().position(|w| w.pid() == holder).unwrap();
    workers[frozen].signal("-STOP");
    let at_freeze = updates(&sim).len();
    tokio::time::sleep(LEASE * 3).await;
    let resumed = Instant::now();
    workers[frozen].signal("-CONT");
    assert!(at_freeze < MOVED, "frozen mid-writes ({at_freeze} written)");

    wait_for(
        "the update to finish",
        Duration::from_secs(300),
        async || db.count(&format!("id = {mover} AND status = 'succeeded'")) == 1,
    )
    .await;
    wait_for(
        "the frozen worker to notice",
        Duration::from_secs(30),
        async || workers[frozen].serve.logged("lease lost"),
    )
    .await;
    done.store(true, Ordering::SeqCst);
    approver.await.unwrap();
    // Ticks keep coming: let the last few end before looking at every run.
    tokio::time::sleep(Duration::from_secs(2)).await;

    // The frozen worker sent nothing after it resumed.
    let late = workers[frozen].proxy.writes_after(resumed);
    assert!(
        late.is_empty(),
        "the frozen worker wrote after resuming: {late:?}"
    );

    // Each write exactly once, as the sim's own log shows.
    let writes: Vec<Value> = reqwest::get(format!("{}/__sim/writes", sim.url()))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let mut per: BTreeMap<(String, u64), usize> = BTreeMap::new();
    for w in &writes {
        let key = (
            format!(
                "{} {}",
                w["op"].as_str().unwrap(),
                w["entity"].as_str().unwrap()
            ),
            w["id"].as_u64().unwrap(),
        );
        *per.entry(key).or_default() += 1;
    }
    let twice: Vec<_> = per.iter().filter(|(_, n)| **n != 1).collect();
    assert!(twice.is_empty(), "written more than once: {twice:?}");
    let kinds = |op: &str| per.keys().filter(|(k, _)| k == op).count();
    assert_eq!(kinds("update customer"), MOVED, "every customer moved");
    assert_eq!(
        kinds("create customer"),
        DELIVERIES,
        "every delivery's customer made"
    );
    assert_eq!(per.len(), MOVED + DELIVERIES, "and nothing else");
    let emails: BTreeSet<String> = sim
        .sim
        .read()
        .all_customers()
        .filter(|c| c.email.starts_with("new"))
        .map(|c| c.email.clone())
        .collect();
    assert_eq!(emails.len(), DELIVERIES);

    // Every redelivery was a duplicate of the run its first delivery queued.
    for ((_, run), (again, same)) in &answers {
        assert_eq!(again, "duplicate");
        assert_eq!(run, same);
    }
    let runs: BTreeSet<u64> = answers.iter().map(|((_, run), _)| *run).collect();
    assert_eq!(runs.len(), DELIVERIES, "one run a delivery");

    // Every run succeeded (but ticks younger than the last seconds), and no tick fired twice.
    let unfinished = db.sql(
        "SELECT id, workflow, status FROM {schema}.runs WHERE status <> 'succeeded' \
         AND NOT (workflow = 'tick' AND created_at > extract(epoch from now()) - 10)",
    );
    assert!(
        unfinished.is_empty(),
        "runs that did not succeed: {unfinished}"
    );
    let ticks = db.sql(
        "SELECT count(*) || ' ' || count(DISTINCT record::json -> 'trigger' ->> 'at') \
         FROM {schema}.runs WHERE workflow = 'tick'",
    );
    let (all, distinct) = ticks.split_once(' ').unwrap();
    assert_eq!(all, distinct, "a tick fired twice");
    assert!(all.parse::<usize>().unwrap() > 20, "ticks fired: {all}");
    let mover_run = serve_support::get(format!("{}/api/runs/{mover}", workers[0].serve.url)).await;
    assert!(mover_run["attempts"].as_u64().unwrap() >= 4, "{mover_run}");
    eprintln!(
        "{} runs; the update was killed at {at_kill} and frozen at {at_freeze} writes, in {} attempts",
        db.count("true"),
        mover_run["attempts"]
    );
}
