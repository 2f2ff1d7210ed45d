//! Several workers on one store (issue 16), printed in one run: webhook intake (deliveries
//! durably queued per second, and the p99 of their answers) and runs per second, each run one
//! Magento write, for
//! - sled: one `mageflow serve`;
//! - PostgreSQL with 1, 2 and 4 `mageflow serve` workers on one database.
//!
//! Each delivery is a Commerce `customer_register_success` for a new customer; its run (the
//! onboard-customer plugin) looks the email up, reads the groups and creates the customer:
//! two reads and one write. The deliveries go round-robin to the workers from 32 clients; a
//! run may execute on any worker. Runs/s is the deliveries over the time from the first
//! delivery until every run has ended (read from the workers' `/metrics`). Everything shares
//! this machine's 2 cores: the senders, magento-sim, PostgreSQL and every worker; so more
//! workers cannot show scaling here, only what sharing one database costs. Aims: 4 workers
//! give at least 0.9 of 1 worker's runs/s, and PostgreSQL runs at least 450 runs/s.
//!
//! Run: `cargo bench -p mageflow-cli --bench workers` (installs nothing: PostgreSQL must be
//! installed, as `bash .ci/run` does; `-- quick` sends fewer deliveries, and `-- pg1` (or
//! `sled`, `pg2`, `pg4`) measures one configuration alone).

#[path = "support/deliveries.rs"]
mod deliveries;
#[path = "../../../tests/support/postgres.rs"]
mod postgres;
#[path = "../tests/support/serve.rs"]
mod serve_support;

use std::path::Path;
use std::time::{Duration, Instant};

use serve_support::{Launch, Serve, scratch};

const CLIENTS: usize = 32;
const SECRET: &str = "bench-secret-0123456789";

/// The onboarding workflow every worker loads.
fn workflows(dir: &Path) -> anyhow::Result<()> {
    let wf = dir.join("workflows");
    std::fs::create_dir_all(&wf)?;
    std::fs::write(
        wf.join("onboard.toml"),
        format!(
            "plugin = {:?}\ngrants = [\"customers:read\", \"customers:write\", \"approvals\"]\n\
             [trigger]\nkind = \"webhook\"\nevents = [\"observer.customer_register_success\"]\n\
             signature = \"hmac\"\nsecret-env = \"HOOK_SECRET\"\n",
            mageflow_test_artifacts::ONBOARD_CUSTOMER
        ),
    )?;
    Ok(())
}

/// One configuration's figures.
struct Figures {
    intake_per_sec: f64,
    p99: Duration,
    runs_per_sec: f64,
}

/// Runs ended well, summed over the workers' `/metrics`.
async fn succeeded(http: &reqwest::Client, workers: &[Serve]) -> anyhow::Result<u64> {
    let mut total = 0;
    for w in workers {
        let text = http
            .get(format!("{}/metrics", w.url))
            .send()
            .await?
            .text()
            .await?;
        total += text
            .lines()
            .filter(|l| {
                l.starts_with("mageflow_runs_total")
                    && l.contains("workflow=\"onboard\"")
                    && l.contains("status=\"succeeded\"")
            })
            .filter_map(|l| l.rsplit(' ').next()?.parse::<u64>().ok())
            .sum::<u64>();
    }
    Ok(total)
}

/// `count` new customers delivered to `workers` (round-robin) from CLIENTS senders.
async fn measure(workers: &[Serve], count: usize, tag: &str) -> anyhow::Result<Figures> {
    let http = reqwest::Client::new();
    let signed = deliveries::signed(
        count,
        CLIENTS,
        SECRET,
        |i| {
            serde_json::json!({
                "eventName": "observer.customer_register_success",
                "data": {"customer": {
                    "email": format!("{tag}-{i}@example.com"),
                    "firstname": "New",
                    "lastname": "Customer",
                    "group": "Retailer",
                }},
            })
            .to_string()
        },
        |i| format!("{}/hooks/onboard", workers[i % workers.len()].url),
    );
    let started = Instant::now();
    let (latencies, intake) = deliveries::send(&http, signed).await?;
    let p99 = latencies[latencies.len() * 99 / 100];
    loop {
        if succeeded(&http, workers).await? >= count as u64 {
            break;
        }
        anyhow::ensure!(
            started.elapsed() < Duration::from_secs(600),
            "runs still unfinished after 10 minutes"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let ended = started.elapsed();
    Ok(Figures {
        intake_per_sec: count as f64 / intake.as_secs_f64(),
        p99,
        runs_per_sec: count as f64 / ended.as_secs_f64(),
    })
}

/// Starts `n` workers (`store`: PostgreSQL, or sled in the directory) against a fresh sim,
/// measures, and stops them.
async fn configuration(
    name: &str,
    n: usize,
    store: Option<&str>,
    deliveries: usize,
) -> anyhow::Result<Figures> {
    let sim = magento_sim::start(
        magento_sim::SimConfig {
            seed_customers: 10,
            ..Default::default()
        },
        "127.0.0.1:0",
    )
    .await?;
    let dir = scratch(&format!("bench-{name}"));
    workflows(&dir)?;
    let magento = sim.url();
    let mut workers = Vec::new();
    for _ in 0..n {
        workers.push(
            Launch {
                store,
                env: &[
                    ("HOOK_SECRET", SECRET),
                    ("MAGEFLOW_METRICS", "open"),
                    ("MAGEFLOW_LOG", "warn"),
                ],
                keep_log: true,
                ..Launch::new(&dir, &magento)
            }
            .start()
            .map_err(|e| anyhow::anyhow!("a worker did not start: {e}"))?,
        );
    }
    // Warm every worker (compiled plugin, Magento login) outside the timings.
    measure(&workers, 16 * n, &format!("{name}-warm")).await?;
    let figures = measure(&workers, deliveries, name).await;
    drop(workers);
    let _ = std::fs::remove_dir_all(&dir);
    figures
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect();
    let quick = args.iter().any(|a| a == "quick");
    // `-- pg1` (or sled, pg2, pg4) measures that configuration alone.
    let only: Vec<&String> = args.iter().filter(|a| *a != "quick").collect();
    let wanted = |name: &str| only.is_empty() || only.iter().any(|o| *o == name);
    let deliveries = if quick { 1_000 } else { 4_000 };
    println!(
        "mageflow workers (release; {deliveries} webhook deliveries from {CLIENTS} clients, \
         each run 2 reads and 1 write to magento-sim; all on this machine's {} cores)",
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    let pg = postgres::server();
    let mut rows = Vec::new();
    if wanted("sled") {
        rows.push((
            "sled".to_owned(),
            1,
            configuration("sled", 1, None, deliveries).await?,
        ));
    }
    for n in [1, 2, 4] {
        let name = format!("pg{n}");
        if !wanted(&name) {
            continue;
        }
        let url = pg.fresh();
        rows.push((
            "postgres".to_owned(),
            n,
            configuration(&name, n, Some(&url), deliveries).await?,
        ));
    }
    println!(
        "  {:<10} {:>7} {:>12} {:>10} {:>10}",
        "store", "workers", "intake/s", "p99 ms", "runs/s"
    );
    for (store, n, f) in &rows {
        println!(
            "  {store:<10} {n:>7} {:>12.0} {:>10.1} {:>10.0}",
            f.intake_per_sec,
            f.p99.as_secs_f64() * 1e3,
            f.runs_per_sec
        );
    }
    let pg = |n: usize| {
        rows.iter()
            .find(|r| r.0 == "postgres" && r.1 == n)
            .map(|r| &r.2)
    };
    let (Some(one), Some(four)) = (pg(1), pg(4)) else {
        return Ok(());
    };
    let ratio = four.runs_per_sec / one.runs_per_sec;
    println!(
        "  4 PostgreSQL workers give {ratio:.2}x the runs/s of 1 (aim >= 0.90: {})",
        if ratio >= 0.9 { "meets" } else { "MISSES" }
    );
    let best = rows
        .iter()
        .filter(|r| r.0 == "postgres")
        .map(|r| r.2.runs_per_sec)
        .fold(0.0, f64::max);
    println!(
        "  PostgreSQL: {:.0} runs/s with 1 worker, {best:.0} at best, one write each (aim >= 450: {})",
        one.runs_per_sec,
        if one.runs_per_sec >= 450.0 {
            "meets"
        } else {
            "MISSES"
        }
    );
    Ok(())
}
