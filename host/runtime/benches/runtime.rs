//! Runtime costs, printed in one run beside the same work done by plain Rust:
//! - instantiate-and-run of a trivial plugin (pooling allocator; aim: median <= 20 us);
//! - one host call: `runtime.now` (the bare boundary crossing); `customers.get` answered from
//!   memory by a gateway, beside plain Rust asking that gateway for the same answer (the
//!   difference is what the sandbox adds to a call; aim: <= 2 us); and `customers.get` against
//!   magento-sim over loopback HTTP beside plain Rust calling the client (HTTP dominates).
//!
//! Run: `cargo bench -p mageflow-runtime`.

use std::sync::Arc;
use std::time::{Duration, Instant};

use mageflow_magento::{Auth, Connection, Customer, MagentoClient};
use mageflow_runtime::{Call, Gateway, Grants, Pending, Reply, RunOptions, Runtime, Trigger};
use magento_sim::SimConfig;

const RUNS: usize = 5_000;
const HTTP_CALLS: u32 = 1_000;
const MEM_CALLS: u32 = 20_000;
const ROUNDS: usize = 7;

/// Answers `customers.get` from memory: what a replayed call or a cached answer costs.
#[derive(Debug)]
struct Memory(Customer);

impl Gateway for Memory {
    fn call(&self, call: Call) -> Pending<'_> {
        Box::pin(async move {
            match call {
                Call::GetCustomer(_) => Ok(Reply::Customer(Box::new(self.0.clone()))),
                other => Err(mageflow_runtime::Failure::Invalid {
                    field: "call".into(),
                    message: format!("{} is not in memory", other.name()),
                }),
            }
        })
    }
}

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
    let opts = RunOptions::new(client.clone());
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
    for _ in 0..RUNS / 4 {
        trivial.run(&empty, &opts).await; // warm the pool's slots
    }
    let mut times = Vec::with_capacity(RUNS);
    for _ in 0..RUNS {
        let t = Instant::now();
        let report = trivial.run(&empty, &opts).await;
        times.push(t.elapsed());
        anyhow::ensure!(matches!(report.outcome, Ok(Ok(_))), "trivial run failed");
    }
    times.sort();
    let run_median = times[times.len() / 2];
    let run_p99 = times[times.len() * 99 / 100];

    // 2. Host calls from inside one run, each figure the median of ROUNDS rounds, the host
    //    and plain Rust alternating so both see the same machine.
    let calls = load(mageflow_test_artifacts::HOST_CALLS, "customers:read")?;
    let now = per_call(&calls, &opts, "now", HTTP_CALLS, || async { Ok(()) }).await?;
    let http = per_call(&calls, &opts, "get 3", HTTP_CALLS, || async {
        std::hint::black_box(client.customer(3).await?);
        Ok(())
    })
    .await?;

    // 3. The same customers.get answered from memory: the host call alone, beside plain Rust
    //    asking the same gateway.
    let memory = Arc::new(Memory(client.customer(3).await?));
    let in_memory = RunOptions::new(memory.clone());
    let mem = per_call(&calls, &in_memory, "get 3", MEM_CALLS, || async {
        match memory.call(Call::GetCustomer(3)).await? {
            Reply::Customer(c) => {
                std::hint::black_box(c);
                Ok(())
            }
            other => anyhow::bail!("unexpected {other:?}"),
        }
    })
    .await?;

    let verdict = |ok: bool| if ok { "meets" } else { "MISSES" };
    println!("mageflow-runtime (release, pooling allocator, magento-sim on loopback, 2 cores)");
    println!(
        "  instantiate + run a trivial plugin:  median {:>7.1} us  p99 {:>7.1} us   target median <= 20 us   {}",
        run_median.as_secs_f64() * 1e6,
        run_p99.as_secs_f64() * 1e6,
        verdict(run_median <= Duration::from_micros(20))
    );
    println!(
        "  runtime.now host call:               {:>7.2} us a call",
        now.host
    );
    println!(
        "  customers.get, answer in memory:     {:>7.2} us a call   plain Rust, same answer: {:>7.2} us   host adds {:>5.2} us   target <= 2 us   {}",
        mem.host,
        mem.plain,
        mem.host - mem.plain,
        verdict(mem.host - mem.plain <= 2.0)
    );
    println!(
        "  customers.get, magento-sim over HTTP:{:>7.1} us a call   plain Rust client:       {:>7.1} us   host adds {:>5.1} us   (loopback HTTP dominates; noisy)",
        http.host,
        http.plain,
        http.host - http.plain,
    );
    Ok(())
}

/// Microseconds a call, through the host and in plain Rust.
struct PerCall {
    host: f64,
    plain: f64,
}

/// Runs `{call} {n}` in the host-calls guest (less an empty run's cost) and `plain` n times,
/// alternating, ROUNDS times; returns the medians.
async fn per_call<F, Fut>(
    guest: &mageflow_runtime::Plugin,
    opts: &RunOptions,
    call: &str,
    n: u32,
    plain: F,
) -> anyhow::Result<PerCall>
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<()>>,
{
    let run = |input: String| async move {
        let t = Instant::now();
        let report = guest.run(&Trigger::Manual(input), opts).await;
        anyhow::ensure!(
            matches!(report.outcome, Ok(Ok(_))),
            "host-calls run failed: {:?}",
            report.outcome
        );
        anyhow::Ok(t.elapsed())
    };
    let (mut host, mut direct) = (Vec::new(), Vec::new());
    for _ in 0..ROUNDS {
        let base = run(format!("{call} 0")).await?;
        host.push(run(format!("{call} {n}")).await?.saturating_sub(base));
        let t = Instant::now();
        for _ in 0..n {
            plain().await?;
        }
        direct.push(t.elapsed());
    }
    let us = |d: Duration| d.as_secs_f64() * 1e6 / f64::from(n);
    Ok(PerCall {
        host: us(median(host)),
        plain: us(median(direct)),
    })
}
