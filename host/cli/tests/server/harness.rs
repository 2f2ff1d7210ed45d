//! What the server's tests share: a Magento client on magento-sim, an engine on a temporary
//! store, waiting for a run's approval, and a snapshot of everything a refused request must
//! leave as it was.

#![allow(
    dead_code,
    unreachable_pub,
    reason = "shared by several test crates, each of which uses a part"
)]

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use mageflow_engine::Engine;
use mageflow_magento::{Auth, Connection, MagentoClient};
use mageflow_runtime::Runtime;
use mageflow_store::Status;
use magento_sim::Server;

/// A client of `sim` as its admin.
pub fn magento(sim: &Server) -> Arc<MagentoClient> {
    Arc::new(
        MagentoClient::new(Connection::new(
            sim.url(),
            Auth::Admin {
                username: "admin".into(),
                password: "Admin123!".into(),
            },
        ))
        .unwrap(),
    )
}

/// An engine on a temporary store, compiling into the target's `cache` directory.
pub fn engine(cache: &str) -> Arc<Engine> {
    let cache = Path::new(env!("CARGO_TARGET_TMPDIR")).join(cache);
    Arc::new(Engine::new(
        mageflow_store::Store::temporary().unwrap(),
        Arc::new(Runtime::with_disk_cache(&cache).unwrap()),
    ))
}

/// Waits until `run` waits for its first approval: that approval's id.
pub async fn awaiting_approval(engine: &Engine, run: u64) -> u64 {
    let start = Instant::now();
    loop {
        let r = engine.store().run(run).unwrap();
        if r.status == Status::AwaitingApproval
            && let Some(a) = engine.store().approval_for(run, 0).unwrap()
        {
            return a.id;
        }
        assert!(!r.status.is_final(), "{r:?}");
        assert!(start.elapsed() < Duration::from_secs(120), "{r:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Waits until `run` has ended: its status.
pub async fn ended(engine: &Engine, run: u64) -> Status {
    let start = Instant::now();
    loop {
        let status = engine.store().run(run).unwrap().status;
        if status.is_final() {
            return status;
        }
        assert!(start.elapsed() < Duration::from_secs(60), "{status:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// What a refused request must not change: runs, decisions, Magento writes, tokens.
#[derive(Debug, PartialEq)]
pub struct Snapshot {
    runs: Vec<(u64, Status)>,
    decisions: Vec<(u64, usize)>,
    writes: usize,
    tokens: usize,
}

impl Snapshot {
    pub fn of(engine: &Engine, sim: &Server) -> Snapshot {
        let store = engine.store();
        Snapshot {
            runs: store
                .runs(None)
                .unwrap()
                .iter()
                .map(|r| (r.id, r.status))
                .collect(),
            decisions: store
                .approvals(None)
                .unwrap()
                .iter()
                .map(|a| (a.id, a.decisions.len()))
                .collect(),
            writes: sim.sim.read().writes.len(),
            tokens: store.tokens().unwrap().len(),
        }
    }
}

/// The CSRF token in a page's form.
pub fn csrf_of(page: &str) -> String {
    let marker = "name=\"csrf\" value=\"";
    let at = page.find(marker).expect("a form with a CSRF token") + marker.len();
    page[at..].split('"').next().unwrap().to_owned()
}
