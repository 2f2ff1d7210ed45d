//! Async bulk: 202 with `bulk_uuid`, the consumer, status endpoints, unknown uuids, and the
//! full-save semantics of bulk updates.

use std::time::Duration;

use magento_sim::SimConfig;
use magento_sim::config::Consumer;
use reqwest::Method;
use serde_json::{Value, json};

use crate::schema::Schema;
use crate::support::Api;

/// Polls the short status until no operation is open (status 4), at most ~5 s.
async fn settle(api: &Api, token: &str, uuid: &str) -> Value {
    for _ in 0..100 {
        let (s, body) = api.get(&format!("/V1/bulk/{uuid}/status"), token).await;
        assert_eq!(s, 200, "{body}");
        if body["operations_list"]
            .as_array()
            .unwrap()
            .iter()
            .all(|op| op["status"] != 4)
        {
            return body;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("bulk {uuid} never settled");
}

#[tokio::test]
async fn bulk_create_answers_202_and_status_reports_each_operation() {
    let api = Api::default().await;
    let t = api.admin_token().await;
    let items = json!([
        {"customer": {"email": "b1@example.com", "firstname": "B", "lastname": "One"}, "password": "Str0ng!Pass"},
        {"customer": {"email": "b2@example.com", "firstname": "B", "lastname": "Two"}},
        {"customer": {"email": "b1@example.com", "firstname": "B", "lastname": "Dup"}}
    ]);
    let (s, receipt) = api
        .post("/default/async/bulk/V1/customers", Some(&t), items)
        .await;
    assert_eq!(s, 202, "{receipt}");
    assert_eq!(receipt["errors"], false);
    let uuid = receipt["bulk_uuid"].as_str().unwrap().to_owned();
    let request_items = receipt["request_items"].as_array().unwrap();
    assert_eq!(request_items.len(), 3);
    for (i, item) in request_items.iter().enumerate() {
        assert_eq!(
            (item["id"].as_u64(), item["status"].as_str()),
            (Some(i as u64), Some("accepted"))
        );
        assert_eq!(item["data_hash"].as_str().unwrap().len(), 64, "sha-256 hex");
    }
    let status = settle(&api, &t, &uuid).await;
    let ops = status["operations_list"].as_array().unwrap();
    assert_eq!(
        ops.iter()
            .map(|o| o["status"].as_u64().unwrap())
            .collect::<Vec<_>>(),
        vec![1, 1, 3]
    );
    assert_eq!(
        ops[2]["result_message"],
        "A customer with the same email address already exists in an associated website."
    );
    assert_eq!(ops[2]["error_code"], 0);
    assert!(
        ops[0]["result_message"]
            .as_str()
            .unwrap()
            .starts_with("Service execution success ")
    );
    assert_eq!(
        (
            status["bulk_id"].as_str(),
            status["operation_count"].as_u64(),
            status["user_type"].as_u64()
        ),
        (Some(uuid.as_str()), Some(3), Some(2))
    );
    assert_eq!(
        status["description"],
        "Topic async.magento.customer.api.accountmanagementinterface.createaccount.post"
    );

    let schema = Schema::load();
    // Magento omits null properties: a successful operation has no error_code.
    let errors = schema.check(
        "asynchronous-operations-data-bulk-operations-status-interface",
        &status,
        &["error_code"],
    );
    assert!(errors.is_empty(), "{errors:#?}");
    let (s, detailed) = api
        .get(&format!("/V1/bulk/{uuid}/detailed-status"), &t)
        .await;
    assert_eq!(s, 200);
    let errors = schema.check(
        "asynchronous-operations-data-detailed-bulk-operations-status-interface",
        &detailed,
        &["error_code", "result_serialized_data"],
    );
    assert!(errors.is_empty(), "{errors:#?}");
    let (_, failed) = api
        .get(&format!("/V1/bulk/{uuid}/operation-status/3"), &t)
        .await;
    assert_eq!(failed, json!(1));
    let (s, b) = api
        .get("/V1/bulk/00000000-0000-4000-8000-000000000000/status", &t)
        .await;
    assert_eq!(
        (s, b.to_string()),
        (404, r#"{"message":"Bulk uuid %bulkUuid not exist","parameters":{"bulkUuid":"00000000-0000-4000-8000-000000000000"}}"#.into())
    );
    let writes = api.control(Method::GET, "/__sim/writes", None).await;
    let bulk_creates = writes
        .as_array()
        .unwrap()
        .iter()
        .filter(|w| w["via"] == "bulk" && w["entity"] == "customer")
        .count();
    assert_eq!(bulk_creates, 2);
}

#[tokio::test]
async fn a_stopped_consumer_leaves_operations_open_until_started() {
    let api = Api::start(SimConfig {
        seed_customers: 5,
        consumer: Consumer::Stopped,
        ..Default::default()
    })
    .await;
    let t = api.admin_token().await;
    let (_, before) = api.get("/V1/customers/2", &t).await;
    let mut full = before.clone();
    full["group_id"] = json!(3);
    let (s, receipt) = api
        .put(
            "/async/bulk/V1/customers/byCustomerId",
            &t,
            json!([{"customer": full}, {"customer": {"id": 3, "group_id": 3}}]),
        )
        .await;
    assert_eq!(s, 202, "{receipt}");
    let uuid = receipt["bulk_uuid"].as_str().unwrap().to_owned();
    tokio::time::sleep(Duration::from_millis(200)).await;
    let (_, open) = api
        .get(&format!("/V1/bulk/{uuid}/operation-status/4"), &t)
        .await;
    assert_eq!(
        open,
        json!(2),
        "nothing runs without the async.operations.all consumer"
    );
    api.control(
        Method::POST,
        "/__sim/consumer",
        Some(json!({"running": true})),
    )
    .await;
    let status = settle(&api, &t, &uuid).await;
    let ops = status["operations_list"].as_array().unwrap();
    assert_eq!(ops[0]["status"], 1);
    assert_eq!(
        ops[1]["status"], 3,
        "a bulk save is a full save: a partial customer fails"
    );
    assert_eq!(
        ops[1]["result_message"],
        "The customer email is missing. Enter and try again."
    );
    let (_, after) = api.get("/V1/customers/2", &t).await;
    assert_eq!(after["group_id"], 3);
    assert_eq!(after["addresses"], before["addresses"]);
}

#[tokio::test]
async fn bulk_input_errors_fail_the_whole_request() {
    let api = Api::default().await;
    let t = api.admin_token().await;
    let (s, b) = api
        .post(
            "/async/bulk/V1/customers",
            Some(&t),
            json!({"customer": {}}),
        )
        .await;
    assert_eq!(s, 400, "a bulk body must be an array: {b}");
    let (s, b) = api
        .post(
            "/async/bulk/V1/customers",
            Some(&t),
            json!([{"customer": {"email": "a@example.com", "bogus": 1}}]),
        )
        .await;
    assert_eq!(
        (s, b["parameters"]["fieldName"].as_str()),
        (400, Some("Bogus"))
    );
    let (s, b) = api.post("/async/bulk/V1/customers", None, json!([{"customer": {"email": "a@example.com", "firstname": "A", "lastname": "B", "group_id": 2}}])).await;
    assert_eq!(
        (s, b["parameters"]["resources"].as_str()),
        (401, Some("Magento_Customer::manage")),
        "ValidateAsyncCustomer"
    );
    let (s, _) = api.get("/async/bulk/V1/customers", &t).await;
    assert_eq!(s, 404, "GET is not an async route");
}
