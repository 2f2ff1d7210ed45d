//! Signed webhook deliveries sent from many clients at once, for the benches: signed before
//! any clock starts (a sender's own work is not the server's, though it shares the cores),
//! then sent, each client's in turn and the clients together.

use std::time::{Duration, Instant};

/// One delivery: where it goes, its body, and its `x-mageflow-signature`.
pub(crate) struct Delivery {
    url: String,
    body: String,
    signature: String,
}

/// `count` deliveries, the `i`th with `body(i)` to `url(i)`, signed with `secret` and dealt to
/// `clients` senders.
pub(crate) fn signed(
    count: usize,
    clients: usize,
    secret: &str,
    body: impl Fn(usize) -> String,
    url: impl Fn(usize) -> String,
) -> Vec<Vec<Delivery>> {
    (0..clients)
        .map(|c| {
            (c..count)
                .step_by(clients)
                .map(|i| {
                    let body = body(i);
                    Delivery {
                        url: url(i),
                        signature: mageflow_server::hmac_signature(
                            secret.as_bytes(),
                            body.as_bytes(),
                        ),
                        body,
                    }
                })
                .collect()
        })
        .collect()
}

/// Sends them, failing on any answer but a success: each delivery's latency, sorted, and how
/// long they all took.
pub(crate) async fn send(
    http: &reqwest::Client,
    signed: Vec<Vec<Delivery>>,
) -> anyhow::Result<(Vec<Duration>, Duration)> {
    let started = Instant::now();
    let mut senders = Vec::new();
    for mine in signed {
        let http = http.clone();
        senders.push(tokio::spawn(async move {
            let mut latencies = Vec::with_capacity(mine.len());
            for d in mine {
                let t = Instant::now();
                let resp = http
                    .post(&d.url)
                    .header(mageflow_server::HMAC_HEADER, d.signature)
                    .header("content-type", "application/json")
                    .body(d.body)
                    .send()
                    .await?;
                anyhow::ensure!(
                    resp.status().is_success(),
                    "delivery refused: {}",
                    resp.status()
                );
                latencies.push(t.elapsed());
            }
            anyhow::Ok(latencies)
        }));
    }
    let mut latencies = Vec::new();
    for s in senders {
        latencies.extend(s.await??);
    }
    let took = started.elapsed();
    latencies.sort();
    Ok((latencies, took))
}
