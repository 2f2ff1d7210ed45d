//! Bulk: chunked submission, waiting with per-item outcomes, and a stalled consumer named.

use std::time::Duration;

use mageflow_magento::{Error, NewCustomer, OpStatus, Patch, Wait};
use magento_sim::SimConfig;
use magento_sim::config::Consumer;
use reqwest::Method;
use serde_json::json;

use crate::support::Sim;

#[tokio::test]
async fn bulk_updates_are_chunked_waited_for_and_keep_every_field() {
    let sim = Sim::seeded(50).await;
    let client = sim.admin();
    let before = client.customer(7).await.unwrap();
    let updates: Vec<(u64, Patch)> = (1..=50)
        .map(|id| (id, Patch::new().set("group_id", 3)))
        .collect();
    let receipts = client.bulk_update_customers(&updates, 20).await.unwrap();
    assert_eq!(
        receipts
            .iter()
            .map(|r| r.request_items.len())
            .collect::<Vec<_>>(),
        vec![20, 20, 10]
    );
    let uuids: Vec<String> = receipts.iter().map(|r| r.bulk_uuid.clone()).collect();
    let mut heard = Vec::new();
    let statuses = client
        .wait_bulks(&uuids, &Wait::default(), |done, total| {
            heard.push((done, total))
        })
        .await
        .unwrap();
    assert!(
        statuses
            .iter()
            .flat_map(|s| &s.operations)
            .all(|o| o.status == OpStatus::Complete)
    );
    assert_eq!(heard.last(), Some(&(50, 50)));
    let after = client.customer(7).await.unwrap();
    assert_eq!(after.group_id, 3);
    assert_eq!(
        (after.addresses, after.email, after.other.get("dob")),
        (before.addresses, before.email, before.other.get("dob"))
    );
}

#[tokio::test]
async fn bulk_creates_report_each_item() {
    let sim = Sim::seeded(0).await;
    let client = sim.admin();
    let people: Vec<NewCustomer> = ["a@example.com", "b@example.com", "a@example.com"]
        .iter()
        .map(|e| NewCustomer {
            email: (*e).into(),
            firstname: "B".into(),
            lastname: "K".into(),
            ..Default::default()
        })
        .collect();
    let receipts = client.bulk_create_customers(&people, 10).await.unwrap();
    let statuses = client
        .wait_bulks(
            &[receipts[0].bulk_uuid.clone()],
            &Wait::default(),
            |_, _| {},
        )
        .await
        .unwrap();
    let ops = &statuses[0].operations;
    assert_eq!(
        ops.iter().map(|o| o.status).collect::<Vec<_>>(),
        vec![OpStatus::Complete, OpStatus::Complete, OpStatus::Failed]
    );
    assert_eq!(
        ops[2].message.as_deref(),
        Some("A customer with the same email address already exists in an associated website.")
    );
}

#[tokio::test]
async fn a_stopped_consumer_is_reported_as_stalled() {
    let sim = Sim::start(SimConfig {
        seed_customers: 5,
        consumer: Consumer::Stopped,
        ..Default::default()
    })
    .await;
    let client = sim.admin();
    let receipts = client
        .bulk_update_customers(&[(1, Patch::new().set("group_id", 2))], 10)
        .await
        .unwrap();
    let wait = Wait {
        stall_after: Duration::from_millis(300),
        ..Wait::default()
    };
    let err = client
        .wait_bulks(&[receipts[0].bulk_uuid.clone()], &wait, |_, _| {})
        .await
        .unwrap_err();
    assert!(matches!(err, Error::BulkStalled { open: 1, .. }));
    assert!(
        err.to_string().ends_with(
            "1 operations still open after 0 s: is the async.operations.all consumer running?"
        ),
        "{err}"
    );
    sim.control(
        Method::POST,
        "/__sim/consumer",
        Some(json!({"running": true})),
    )
    .await;
    let done = client
        .wait_bulks(
            &[receipts[0].bulk_uuid.clone()],
            &Wait::default(),
            |_, _| {},
        )
        .await
        .unwrap();
    assert_eq!(done[0].open(), 0);
}
