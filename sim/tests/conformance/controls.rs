//! The `/__sim/` controls (writes, faults, reset), signed webhooks end to end, and the
//! `magento-sim` binary's command line.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::http::HeaderMap;
use axum::routing::post;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use reqwest::Method;
use rsa::pkcs1v15::{Signature, VerifyingKey};
use rsa::pkcs8::DecodePublicKey;
use rsa::signature::Verifier;
use serde_json::{Value, json};
use sha2::Sha256;

use crate::support::Api;

#[tokio::test]
async fn the_write_log_lists_each_applied_write_once_in_order() {
    let api = Api::default().await;
    let t = api.admin_token().await;
    let c = api.create_customer(&t, "w@example.com", 1).await;
    let id = c["id"].as_u64().unwrap();
    api.put(
        &format!("/V1/customers/{id}"),
        &t,
        json!({"customer": {"middlename": "W"}}),
    )
    .await;
    api.get(&format!("/V1/customers/{id}"), &t).await;
    api.delete(&format!("/V1/customers/{id}"), &t).await;
    let writes = api.control(Method::GET, "/__sim/writes", None).await;
    let seen: Vec<(String, String, u64)> = writes
        .as_array()
        .unwrap()
        .iter()
        .map(|w| {
            (
                w["op"].as_str().unwrap().into(),
                w["entity"].as_str().unwrap().into(),
                w["id"].as_u64().unwrap(),
            )
        })
        .collect();
    let expected: Vec<(String, String, u64)> = [("create", id), ("update", id), ("delete", id)]
        .iter()
        .map(|(op, id)| (op.to_string(), "customer".to_string(), *id))
        .collect();
    assert_eq!(seen, expected);
    assert_eq!(writes[0]["seq"], 1);
    api.control(Method::POST, "/__sim/reset", None).await;
    assert_eq!(
        api.control(Method::GET, "/__sim/writes", None).await,
        json!([])
    );
}

#[tokio::test]
async fn faults_inject_statuses_latency_and_dropped_connections() {
    let api = Api::default().await;
    let t = api.admin_token().await;
    api.control(
        Method::POST,
        "/__sim/faults",
        Some(json!([{"method": "GET", "path": "/V1/customers/*", "status": 503, "times": 2, "retry_after": 1}])),
    )
    .await;
    let r = api
        .http
        .get(api.url("/V1/customers/1"))
        .bearer_auth(&t)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 503);
    assert_eq!(r.headers()["retry-after"], "1");
    assert_eq!(api.get("/V1/customers/1", &t).await.0, 503);
    assert_eq!(
        api.get("/V1/customers/1", &t).await.0,
        200,
        "the fault wore off after two uses"
    );

    api.control(
        Method::POST,
        "/__sim/faults",
        Some(json!({"path": "/V1/customers/2", "drop": true, "times": 1})),
    )
    .await;
    let dropped = async {
        api.http
            .get(api.url("/V1/customers/2"))
            .bearer_auth(&t)
            .send()
            .await?
            .text()
            .await
    };
    assert!(
        dropped.await.is_err(),
        "a dropped connection is an error for the client"
    );

    api.control(
        Method::POST,
        "/__sim/faults",
        Some(json!({"path": "/V1/customers/3", "latency_ms": 300, "times": 1})),
    )
    .await;
    let started = Instant::now();
    assert_eq!(api.get("/V1/customers/3", &t).await.0, 200);
    assert!(started.elapsed() >= Duration::from_millis(300));

    let r = api
        .http
        .post(format!("{}/__sim/faults", api.server.url()))
        .json(&json!({"path": "*", "sttus": 1}))
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.status().as_u16(),
        400,
        "a misspelt fault is refused, not ignored"
    );
}

#[tokio::test]
async fn an_after_fault_applies_the_write_and_loses_the_answer() {
    let api = Api::default().await;
    let t = api.admin_token().await;
    api.control(Method::POST, "/__sim/faults", Some(json!({"method": "POST", "path": "/V1/customers", "drop": true, "after": true, "times": 1}))).await;
    let sent = api
        .http
        .post(api.url("/V1/customers"))
        .bearer_auth(&t)
        .json(
            &json!({"customer": {"email": "lost@example.com", "firstname": "L", "lastname": "A"}}),
        )
        .send()
        .await;
    let answered = match sent {
        Ok(r) => r.text().await.is_ok(),
        Err(_) => false,
    };
    assert!(!answered, "the client hears nothing");
    let writes = api.control(Method::GET, "/__sim/writes", None).await;
    assert_eq!(
        writes.as_array().unwrap().len(),
        1,
        "but the customer was created: {writes}"
    );
}

#[tokio::test]
async fn before_2_4_a_page_past_the_end_repeats_the_last_page() {
    let api = Api::start(magento_sim::SimConfig {
        seed_customers: 25,
        past_end: magento_sim::config::PastEnd::LastPage,
        ..Default::default()
    })
    .await;
    let t = api.admin_token().await;
    let (_, last) = api
        .get(
            "/V1/customers/search?searchCriteria[pageSize]=10&searchCriteria[currentPage]=3",
            &t,
        )
        .await;
    let (_, past) = api
        .get(
            "/V1/customers/search?searchCriteria[pageSize]=10&searchCriteria[currentPage]=7",
            &t,
        )
        .await;
    assert_eq!(last["items"].as_array().unwrap().len(), 5);
    assert_eq!(past["items"], last["items"]);
}

#[tokio::test]
async fn webhooks_are_signed_with_rsa_sha256_over_the_base64_body() {
    let received: Arc<Mutex<Vec<(HeaderMap, Bytes)>>> = Arc::default();
    let sink = received.clone();
    let app = axum::Router::new().route(
        "/hook",
        post(move |headers: HeaderMap, body: Bytes| {
            let sink = sink.clone();
            async move {
                sink.lock().unwrap().push((headers, body));
                axum::Json(json!({"op": "success"}))
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let hook_url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });

    let api = Api::default().await;
    let set = api
        .control(
            Method::POST,
            "/__sim/webhooks",
            Some(json!({"url": hook_url})),
        )
        .await;
    let pem = set["public_key"].as_str().unwrap().to_owned();
    let t = api.admin_token().await;
    api.create_customer(&t, "hooked@example.com", 1).await;
    api.delete("/V1/customers/1", &t).await;

    let got = received.lock().unwrap().clone();
    let names: Vec<String> = got
        .iter()
        .map(|(_, b)| {
            serde_json::from_slice::<Value>(b).unwrap()["eventName"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    assert_eq!(
        names,
        vec![
            "customer_register_success",
            "customer_save_after_data_object",
            "customer_delete_commit_after"
        ]
    );
    let verifier =
        VerifyingKey::<Sha256>::new(rsa::RsaPublicKey::from_public_key_pem(&pem).unwrap());
    for (headers, body) in &got {
        let sig = STANDARD
            .decode(headers["x-adobe-commerce-webhook-signature"].as_bytes())
            .unwrap();
        let sig = Signature::try_from(sig.as_slice()).unwrap();
        assert!(
            verifier
                .verify(STANDARD.encode(body).as_bytes(), &sig)
                .is_ok()
        );
    }
    let deliveries = api.control(Method::GET, "/__sim/webhooks", None).await;
    assert!(
        deliveries
            .as_array()
            .unwrap()
            .iter()
            .all(|d| d["status"] == 200)
    );
}

#[test]
fn the_binary_prints_its_url_first_and_serves_it() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_magento-sim"))
        .args([
            "--listen",
            "127.0.0.1:0",
            "--seed-customers",
            "10",
            "--integration",
            "crm",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("magento-sim starts");
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let first = lines.next().unwrap().unwrap();
    let url = first
        .strip_prefix("listening on ")
        .unwrap_or_else(|| panic!("first line was {first:?}"))
        .to_owned();
    assert!(url.starts_with("http://127.0.0.1:"));
    let rest: Vec<String> = lines.take(2).map(Result::unwrap).collect();
    assert!(
        rest.iter()
            .any(|l| l.starts_with("integration \"crm\": consumer_key=")),
        "{rest:?}"
    );
    let token = post_admin_login(&format!("{url}/rest/V1/integration/admin/token"));
    assert_eq!(token.len(), 34, "a quoted 32-char token: {token}");
    child.kill().unwrap();
    child.wait().unwrap();
}

#[test]
fn bad_flags_are_refused_with_a_helpful_message() {
    let out = Command::new(env!("CARGO_BIN_EXE_magento-sim"))
        .args(["--admin-token-ttl", "60"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("has no unit"), "{err}");
}

/// A plain HTTP/1.1 admin login over a std socket (the test is synchronous).
fn post_admin_login(url: &str) -> String {
    use std::io::{Read, Write};
    let rest = url.strip_prefix("http://").unwrap();
    let (host, path) = rest.split_once('/').unwrap();
    let body = r#"{"username":"admin","password":"Admin123!"}"#;
    let mut s = std::net::TcpStream::connect(host).unwrap();
    write!(
        s,
        "POST /{path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut resp = String::new();
    s.read_to_string(&mut resp).unwrap();
    resp.split("\r\n\r\n").nth(1).unwrap_or_default().to_owned()
}
