//! Runtime costs, printed in one run beside the same work done by plain Rust:
//! - instantiate-and-run of a trivial plugin (pooling allocator; aim: median <= 20 us);
//! - one host call: `runtime.now` (pure host-call overhead), and `customers.get` through the
//!   host against magento-sim on loopback, next to plain Rust calling the client directly
//!   (the difference is what the sandbox adds to a Magento call; aim: <= 2 us a call).
//!
//! Run: `cargo bench -p mageflow-runtime`.

use std::sync::Arc;
use std::time::{Duration, Instant};

use mageflow_magento::{Auth, Connection, MagentoClient};
use mageflow_runtime::{Grants, Limits, RunOptions, Runtime, Trigger};
use magento_sim::SimConfig;

const RUNS: usize = 2_000;
const CALLS: u32 = 2_000;

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let server = magento_sim::start(
        SimConfig {
            seed_customers: 10,
            ..Default::default()
        },
        "127.0.0.1:0",
    )
    .await?;
    let conn = Connection::new(
        server.url(),
        Auth::Admin {
            username: "admin".into(),
            password: "Admin123!".into(),
        },
    );
    let client = Arc::new(MagentoClient::new(conn)?);
    client.customer(1).await?; // log in outside the timings
    let opts = RunOptions {
        client: client.clone(),
        limits: Limits::default(),
        decision: None,
        config: Default::default(),
    };
    let runtime = Runtime::new()?;
    let load = |path: &str, grants: &str| -> anyhow::Result<mageflow_runtime::Plugin> {
        Ok(runtime.load(
            path,
            &std::fs::read(path)?,
            Grants::parse(grants).map_err(anyhow::Error::msg)?,
        )?)
    };

    // 1. A trivial run: instantiate from InstancePre, call run (one log line), drop the store.
    let trivial = load(mageflow_test_artifacts::ECHO, "customers:read")?;
    let empty = Trigger::Manual(String::new());
    let mut times = Vec::with_capacity(RUNS);
    for _ in 0..RUNS {
        let t = Instant::now();
        let report = trivial.run(&empty, &opts).await;
        times.push(t.elapsed());
        anyhow::ensure!(matches!(report.outcome, Ok(Ok(_))), "trivial run failed");
    }
    let run_median = median(times);

    // 2. Host calls from inside one run.
    let calls = load(mageflow_test_artifacts::HOST_CALLS, "customers:read")?;
    let timed = |input: String| {
        let calls = &calls;
        let opts = &opts;
        async move {
            let t = Instant::now();
            let report = calls.run(&Trigger::Manual(input), opts).await;
            anyhow::ensure!(matches!(report.outcome, Ok(Ok(_))), "host-calls run failed");
            anyhow::Ok(t.elapsed())
        }
    };
    let base = timed("now 0".into()).await?;
    let now_total = timed(format!("now {CALLS}")).await?.saturating_sub(base);
    let get_total = timed(format!("get 3 {CALLS}")).await?.saturating_sub(base);
    let t = Instant::now();
    for _ in 0..CALLS {
        client.customer(3).await?;
    }
    let plain_total = t.elapsed();
    let per = |d: Duration| d.as_secs_f64() * 1e6 / f64::from(CALLS);
    let overhead = per(get_total) - per(plain_total);

    println!("mageflow-runtime (release, pooling allocator, magento-sim on loopback, 2 cores)");
    println!(
        "  instantiate + run a trivial plugin: median {:>8.1} us   target <= 20 us   {}",
        run_median.as_secs_f64() * 1e6,
        if run_median <= Duration::from_micros(20) {
            "meets"
        } else {
            "MISSES"
        }
    );
    println!(
        "  runtime.now host call:                   {:>8.2} us a call",
        per(now_total)
    );
    println!(
        "  customers.get through the host:          {:>8.1} us a call   plain Rust client: {:>8.1} us   host adds {:>6.2} us   target <= 2 us   {}",
        per(get_total),
        per(plain_total),
        overhead,
        if overhead <= 2.0 { "meets" } else { "MISSES" }
    );
    Ok(())
}
