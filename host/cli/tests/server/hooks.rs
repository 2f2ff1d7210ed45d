//! Webhook intake over real sockets: magento-sim delivers signed Commerce webhooks to
//! `mageflow serve`'s `/hooks/<workflow>`; good deliveries are queued once and answered
//! `{"op":"success"}`, bad ones are refused with a status that says why and queue nothing.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::harness;

use hmac::{Hmac, Mac};
use mageflow_engine::{Engine, Workflow};
use mageflow_runtime::Runtime;
use mageflow_server::{ADOBE_HEADER, AccessConfig, HMAC_HEADER, MAX_BODY};
use mageflow_store::{Status, Store};
use magento_sim::{Server, SimConfig};
use serde_json::{Value, json};
use sha2::Sha256;

const SECRET: &str = "a-shared-secret-of-some-length";

fn runtime() -> Arc<Runtime> {
    let cache = Path::new(env!("CARGO_TARGET_TMPDIR")).join("hooks-compile-cache");
    Arc::new(Runtime::with_disk_cache(&cache).unwrap())
}

/// A sim, and `mageflow serve` with two webhook workflows (Adobe-signed and HMAC) on it.
async fn setup() -> (Server, Arc<Engine>, String) {
    let sim = magento_sim::start(SimConfig::default(), "127.0.0.1:0")
        .await
        .unwrap();
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("hooks-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let pem = dir.join(format!(
        "adobe-{}.pem",
        sim.url().rsplit(':').next().unwrap()
    ));
    std::fs::write(&pem, &sim.sim.webhook_key().public_pem).unwrap();
    let client = harness::magento(&sim);
    let engine = Arc::new(Engine::new(Store::temporary().unwrap(), runtime()));
    let adobe = format!(
        "name = \"onboard\"\nplugin = {:?}\ngrants = [\"customers:read\", \"customers:write\", \"approvals\"]\n\
         [trigger]\nkind = \"webhook\"\nevents = [\"observer.customer_register_success\"]\nsignature = \"adobe\"\npublic-key-file = {:?}\n",
        mageflow_test_artifacts::ONBOARD_CUSTOMER,
        pem.display().to_string(),
    );
    let hmac = format!(
        "name = \"shared\"\nplugin = {:?}\ngrants = [\"customers:read\"]\n\
         [trigger]\nkind = \"webhook\"\nsignature = \"hmac\"\nsecret-env = \"HOOK_SECRET\"\n",
        mageflow_test_artifacts::ECHO,
    );
    for text in [adobe, hmac] {
        let wf = Workflow::parse(&dir.join("wf.toml"), &text).unwrap();
        engine.add(wf, client.clone()).unwrap();
    }
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let serving = engine.clone();
    tokio::spawn(async move {
        mageflow_server::serve(serving, AccessConfig::default(), listener, |k| {
            (k == "HOOK_SECRET").then(|| SECRET.to_owned())
        })
        .await
        .unwrap();
    });
    (sim, engine, url)
}

async fn post(url: &str, headers: &[(&str, String)], body: Vec<u8>) -> (u16, Value) {
    let mut req = reqwest::Client::new().post(url).body(body);
    for (k, v) in headers {
        req = req.header(*k, v);
    }
    let resp = req.send().await.unwrap();
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap_or(Value::Null))
}

fn hmac_of(body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(SECRET.as_bytes()).unwrap();
    mac.update(body);
    let hex: String = mac
        .finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    format!("sha256={hex}")
}

async fn runs_settle(engine: &Engine, n: usize) -> Vec<mageflow_store::Run> {
    let start = Instant::now();
    loop {
        let runs = engine.store().runs(None).unwrap();
        if runs.len() >= n && runs.iter().all(|r| r.status.is_final()) {
            return runs;
        }
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "runs did not settle: {runs:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn commerce_deliveries_from_the_sim_are_verified_queued_once_and_run() {
    let (sim, engine, url) = setup().await;
    // Point the sim's webhooks at the onboarding workflow, then register a customer there.
    sim.sim.write().webhook_url = Some(format!("{url}/hooks/onboard"));
    let client = harness::magento(&sim);
    client
        .create_customer(&mageflow_magento::NewCustomer {
            email: "hooked@example.com".into(),
            firstname: "Hoo".into(),
            lastname: "Ked".into(),
            website_id: Some(1),
            ..Default::default()
        })
        .await
        .unwrap();
    let runs = runs_settle(&engine, 1).await;
    assert_eq!(
        runs.len(),
        1,
        "one run for the register event (saves are not taken)"
    );
    assert_eq!(runs[0].status, Status::Succeeded, "{:?}", runs[0].error);
    assert_eq!(
        runs[0].summary.as_deref(),
        Some(
            format!(
                "hooked@example.com already exists as customer {}",
                sim.sim.read().next_customer_id() - 1
            )
            .as_str()
        )
    );
    let deliveries = sim.sim.read().deliveries.clone();
    assert!(
        deliveries.iter().all(|d| d.status == Some(200)),
        "{deliveries:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_deliveries_are_refused_and_queue_nothing() {
    let (sim, engine, url) = setup().await;
    let hook = format!("{url}/hooks/onboard");
    let body = br#"{"eventName":"customer_register_success","data":{"customer":{"email":"x@example.com","firstname":"X","lastname":"Y"}}}"#.to_vec();
    let (status, v) = post(&hook, &[], body.clone()).await;
    assert_eq!(status, 401);
    assert_eq!(
        v["message"],
        format!("unsigned delivery: the {ADOBE_HEADER} header is missing")
    );
    let forged = sim.sim.webhook_key().sign(b"another body");
    let (status, v) = post(&hook, &[(ADOBE_HEADER, forged)], body.clone()).await;
    assert_eq!(status, 401);
    assert!(
        v["message"]
            .as_str()
            .unwrap()
            .starts_with("the signature does not verify"),
        "{v}"
    );
    let garbage = b"{not json".to_vec();
    let signed = sim.sim.webhook_key().sign(&garbage);
    let (status, v) = post(&hook, &[(ADOBE_HEADER, signed)], garbage).await;
    assert_eq!(status, 400);
    assert!(
        v["message"]
            .as_str()
            .unwrap()
            .starts_with("the delivery is not JSON"),
        "{v}"
    );
    let huge = vec![b' '; MAX_BODY + 10];
    let (status, _) = post(&hook, &[(ADOBE_HEADER, "x".into())], huge).await;
    assert_eq!(status, 413);
    let (status, v) = post(&format!("{url}/hooks/nope"), &[], body).await;
    assert_eq!(status, 404);
    assert_eq!(v["message"], "no webhook workflow is named \"nope\"");
    assert!(
        engine.store().runs(None).unwrap().is_empty(),
        "nothing queued"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn duplicates_are_dropped_for_commerce_bodies_and_cloudevent_ids() {
    let (_sim, engine, url) = setup().await;
    let hook = format!("{url}/hooks/shared");
    let body = br#"{"eventName":"customer_save_after","data":{"id":1}}"#.to_vec();
    for _ in 0..3 {
        let (status, v) = post(&hook, &[(HMAC_HEADER, hmac_of(&body))], body.clone()).await;
        assert_eq!((status, v), (200, json!({"op": "success"})));
    }
    let cloud = |id: &str, n: u32| {
        serde_json::to_vec(&json!({"specversion": "1.0", "type": "com.adobe.commerce.customer", "id": id, "source": "x", "data": {"n": n}})).unwrap()
    };
    // Adobe I/O redelivers with the same id (the body may differ): one run.
    for n in 0..2 {
        let b = cloud("evt-1", n);
        let (status, _) = post(&hook, &[(HMAC_HEADER, hmac_of(&b))], b).await;
        assert_eq!(status, 200);
    }
    let b = cloud("evt-2", 0);
    post(&hook, &[(HMAC_HEADER, hmac_of(&b))], b.clone()).await;
    let (status, v) = post(&hook, &[(HMAC_HEADER, "sha256=00".into())], b).await;
    assert_eq!(status, 401, "{v}");
    let runs = runs_settle(&engine, 3).await;
    assert_eq!(runs.len(), 3, "one per distinct delivery");
    let names: Vec<String> = runs
        .iter()
        .map(|r| r.trigger["name"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        names,
        [
            "customer_save_after",
            "com.adobe.commerce.customer",
            "com.adobe.commerce.customer"
        ]
    );
}
