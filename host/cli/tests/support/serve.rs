//! `mageflow serve` as a child process for the CLI's tests: started against a Magento (the
//! sim, or a proxy in front of it), with the approver tokens below, its log lines kept, and
//! killed with SIGKILL when dropped; and the API calls the tests make of it.

#![allow(
    dead_code,
    reason = "shared by several test binaries, each of which uses a part"
)]

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use magento_sim::Server;
use serde_json::{Value, json};

pub(crate) const ALICE: &str = "alice-token-0123456789";
pub(crate) const BOB: &str = "bob-token-0123456789abc";
pub(crate) const ROOT: &str = "root-token-0123456789ab";

/// An empty directory of its own for one test.
pub(crate) fn scratch(name: &str) -> PathBuf {
    let d =
        Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("serve-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// A running `mageflow serve`, SIGKILLed when dropped.
pub(crate) struct Serve {
    pub(crate) child: Child,
    pub(crate) url: String,
    /// What it logged on stderr so far (when it was started with its log kept).
    pub(crate) log: Arc<Mutex<Vec<String>>>,
}

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Serve {
    /// Whether a line it logged contains `text`.
    pub(crate) fn logged(&self, text: &str) -> bool {
        self.log.lock().unwrap().iter().any(|l| l.contains(text))
    }
}

/// How to start one.
pub(crate) struct Launch<'a> {
    /// Holds `workflows/` and the data directory.
    pub(crate) dir: &'a Path,
    /// Magento's base URL.
    pub(crate) magento: &'a str,
    /// A PostgreSQL store's URL (sled in the directory otherwise).
    pub(crate) store: Option<&'a str>,
    /// More arguments to `serve`.
    pub(crate) args: &'a [&'a str],
    /// More environment.
    pub(crate) env: &'a [(&'a str, &'a str)],
    /// Keep its stderr (and echo it); otherwise it is inherited.
    pub(crate) keep_log: bool,
}

impl<'a> Launch<'a> {
    /// `serve` on `dir` against `magento`, on sled, its stderr inherited.
    pub(crate) fn new(dir: &'a Path, magento: &'a str) -> Launch<'a> {
        Launch {
            dir,
            magento,
            store: None,
            args: &[],
            env: &[],
            keep_log: false,
        }
    }

    /// Starts it and waits for its `listening on` line; the error is what it printed on
    /// stderr when it exited before listening (with its log kept).
    pub(crate) fn start(&self) -> Result<Serve, String> {
        let mut command = Command::new(env!("CARGO_BIN_EXE_mageflow"));
        command
            .env_clear()
            .env("MAGEFLOW_MAGENTO_URL", self.magento)
            .env("MAGEFLOW_ADMIN_USER", "admin")
            .env("MAGEFLOW_ADMIN_PASSWORD", "Admin123!")
            .env(
                "MAGEFLOW_APPROVER_TOKENS",
                format!("alice={ALICE},bob={BOB},root:admin={ROOT}"),
            )
            .env(
                "MAGEFLOW_CACHE_DIR",
                Path::new(env!("CARGO_TARGET_TMPDIR")).join("serve-compile-cache"),
            )
            .envs(self.env.iter().copied())
            .args(["serve", "--listen", "127.0.0.1:0", "--workflows"])
            .arg(self.dir.join("workflows"))
            .arg("--data-dir")
            .arg(self.dir.join("data"))
            .args(self.store.map(|url| ["--store", url]).into_iter().flatten())
            .args(self.args)
            .stdout(Stdio::piped())
            .stderr(if self.keep_log {
                Stdio::piped()
            } else {
                Stdio::inherit()
            });
        let mut child = command.spawn().expect("mageflow serve starts");
        let stdout = child.stdout.take().unwrap();
        let mut lines = BufReader::new(stdout).lines();
        let url = loop {
            match lines.next() {
                Some(line) => {
                    if let Some(url) = line.unwrap().strip_prefix("listening on ") {
                        break url.to_owned();
                    }
                }
                None => {
                    let mut err = String::new();
                    if let Some(mut e) = child.stderr.take() {
                        std::io::Read::read_to_string(&mut e, &mut err).unwrap();
                    }
                    let _ = child.wait();
                    return Err(err);
                }
            }
        };
        // Keep reading stdout (and stderr) so the child never blocks on a full pipe.
        std::thread::spawn(move || for _ in lines {});
        let log = Arc::new(Mutex::new(Vec::new()));
        if let Some(e) = child.stderr.take() {
            let (kept, pid) = (log.clone(), child.id());
            std::thread::spawn(move || {
                for line in BufReader::new(e).lines().map_while(Result::ok) {
                    eprintln!("[serve {pid}] {line}");
                    kept.lock().unwrap().push(line);
                }
            });
        }
        Ok(Serve { child, url, log })
    }
}

/// Calls the API, asserting success; the answer's JSON.
pub(crate) async fn call(
    method: reqwest::Method,
    url: String,
    token: Option<&str>,
    body: Value,
) -> Value {
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

/// Reads `url` as alice, who may view every run.
pub(crate) async fn get(url: String) -> Value {
    call(reqwest::Method::GET, url, Some(ALICE), Value::Null).await
}

/// Waits for `check`, failing the test after `limit`.
pub(crate) async fn wait_for(what: &str, limit: Duration, mut check: impl AsyncFnMut() -> bool) {
    let start = Instant::now();
    while !check().await {
        assert!(start.elapsed() < limit, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A run's status, as `serve` answers it.
pub(crate) async fn run_status(serve: &Serve, id: u64) -> String {
    get(format!("{}/api/runs/{id}", serve.url)).await["status"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// Approves as bob.
pub(crate) async fn approve(serve: &Serve, approval: u64) {
    let a = call(
        reqwest::Method::POST,
        format!("{}/api/approvals/{approval}/approve", serve.url),
        Some(BOB),
        json!({"comment": "go"}),
    )
    .await;
    assert_eq!(a["status"], "approved");
}

/// How many times the sim updated each customer.
pub(crate) fn updates(server: &Server) -> BTreeMap<u64, usize> {
    let mut per = BTreeMap::new();
    for w in &server.sim.read().writes {
        if w.entity == "customer" && w.op == "update" {
            *per.entry(w.id).or_default() += 1;
        }
    }
    per
}

/// How many times the sim created each customer, by email.
pub(crate) fn creates(server: &Server) -> BTreeMap<String, usize> {
    let state = server.sim.read();
    let mut per = BTreeMap::new();
    for w in &state.writes {
        if w.entity == "customer" && w.op == "create" {
            let email = state
                .all_customers()
                .find(|c| c.id == w.id)
                .map_or_else(|| format!("#{}", w.id), |c| c.email.clone());
            *per.entry(email).or_default() += 1;
        }
    }
    per
}
