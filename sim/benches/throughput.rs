//! magento-sim throughput on loopback, so the simulator is never the bottleneck of mageflow's
//! own benchmarks. Prints its figures and compares them with the targets of issue #2:
//! 100,000 customers seeded in under 3 s, >= 10,000 `GET /V1/customers/{id}` per second, and a
//! filtered, sorted search page of 300 over 100,000 customers in under 20 ms.
//!
//! Run: `cargo bench -p mageflow-sim` (release build; client and server share the machine).

use std::sync::Arc;
use std::time::{Duration, Instant};

use magento_sim::{Sim, SimConfig};
use serde_json::json;

const CUSTOMERS: usize = 100_000;
const GETS: usize = 60_000;
const CONCURRENCY: usize = 32;
const SEARCHES: usize = 60;

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

fn verdict(ok: bool) -> &'static str {
    if ok { "meets target" } else { "MISSES target" }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let started = Instant::now();
    let sim = Sim::new(SimConfig {
        seed_customers: CUSTOMERS,
        ..Default::default()
    });
    let seed_time = started.elapsed();
    let server = magento_sim::serve(sim, "127.0.0.1:0").await?;
    let base = server.rest_url();
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(CONCURRENCY)
        .build()?;
    let token: String = http
        .post(format!("{base}/V1/integration/admin/token"))
        .json(&json!({"username": "admin", "password": "Admin123!"}))
        .send()
        .await?
        .json()
        .await?;
    let token = Arc::new(token);

    // GET /V1/customers/{id}: CONCURRENCY keep-alive clients, GETS requests in all.
    let started = Instant::now();
    let mut tasks = Vec::new();
    for worker in 0..CONCURRENCY {
        let (http, base, token) = (http.clone(), base.clone(), token.clone());
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::with_capacity(GETS / CONCURRENCY);
            for i in 0..GETS / CONCURRENCY {
                let id = 1 + (worker * 7919 + i * 104_729) % CUSTOMERS;
                let t = Instant::now();
                let r = http
                    .get(format!("{base}/V1/customers/{id}"))
                    .bearer_auth(token.as_str())
                    .send()
                    .await?;
                anyhow::ensure!(r.status().is_success(), "GET {id} answered {}", r.status());
                r.bytes().await?;
                latencies.push(t.elapsed());
            }
            anyhow::Ok(latencies)
        }));
    }
    let mut latencies = Vec::with_capacity(GETS);
    for t in tasks {
        latencies.extend(t.await??);
    }
    let get_time = started.elapsed();
    latencies.sort();
    let get_rate = latencies.len() as f64 / get_time.as_secs_f64();

    // A filtered, sorted page of 300: website 1, lastname containing "o", sorted by lastname
    // then email, page 3.
    let query = "searchCriteria[filter_groups][0][filters][0][field]=website_id&searchCriteria[filter_groups][0][filters][0][value]=1\
&searchCriteria[filter_groups][1][filters][0][field]=lastname&searchCriteria[filter_groups][1][filters][0][value]=%25o%25\
&searchCriteria[filter_groups][1][filters][0][condition_type]=like\
&searchCriteria[sortOrders][0][field]=lastname&searchCriteria[sortOrders][0][direction]=ASC\
&searchCriteria[sortOrders][1][field]=email&searchCriteria[sortOrders][1][direction]=ASC\
&searchCriteria[pageSize]=300&searchCriteria[currentPage]=3";
    let mut search_lat = Vec::with_capacity(SEARCHES);
    let mut total = 0;
    for _ in 0..SEARCHES {
        let t = Instant::now();
        let r = http
            .get(format!("{base}/V1/customers/search?{query}"))
            .bearer_auth(token.as_str())
            .send()
            .await?;
        anyhow::ensure!(r.status().is_success(), "search answered {}", r.status());
        let bytes = r.bytes().await?;
        // The page is timed until its last byte arrives; decoding it is the client's cost.
        search_lat.push(t.elapsed());
        let body: serde_json::Value = serde_json::from_slice(&bytes)?;
        anyhow::ensure!(
            body["items"].as_array().map(Vec::len) == Some(300),
            "search page is not full"
        );
        total = body["total_count"].as_u64().unwrap_or(0);
    }
    search_lat.sort();

    println!("magento-sim throughput (loopback, release, client and server on the same 2 cores)");
    println!(
        "  seed {CUSTOMERS} customers:          {:>8.0} ms    target < 3000 ms   {}",
        seed_time.as_secs_f64() * 1e3,
        verdict(seed_time < Duration::from_secs(3))
    );
    println!(
        "  GET /V1/customers/{{id}}:          {:>8.0} req/s  target >= 10000    {}   (p50 {:?}, p99 {:?}, {} requests, {} connections)",
        get_rate,
        verdict(get_rate >= 10_000.0),
        percentile(&latencies, 0.5),
        percentile(&latencies, 0.99),
        latencies.len(),
        CONCURRENCY
    );
    let p50 = percentile(&search_lat, 0.5);
    println!(
        "  search page of 300 ({total} matches): p50 {:>6.2} ms  target < 20 ms     {}   (p99 {:.2} ms, {:.0} pages/s sequential)",
        p50.as_secs_f64() * 1e3,
        verdict(p50 < Duration::from_millis(20)),
        percentile(&search_lat, 0.99).as_secs_f64() * 1e3,
        SEARCHES as f64 / search_lat.iter().sum::<Duration>().as_secs_f64()
    );
    Ok(())
}
