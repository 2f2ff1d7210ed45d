//! magento-sim: a faithful, fast HTTP simulator of the Magento 2.4 REST API.
//!
//! No real Magento runs on our machines, so every mageflow test, benchmark and demo meets
//! Magento here. Answers match real Magento 2.4.x byte for byte where `shared/magento/FACTS.md`
//! quotes them; the installation-specific switches (input limits, 2FA, token format, PUT
//! semantics, the bulk consumer, the admin-user extension) are in [`SimConfig`].
//!
//! ```no_run
//! # async fn demo() -> anyhow::Result<()> {
//! let config = magento_sim::SimConfig { seed_customers: 1000, ..Default::default() };
//! let server = magento_sim::start(config, "127.0.0.1:0").await?;
//! let url = format!("{}/V1/integration/admin/token", server.rest_url());
//! let token: String = reqwest::Client::new()
//!     .post(url)
//!     .json(&serde_json::json!({"username": "admin", "password": "Admin123!"}))
//!     .send()
//!     .await?
//!     .json()
//!     .await?;
//! # Ok(()) }
//! ```

#![forbid(unsafe_code)]
#![expect(
    clippy::result_large_err,
    reason = "MagentoError carries the template, parameters and inner errors Magento renders; error paths are not hot"
)]

pub mod address;
pub mod admin_users;
pub mod auth;
pub mod bulk;
pub mod config;
pub mod control;
pub mod criteria;
pub mod customers;
pub mod error;
pub mod faults;
pub mod filter;
pub mod http;
pub mod input;
pub mod model;
pub mod oauth;
pub mod routes;
pub mod seed;
pub mod state;
pub mod time;
pub mod webhooks;

use std::net::SocketAddr;
use std::sync::{Arc, OnceLock, RwLock, RwLockReadGuard, RwLockWriteGuard};
use std::time::Duration;

use anyhow::Context as _;
use axum::Router;
use tokio::sync::Notify;
use tokio::task::JoinHandle;

pub use config::SimConfig;
pub use error::MagentoError;
pub use model::Integration;

use crate::state::State;
use crate::time::Clock;
use crate::webhooks::KeyPair;

/// One simulated Magento installation.
#[derive(Debug)]
pub struct Sim {
    /// How it behaves.
    pub config: SimConfig,
    /// Its clock (movable by tests).
    pub clock: Clock,
    state: RwLock<State>,
    webhook_key: OnceLock<KeyPair>,
    http: reqwest::Client,
    consumer_wake: Notify,
}

impl Sim {
    /// Builds the installation: admin, roles, groups, integrations and seeded customers.
    pub fn new(config: SimConfig) -> Arc<Sim> {
        let clock = Clock::default();
        let state = State::new(&config, clock.now());
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .build()
            .expect("a plain HTTP client always builds");
        Arc::new(Sim {
            config,
            clock,
            state: RwLock::new(state),
            webhook_key: OnceLock::new(),
            http,
            consumer_wake: Notify::new(),
        })
    }

    /// Reads the state (a poisoned lock is still readable: no handler leaves it half-written
    /// across a panic point that matters for a simulator).
    pub fn read(&self) -> RwLockReadGuard<'_, State> {
        self.state.read().unwrap_or_else(|e| e.into_inner())
    }

    /// Writes the state.
    pub fn write(&self) -> RwLockWriteGuard<'_, State> {
        self.state.write().unwrap_or_else(|e| e.into_inner())
    }

    /// The webhook signing key pair, generated on first use.
    pub fn webhook_key(&self) -> &KeyPair {
        self.webhook_key.get_or_init(KeyPair::generate)
    }

    /// The integrations with their OAuth credentials.
    pub fn integrations(&self) -> Vec<Integration> {
        self.read().integrations.clone()
    }

    /// Back to the state at start (same integration credentials, clock on the wall).
    pub fn reset(&self) {
        self.clock.reset();
        let mut fresh = State::new(&self.config, self.clock.now());
        let mut state = self.write();
        fresh.integrations = std::mem::take(&mut state.integrations);
        *state = fresh;
    }

    async fn run_consumer(self: Arc<Self>) {
        loop {
            tokio::select! {
                _ = self.consumer_wake.notified() => {}
                _ = tokio::time::sleep(Duration::from_millis(50)) => {}
            }
            // A short pause lets a burst of submissions land before the consumer runs, as a
            // queue consumer would batch them.
            tokio::time::sleep(Duration::from_millis(5)).await;
            let events = {
                let mut state = self.write();
                if !state.consumer_running || state.open_ops.is_empty() {
                    continue;
                }
                bulk::consume(&mut state, self.clock.now())
            };
            webhooks::deliver(&self, events).await;
        }
    }
}

/// The whole HTTP surface: `/__sim/` controls plus the Magento fallback.
pub fn router(sim: Arc<Sim>) -> Router {
    control::routes().fallback(http::magento).with_state(sim)
}

/// A running simulator; dropping it stops the server.
#[derive(Debug)]
pub struct Server {
    /// The bound address.
    pub addr: SocketAddr,
    /// The installation behind it.
    pub sim: Arc<Sim>,
    tasks: Vec<JoinHandle<()>>,
}

impl Server {
    /// `http://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// `http://127.0.0.1:<port>/rest`, the base every Magento path hangs off.
    pub fn rest_url(&self) -> String {
        format!("http://{}/rest", self.addr)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        for t in &self.tasks {
            t.abort();
        }
    }
}

/// Builds an installation from `config` and serves it on `listen` (e.g. `127.0.0.1:0`).
pub async fn start(config: SimConfig, listen: &str) -> anyhow::Result<Server> {
    let sim = Sim::new(config);
    serve(sim, listen).await
}

/// Serves an existing installation.
pub async fn serve(sim: Arc<Sim>, listen: &str) -> anyhow::Result<Server> {
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .with_context(|| format!("cannot listen on {listen}"))?;
    let addr = listener
        .local_addr()
        .context("bound socket has no address")?;
    let app = router(sim.clone());
    let server = tokio::spawn(async move {
        if let Err(e) = axum::serve(listener, app).await {
            tracing::error!(error = %e, "magento-sim server stopped");
        }
    });
    let consumer = tokio::spawn(sim.clone().run_consumer());
    Ok(Server {
        addr,
        sim,
        tasks: vec![server, consumer],
    })
}
