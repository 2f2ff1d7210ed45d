//! Faults: retries with backoff, Retry-After, rate and concurrency limits, and exactly-once
//! writes under 20 % injected failures, checked against the simulator's write log.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use mageflow_magento::{MagentoClient, NewCustomer, Patch};
use reqwest::Method;
use serde_json::{Value, json};

use crate::support::{Sim, admin_auth};

fn count_writes(writes: &[Value], op: &str) -> HashMap<u64, usize> {
    let mut m = HashMap::new();
    for w in writes
        .iter()
        .filter(|w| w["op"] == op && w["entity"] == "customer")
    {
        *m.entry(w["id"].as_u64().unwrap()).or_insert(0) += 1;
    }
    m
}

#[tokio::test]
async fn twenty_percent_503s_and_dropped_connections_lose_and_double_nothing() {
    let sim = Sim::seeded(200).await;
    let client = sim.admin();
    client.customer(1).await.unwrap(); // log in before the faults
    sim.control(
        Method::POST,
        "/__sim/faults",
        Some(json!([{"path": "/V1/customers*", "status": 503, "rate": 0.1}, {"path": "/V1/customers*", "drop": true, "rate": 0.1}])),
    )
    .await;
    for id in 1..=200u64 {
        client
            .update_customer(id, &Patch::new().set("lastname", format!("Moved{id}")))
            .await
            .unwrap();
    }
    sim.control(Method::DELETE, "/__sim/faults", None).await;
    let updates = count_writes(&sim.writes().await, "update");
    assert_eq!(updates.len(), 200, "every update landed");
    assert!(
        updates.values().all(|n| *n == 1),
        "no update was applied twice"
    );
    for id in [1u64, 77, 200] {
        assert_eq!(
            client.customer(id).await.unwrap().lastname,
            format!("Moved{id}")
        );
    }
}

#[tokio::test]
async fn creates_whose_answer_is_lost_land_exactly_once() {
    let sim = Sim::seeded(0).await;
    let client = sim.admin();
    client.websites().await.unwrap();
    client.customer_groups().await.unwrap(); // log in before the faults
    sim.control(
        Method::POST,
        "/__sim/faults",
        Some(json!([
            {"method": "POST", "path": "/V1/customers", "drop": true, "after": true, "rate": 0.1},
            {"method": "POST", "path": "/V1/customers", "status": 503, "after": true, "rate": 0.05},
            {"path": "/V1/customers*", "status": 503, "rate": 0.05}
        ])),
    )
    .await;
    for i in 0..100 {
        let new = NewCustomer {
            email: format!("c{i}@example.com"),
            firstname: "C".into(),
            lastname: "X".into(),
            website_id: Some(1),
            password: Some("Str0ng!Pass".into()),
            ..Default::default()
        };
        let c = client.create_customer(&new).await.unwrap();
        assert_eq!(c.email, new.email);
    }
    sim.control(Method::DELETE, "/__sim/faults", None).await;
    let creates = count_writes(&sim.writes().await, "create");
    assert_eq!(creates.len(), 100, "one customer per create, never two");
}

#[tokio::test]
async fn retry_after_is_honoured() {
    let sim = Sim::seeded(1).await;
    let client = sim.admin();
    client.customer(1).await.unwrap();
    sim.control(
        Method::POST,
        "/__sim/faults",
        Some(json!({"path": "/V1/customers/1", "status": 429, "retry_after": 1, "times": 1})),
    )
    .await;
    let started = Instant::now();
    client.customer(1).await.unwrap();
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "waited as Magento asked"
    );
}

#[tokio::test]
async fn retries_give_up_with_magentos_answer() {
    let sim = Sim::seeded(1).await;
    let client = sim.admin();
    client.customer(1).await.unwrap();
    sim.control(
        Method::POST,
        "/__sim/faults",
        Some(json!({"path": "/V1/customers/1", "status": 503})),
    )
    .await;
    let err = client.customer(1).await.unwrap_err();
    assert_eq!(err.status(), Some(503));
}

#[tokio::test]
async fn the_client_side_rate_limit_paces_requests() {
    let sim = Sim::seeded(1).await;
    let mut conn = sim.connection(admin_auth());
    conn.rate_limit = Some(20.0);
    let client = MagentoClient::new(conn).unwrap();
    let started = Instant::now();
    for _ in 0..11 {
        client.customer(1).await.unwrap();
    }
    // 12 requests (login included) at 20/s take at least 11 intervals of 50 ms.
    assert!(
        started.elapsed() >= Duration::from_millis(540),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn the_concurrency_limit_bounds_requests_in_flight() {
    let sim = Sim::seeded(8).await;
    let mut conn = sim.connection(admin_auth());
    conn.concurrency = 2;
    let client = MagentoClient::new(conn).unwrap();
    client.customer(1).await.unwrap();
    sim.control(
        Method::POST,
        "/__sim/faults",
        Some(json!({"path": "/V1/customers/*", "latency_ms": 200})),
    )
    .await;
    let started = Instant::now();
    let calls = (1..=6).map(|id| client.customer(id));
    let results = futures_util::future::join_all(calls).await;
    assert!(results.iter().all(Result::is_ok));
    assert!(
        started.elapsed() >= Duration::from_millis(600),
        "6 calls of 200 ms, 2 at a time: {:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn configuration_mistakes_are_named() {
    let sim = Sim::seeded(0).await;
    let mut conn = sim.connection(admin_auth());
    conn.concurrency = 0;
    assert_eq!(
        MagentoClient::new(conn).unwrap_err().to_string(),
        "concurrency must be at least 1"
    );
    let conn = mageflow_magento::Connection::new("shop.example.com", admin_auth());
    assert!(
        MagentoClient::new(conn)
            .unwrap_err()
            .to_string()
            .contains("must start with http:// or https://")
    );
}

#[tokio::test]
async fn a_request_without_an_answer_times_out_and_says_so() {
    let sim = Sim::seeded(1).await;
    let mut conn = sim.connection(admin_auth());
    conn.timeout = Duration::from_millis(300);
    conn.retry.max_retries = 1;
    let client = MagentoClient::new(conn).unwrap();
    client.customer(1).await.unwrap();
    sim.control(
        Method::POST,
        "/__sim/faults",
        Some(json!({"path": "/V1/customers/1", "latency_ms": 5000})),
    )
    .await;
    let started = Instant::now();
    let err = client.customer(1).await.unwrap_err();
    assert_eq!(
        err.to_string(),
        "GET /V1/customers/1: no answer within 300ms"
    );
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "two attempts of 300 ms, not the 5 s stall"
    );
}

/// Issue 11: a PUT whose answer was lost after Magento applied it is checked, not re-sent.
#[tokio::test]
async fn a_put_applied_but_answered_503_or_dropped_is_not_sent_again() {
    let sim = Sim::seeded(60).await;
    let client = sim.admin();
    client.customer(1).await.unwrap(); // log in before the faults
    sim.control(
        Method::POST,
        "/__sim/faults",
        Some(json!([
            {"method": "PUT", "path": "/V1/customers/*", "status": 503, "after": true, "rate": 0.2},
            {"method": "PUT", "path": "/V1/customers/*", "drop": true, "after": true, "rate": 0.2},
            {"method": "PUT", "path": "/V1/customers/*", "status": 503, "rate": 0.1}
        ])),
    )
    .await;
    for id in 1..=60u64 {
        let saved = client
            .update_customer(id, &Patch::new().set("lastname", format!("Once{id}")))
            .await
            .unwrap();
        assert_eq!(saved.lastname, format!("Once{id}"));
    }
    sim.control(Method::DELETE, "/__sim/faults", None).await;
    let updates = count_writes(&sim.writes().await, "update");
    assert_eq!(updates.len(), 60, "every update landed");
    let twice: Vec<_> = updates.iter().filter(|(_, n)| **n != 1).collect();
    assert!(twice.is_empty(), "applied more than once: {twice:?}");
}

/// Issue 11: a delete whose answer was lost is not sent again once the customer is gone.
#[tokio::test]
async fn a_delete_whose_answer_was_lost_is_done() {
    let sim = Sim::seeded(3).await;
    let client = sim.admin();
    client.customer(1).await.unwrap();
    sim.control(
        Method::POST,
        "/__sim/faults",
        Some(json!({"method": "DELETE", "path": "/V1/customers/2", "status": 503, "after": true, "times": 1})),
    )
    .await;
    client.delete_customer(2).await.unwrap();
    assert_eq!(client.customer(2).await.unwrap_err().status(), Some(404));
}

/// Issue 11: a bulk submission whose answer was lost is found in Magento's operation log.
#[tokio::test]
async fn a_bulk_submission_whose_answer_was_lost_is_found_in_the_operation_log() {
    let sim = Sim::seeded(30).await;
    let client = sim.admin();
    client.customer(1).await.unwrap();
    sim.control(
        Method::POST,
        "/__sim/faults",
        Some(json!({"method": "PUT", "path": "/V1/customers/byCustomerId", "status": 503, "after": true, "times": 1})),
    )
    .await;
    let updates: Vec<(u64, Patch)> = (1..=30u64)
        .map(|id| (id, Patch::new().set("group_id", 3)))
        .collect();
    let receipts = client.bulk_update_customers(&updates, 10).await.unwrap();
    let uuids: Vec<String> = receipts.into_iter().map(|r| r.bulk_uuid).collect();
    assert_eq!(
        uuids.len(),
        3,
        "one bulk per chunk, the lost one found: {uuids:?}"
    );
    let statuses = client
        .wait_bulks(&uuids, &mageflow_magento::Wait::default(), |_, _| {})
        .await
        .unwrap();
    assert_eq!(
        statuses.iter().map(|s| s.operations.len()).sum::<usize>(),
        30
    );
    let updates = count_writes(&sim.writes().await, "update");
    assert_eq!(updates.len(), 30);
    assert!(updates.values().all(|n| *n == 1), "{updates:?}");
}

/// Issue 11: an admin-token login answered 503 is retried (it changes nothing in Magento).
#[tokio::test]
async fn a_login_answered_503_is_retried() {
    let sim = Sim::seeded(1).await;
    sim.control(
        Method::POST,
        "/__sim/faults",
        Some(json!({"path": "/V1/integration/admin/token", "status": 503, "times": 2})),
    )
    .await;
    let client = sim.admin();
    assert_eq!(client.customer(1).await.unwrap().id, 1);
}
