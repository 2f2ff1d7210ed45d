//! SCIM provisioning through `mageflow serve`, against the same creates sent by the Magento
//! client directly, printed in one run:
//! - direct: 1,000 admin users created with `MagentoClient::create_admin_user` (the client's
//!   exactly-once write path) and each read back, one after another, against magento-sim on
//!   loopback;
//! - SCIM: 1,000 users provisioned through `/scim/v2/admin` as an identity provider does it,
//!   each a `POST /Users` followed by a `GET /Users/{id}`, one after another. Each create is a
//!   durable run of the scim-admin plugin on a store on disk (fsync'd), with its journal.
//!
//! It prints requests per second and the p50 and p99 of each, and the cost of one SCIM user
//! (create and GET) against the same create and GET sent by the client directly (aim: under
//! 2x), and against the direct create alone.
//!
//! Run: `cargo bench -p mageflow-cli --bench scim`.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use mageflow_engine::{Engine, Workflow};
use mageflow_magento::{Auth, Connection, MagentoClient, NewAdminUser};
use mageflow_runtime::Runtime;
use mageflow_server::scim::config::{RootConfig, ScimConfig, Target};
use mageflow_server::{AccessConfig, EnvTokens};
use mageflow_store::Store;
use magento_sim::SimConfig;
use serde_json::{Value, json};

/// The `mageflow` binary's allocator, so the figures are the shipped server's.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const USERS: usize = 1_000;
const TOKEN: &str = "bench-scim-token-0123456789";

fn client(url: String) -> anyhow::Result<Arc<MagentoClient>> {
    Ok(Arc::new(MagentoClient::new(Connection::new(
        url,
        Auth::Admin {
            username: "admin".into(),
            password: "Admin123!".into(),
        },
    ))?))
}

fn quantile(sorted: &[Duration], q: f64) -> Duration {
    sorted[((sorted.len() as f64 - 1.0) * q).round() as usize]
}

fn line(what: &str, requests: usize, total: Duration, mut each: Vec<Duration>) -> Duration {
    each.sort();
    println!(
        "  {what:<44} {:>7.0} req/s   p50 {:>7.2} ms   p99 {:>7.2} ms",
        requests as f64 / total.as_secs_f64(),
        quantile(&each, 0.5).as_secs_f64() * 1e3,
        quantile(&each, 0.99).as_secs_f64() * 1e3,
    );
    total / (each.len() as u32)
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    println!(
        "SCIM provisioning, {USERS} users (release, 2 cores, magento-sim and the server in this process)"
    );

    // 1. Direct: the client's creates.
    let sim = magento_sim::start(SimConfig::default(), "127.0.0.1:0").await?;
    let direct = client(sim.url())?;
    direct.roles().await?; // log in outside the timings
    let (mut each, mut direct_gets, mut direct_pairs) = (Vec::new(), Vec::new(), Vec::new());
    let started = Instant::now();
    for i in 0..USERS {
        let t = Instant::now();
        let made = direct
            .create_admin_user(&NewAdminUser {
                username: format!("direct{i}"),
                firstname: "Direct".into(),
                lastname: format!("User{i}"),
                email: format!("direct{i}@example.com"),
                password: "Bench12345".into(),
                role_id: 2,
                is_active: true,
            })
            .await?;
        each.push(t.elapsed());
        let g = Instant::now();
        direct.admin_user(made.id).await?;
        direct_gets.push(g.elapsed());
        direct_pairs.push(t.elapsed());
    }
    let direct_total = started.elapsed();
    let direct_create = line("direct: create_admin_user", USERS, each.iter().sum(), each);
    line(
        "direct: admin_user (GET)",
        USERS,
        direct_gets.iter().sum(),
        direct_gets,
    );
    let direct_pair = line(
        "direct: a user (create, then GET)",
        2 * USERS,
        direct_total,
        direct_pairs,
    );

    // 2. SCIM: a fresh sim, and `mageflow serve` with the admin root on a store on disk.
    let sim = magento_sim::start(SimConfig::default(), "127.0.0.1:0").await?;
    let dir = std::env::temp_dir().join(format!("mageflow-bench-scim-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let engine = Arc::new(Engine::new(Store::open(&dir)?, Arc::new(Runtime::new()?)));
    let text = format!(
        "name = \"scim-admin\"\nplugin = {:?}\ngrants = [\"admin-users:read\", \"admin-users:write\", \"approvals\"]\n",
        mageflow_test_artifacts::SCIM_ADMIN
    );
    engine.add(
        Workflow::parse(Path::new("scim-admin.toml"), &text)?,
        client(sim.url())?,
    )?;
    let mut root = RootConfig::new(Target::Admin, "scim-admin");
    root.approve = Vec::new();
    root.default_target = 2;
    let access = AccessConfig {
        env_tokens: EnvTokens::parse(&format!("idp:scim={TOKEN}")).map_err(anyhow::Error::msg)?,
        scim: ScimConfig { roots: vec![root] },
        ..AccessConfig::default()
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let base = format!("http://{}/scim/v2/admin", listener.local_addr()?);
    let serving = engine.clone();
    tokio::spawn(async move { mageflow_server::serve(serving, access, listener, |_| None).await });
    let http = reqwest::Client::new();
    // One user outside the timings: the plugin compiles and the client logs in.
    let warm = |i: usize| {
        json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
            "userName": format!("scim{i}@example.com"),
            "name": {"givenName": "Scim", "familyName": format!("User{i}")},
            "emails": [{"value": format!("scim{i}@example.com"), "type": "work", "primary": true}],
            "externalId": format!("00u{i}"), "active": true,
        })
    };
    http.post(format!("{base}/Users"))
        .bearer_auth(TOKEN)
        .json(&warm(USERS))
        .send()
        .await?
        .error_for_status()?;
    let (mut creates, mut gets, mut pairs) = (Vec::new(), Vec::new(), Vec::new());
    let started = Instant::now();
    for i in 0..USERS {
        let t = Instant::now();
        let created: Value = http
            .post(format!("{base}/Users"))
            .bearer_auth(TOKEN)
            .json(&warm(i))
            .send()
            .await?
            .error_for_status()?
            .json()
            .await?;
        let c = t.elapsed();
        let id = created["id"]
            .as_str()
            .ok_or_else(|| anyhow::anyhow!("no id: {created}"))?;
        let g = Instant::now();
        http.get(format!("{base}/Users/{id}"))
            .bearer_auth(TOKEN)
            .send()
            .await?
            .error_for_status()?;
        gets.push(g.elapsed());
        creates.push(c);
        pairs.push(t.elapsed());
    }
    let total = started.elapsed();
    line("SCIM: POST /Users", USERS, creates.iter().sum(), creates);
    line("SCIM: GET /Users/{id}", USERS, gets.iter().sum(), gets);
    let scim_each = line("SCIM: a user (POST, then GET)", 2 * USERS, total, pairs);
    let landed = sim.sim.read().admin_users.len();
    let writes = sim.sim.read().writes.len();
    println!("  Magento admin users after the SCIM run: {landed} (writes logged: {writes})");
    let same = scim_each.as_secs_f64() / direct_pair.as_secs_f64();
    let creates = scim_each.as_secs_f64() / direct_create.as_secs_f64();
    println!(
        "  one SCIM user (POST, GET) costs {same:.2}x the same two requests sent by the client directly (aim: under 2x): {}",
        if same < 2.0 { "met" } else { "not met" }
    );
    println!(
        "  and {creates:.2}x one direct create alone (the direct path keeps nothing durable; SCIM keeps a run, its journal and the record)"
    );
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}
