//! Auth modes, token renewal, 2FA, store codes, and secrets kept out of logs.

use std::io::Write;
use std::sync::{Arc, Mutex};

use mageflow_magento::{Auth, Error, MagentoClient, SearchCriteria};
use magento_sim::SimConfig;
use magento_sim::config::{Switch, TokenFormat};
use reqwest::Method;
use serde_json::json;

use crate::support::{Sim, admin_auth};

#[tokio::test]
async fn a_token_that_expires_mid_stream_is_renewed_and_the_stream_goes_on() {
    let sim = Sim::start(SimConfig {
        seed_customers: 1000,
        admin_token_ttl: Some(60),
        ..Default::default()
    })
    .await;
    let client = sim.admin();
    let mut pages = client.customers(SearchCriteria::new().page_size(100));
    let mut ids = Vec::new();
    while let Some(page) = pages.next_page().await.unwrap() {
        ids.extend(page.iter().map(|c| c.id));
        // Every page, time jumps past the token's lifetime.
        sim.control(
            Method::POST,
            "/__sim/clock",
            Some(json!({"advance_secs": 61})),
        )
        .await;
    }
    assert_eq!(
        ids,
        (1..=1000).collect::<Vec<u64>>(),
        "every customer once, in id order"
    );
}

#[tokio::test]
async fn jwt_tokens_are_renewed_the_same_way() {
    let sim = Sim::start(SimConfig {
        seed_customers: 3,
        token_format: TokenFormat::Jwt,
        ..Default::default()
    })
    .await;
    let client = sim.admin();
    client.customer(1).await.unwrap();
    sim.control(
        Method::POST,
        "/__sim/clock",
        Some(json!({"advance_secs": 3601})),
    )
    .await;
    assert_eq!(client.customer(2).await.unwrap().id, 2);
}

#[tokio::test]
async fn two_factor_is_named_with_the_way_out() {
    let sim = Sim::start(SimConfig {
        two_factor: Switch::On,
        ..Default::default()
    })
    .await;
    let err = sim.admin().ping().await.unwrap_err();
    assert!(matches!(err, Error::TwoFactor));
    assert_eq!(
        err.to_string(),
        "admin token login is blocked by two-factor authentication: use an integration token"
    );
}

#[tokio::test]
async fn bad_admin_credentials_say_so() {
    let sim = Sim::seeded(1).await;
    let client = MagentoClient::new(sim.connection(Auth::Admin {
        username: "admin".into(),
        password: "nope".into(),
    }))
    .unwrap();
    let err = client.ping().await.unwrap_err();
    assert_eq!(err.status(), Some(401));
    assert!(
        err.to_string()
            .contains("The account sign-in was incorrect"),
        "{err}"
    );
}

#[tokio::test]
async fn oauth_signed_and_bearer_integrations_work() {
    let sim = Sim::start(SimConfig {
        seed_customers: 20,
        integrations: vec!["crm".into()],
        integration_bearer: Switch::On,
        ..Default::default()
    })
    .await;
    let keys = sim.oauth_keys();
    let signed = MagentoClient::new(sim.connection(Auth::OAuth(keys.clone()))).unwrap();
    let who = signed.ping().await.unwrap();
    assert_eq!(
        (who.mode, who.customers),
        ("integration OAuth 1.0a", Some(20))
    );
    // A filtered, sorted search: query parameters are part of the signature.
    let all = signed
        .customers(
            SearchCriteria::new()
                .filter("email", mageflow_magento::Condition::Like, "%@example.com")
                .page_size(7),
        )
        .collect()
        .await
        .unwrap();
    assert_eq!(all.len(), 20);
    let bearer = MagentoClient::new(sim.connection(Auth::Bearer(keys.access_token))).unwrap();
    assert_eq!(bearer.customer(5).await.unwrap().id, 5);
}

#[tokio::test]
async fn a_bearer_token_without_the_setting_is_refused_with_the_resource_named() {
    let sim = Sim::seeded(2).await;
    let keys = sim.oauth_keys();
    let bearer = MagentoClient::new(sim.connection(Auth::Bearer(keys.access_token))).unwrap();
    let err = bearer.customer(1).await.unwrap_err();
    assert_eq!(
        err.refusal().and_then(|r| r.missing_resource()),
        Some("Magento_Customer::customer")
    );
}

#[tokio::test]
async fn customer_credentials_reach_their_own_record() {
    let sim = Sim::start(SimConfig {
        customers: vec![("me@example.com".into(), "Str0ng!Pass".into())],
        ..Default::default()
    })
    .await;
    let client = MagentoClient::new(sim.connection(Auth::Customer {
        email: "me@example.com".into(),
        password: "Str0ng!Pass".into(),
    }))
    .unwrap();
    let who = client.ping().await.unwrap();
    assert_eq!((who.mode, who.customer_id), ("customer token", Some(1)));
}

#[tokio::test]
async fn store_codes_scope_requests_and_an_unknown_code_is_named() {
    let sim = Sim::seeded(1).await;
    let b2b = MagentoClient::new(sim.connection(admin_auth()).store("b2b_en")).unwrap();
    let c = b2b
        .create_customer(&mageflow_magento::NewCustomer {
            email: "b2b@example.com".into(),
            firstname: "B".into(),
            lastname: "Two".into(),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!((c.website_id, c.store_id), (2, 2));
    let wrong = MagentoClient::new(sim.connection(admin_auth()).store("en_US")).unwrap();
    let err = wrong.customer(1).await.unwrap_err();
    assert_eq!(
        err.to_string(),
        "Magento has no store view with code \"en_US\": check the store code of the connection"
    );
}

/// A writer the tracing subscriber logs into.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn secrets_and_tokens_never_reach_the_logs() {
    let sim = Sim::seeded(3).await;
    let out = Captured::default();
    let sink = out.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(move || sink.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);
    let client = sim.admin();
    client.customer(1).await.unwrap();
    let keys = sim.oauth_keys();
    let signed = MagentoClient::new(sim.connection(Auth::OAuth(keys.clone()))).unwrap();
    signed.customer(2).await.unwrap();
    let logged = String::from_utf8(out.0.lock().unwrap().clone()).unwrap();
    assert!(
        logged.contains("magento.request"),
        "requests are traced: {logged}"
    );
    assert!(logged.contains("/V1/customers/1"));
    for secret in [
        "Admin123!",
        keys.consumer_secret.as_str(),
        keys.access_token.as_str(),
        keys.access_token_secret.as_str(),
    ] {
        assert!(!logged.contains(secret), "a secret leaked into the log");
    }
    let tokens = sim
        .server
        .sim
        .read()
        .tokens
        .keys()
        .cloned()
        .collect::<Vec<_>>();
    for t in tokens {
        assert!(!logged.contains(&t), "a token leaked into the log");
    }
}
