//! Tokens, lockout, expiry, revocation, 2FA, JWTs, OAuth 1.0a integrations and the ACL refusal.

use magento_sim::config::{Switch, TokenFormat};
use magento_sim::oauth::{Credentials, authorization};
use magento_sim::{Integration, SimConfig};
use reqwest::Method;
use serde_json::json;

use crate::support::Api;

const BAD_LOGIN: &str = r#"{"message":"The account sign-in was incorrect or your account is disabled temporarily. Please wait and try again later."}"#;

#[tokio::test]
async fn bad_credentials_answer_401_and_six_failures_lock_for_1800_seconds() {
    let api = Api::default().await;
    for _ in 0..6 {
        let (s, b) = api
            .post(
                "/V1/integration/admin/token",
                None,
                json!({"username": "admin", "password": "wrong"}),
            )
            .await;
        assert_eq!((s, b.to_string().as_str()), (401, BAD_LOGIN));
    }
    let (s, b) = api
        .post(
            "/V1/integration/admin/token",
            None,
            json!({"username": "admin", "password": "Admin123!"}),
        )
        .await;
    assert_eq!(
        (s, b.to_string().as_str()),
        (401, BAD_LOGIN),
        "locked: even the right password fails"
    );
    api.control(
        Method::POST,
        "/__sim/clock",
        Some(json!({"advance_secs": 1801})),
    )
    .await;
    let (s, b) = api
        .post(
            "/V1/integration/admin/token",
            None,
            json!({"username": "admin", "password": "Admin123!"}),
        )
        .await;
    assert_eq!(s, 200, "{b}");
    assert!(
        b.as_str().is_some_and(|t| t.len() == 32),
        "opaque token is a bare 32-char string: {b}"
    );
}

#[tokio::test]
async fn empty_credentials_answer_the_aggregate_400() {
    let api = Api::default().await;
    let (s, b) = api
        .post("/V1/integration/customer/token", None, json!({}))
        .await;
    assert_eq!(s, 400);
    assert_eq!(
        b.to_string(),
        r#"{"message":"One or more input exceptions have occurred.","errors":[{"message":"\"%fieldName\" is required. Enter and try again.","parameters":{"fieldName":"username"}},{"message":"\"%fieldName\" is required. Enter and try again.","parameters":{"fieldName":"password"}}]}"#
    );
}

#[tokio::test]
async fn acl_refusal_names_the_missing_resource() {
    let api = Api::start(SimConfig {
        seed_customers: 5,
        customers: vec![("c@example.com".into(), "Str0ng!Pass".into())],
        ..Default::default()
    })
    .await;
    let (s, b) = api
        .call(
            Method::GET,
            "/V1/customers/search?searchCriteria=",
            None,
            None,
        )
        .await;
    assert_eq!(
        (s, b.to_string()),
        (401, r#"{"message":"The consumer isn't authorized to access %resources.","parameters":{"resources":"Magento_Customer::customer"}}"#.into())
    );
    let (_, ct) = api
        .post(
            "/V1/integration/customer/token",
            None,
            json!({"username": "c@example.com", "password": "Str0ng!Pass"}),
        )
        .await;
    let (s, b) = api.delete("/V1/customers/1", ct.as_str().unwrap()).await;
    assert_eq!(
        (s, b["parameters"]["resources"].as_str()),
        (401, Some("Magento_Customer::delete"))
    );
    let (s, b) = api.get("/V1/customers/1", "not-a-token").await;
    assert_eq!(
        (s, b["parameters"]["resources"].as_str()),
        (401, Some("Magento_Customer::customer")),
        "an unknown token is a guest"
    );

    // An admin whose role only reads customers may not write them.
    let admin = api.admin_token().await;
    let (s, u) = api
        .post("/V1/users", Some(&admin), json!({"user": {"username": "support", "firstname": "Sup", "lastname": "Port", "email": "support@example.com", "password": "supp0rtpass", "role_id": 2}}))
        .await;
    assert_eq!(s, 200, "{u}");
    let (_, st) = api
        .post(
            "/V1/integration/admin/token",
            None,
            json!({"username": "support", "password": "supp0rtpass"}),
        )
        .await;
    let st = st.as_str().unwrap();
    assert_eq!(api.get("/V1/customers/1", st).await.0, 200);
    let (s, b) = api
        .put(
            "/V1/customers/1",
            st,
            json!({"customer": {"middlename": "x"}}),
        )
        .await;
    assert_eq!(
        (s, b["parameters"]["resources"].as_str()),
        (401, Some("Magento_Customer::manage"))
    );
}

#[tokio::test]
async fn tokens_expire_after_their_lifetime_and_can_be_revoked() {
    let api = Api::start(SimConfig {
        seed_customers: 2,
        customers: vec![("c@example.com".into(), "Str0ng!Pass".into())],
        admin_token_ttl: Some(120),
        ..Default::default()
    })
    .await;
    let admin = api.admin_token().await;
    let (_, ct) = api
        .post(
            "/V1/integration/customer/token",
            None,
            json!({"username": "c@example.com", "password": "Str0ng!Pass"}),
        )
        .await;
    let ct = ct.as_str().unwrap().to_owned();
    assert_eq!(api.get("/V1/customers/1", &admin).await.0, 200);
    api.control(
        Method::POST,
        "/__sim/clock",
        Some(json!({"advance_secs": 121})),
    )
    .await;
    let (s, b) = api.get("/V1/customers/1", &admin).await;
    assert_eq!(
        (s, b["parameters"]["resources"].as_str()),
        (401, Some("Magento_Customer::customer")),
        "expired admin token"
    );
    assert_eq!(
        api.get("/V1/customers/me", &ct).await.0,
        200,
        "customer token lives 1 h by default"
    );
    let admin = api.admin_token().await;
    let (s, b) = api
        .post(
            "/V1/integration/customer/revoke-customer-token",
            Some(&admin),
            json!({"customerId": 3}),
        )
        .await;
    assert_eq!((s, b), (200, json!(true)));
    let (s, b) = api.get("/V1/customers/me", &ct).await;
    assert_eq!(
        (s, b["parameters"]["resources"].as_str()),
        (401, Some("self"))
    );
}

#[tokio::test]
async fn two_factor_blocks_admin_token_login() {
    let api = Api::start(SimConfig {
        two_factor: Switch::On,
        ..Default::default()
    })
    .await;
    let (s, b) = api
        .post(
            "/V1/integration/admin/token",
            None,
            json!({"username": "admin", "password": "Admin123!"}),
        )
        .await;
    assert_eq!(
        (s, b.to_string()),
        (400, r#"{"message":"Please use the 2fa provider-specific endpoints to obtain a token.","parameters":{"active_providers":["google"]}}"#.into())
    );
    let (s, b) = api
        .post(
            "/V1/integration/admin/token",
            None,
            json!({"username": "admin", "password": "nope"}),
        )
        .await;
    assert_eq!(
        (s, b.to_string().as_str()),
        (401, BAD_LOGIN),
        "bad credentials are still a 401 first"
    );
}

#[tokio::test]
async fn jwt_tokens_carry_magentos_claims_and_live_60_minutes() {
    let api = Api::start(SimConfig {
        seed_customers: 1,
        token_format: TokenFormat::Jwt,
        ..Default::default()
    })
    .await;
    let t = api.admin_token().await;
    assert_eq!(t.split('.').count(), 3, "{t}");
    assert_eq!(api.get("/V1/customers/1", &t).await.0, 200);
    api.control(
        Method::POST,
        "/__sim/clock",
        Some(json!({"advance_secs": 3600})),
    )
    .await;
    assert_eq!(api.get("/V1/customers/1", &t).await.0, 401);
}

fn signed(
    api: &Api,
    i: &Integration,
    method: &str,
    path: &str,
    sig: &str,
    ts: i64,
    nonce: &str,
) -> reqwest::RequestBuilder {
    let url = api.url(path);
    let creds = Credentials {
        consumer_key: &i.consumer_key,
        consumer_secret: &i.consumer_secret,
        token: &i.access_token,
        token_secret: &i.access_token_secret,
    };
    let header = authorization(&creds, method, &url, sig, ts, nonce);
    api.http
        .request(method.parse().unwrap(), url)
        .header("Authorization", header)
}

#[tokio::test]
async fn oauth_signed_integration_requests_are_verified() {
    let api = Api::start(SimConfig {
        seed_customers: 3,
        integrations: vec!["crm".into()],
        ..Default::default()
    })
    .await;
    let i = api.server.sim.integrations().remove(0);
    let now = api.server.sim.clock.now();
    let path =
        "/V1/customers/search?searchCriteria[pageSize]=2&searchCriteria[sortOrders][0][field]=id";
    for (sig, nonce) in [("HMAC-SHA256", "n1"), ("HMAC-SHA1", "n2")] {
        let r = signed(&api, &i, "GET", path, sig, now, nonce)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 200, "{sig}");
    }
    let r = signed(&api, &i, "GET", path, "HMAC-SHA256", now, "n1")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 401);
    assert_eq!(
        r.text().await.unwrap(),
        r#"{"message":"The nonce is already being used by the consumer with ID %1","parameters":[1]}"#
    );
    let r = signed(&api, &i, "GET", path, "HMAC-SHA256", now + 3600, "n3")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 400);
    assert_eq!(
        r.text().await.unwrap(),
        r#"{"message":"Incorrect timestamp value in the oauth_timestamp parameter"}"#
    );
    // Signed for one URL, sent to another: the signature does not verify.
    let creds = Credentials {
        consumer_key: &i.consumer_key,
        consumer_secret: &i.consumer_secret,
        token: &i.access_token,
        token_secret: &i.access_token_secret,
    };
    let header = authorization(
        &creds,
        "GET",
        &api.url("/V1/customers/1"),
        "HMAC-SHA256",
        now,
        "n4",
    );
    let r = api
        .http
        .get(api.url("/V1/customers/2"))
        .header("Authorization", header)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 401);
    assert_eq!(
        r.text().await.unwrap(),
        r#"{"message":"The signature is invalid. Verify and try again."}"#
    );
    let (s, _) = api.get("/V1/customers/1", &i.access_token).await;
    assert_eq!(
        s, 401,
        "integration tokens are not bearer tokens unless configured"
    );
}

#[tokio::test]
async fn integration_tokens_work_as_bearer_when_enabled() {
    let api = Api::start(SimConfig {
        seed_customers: 1,
        integrations: vec!["crm".into()],
        integration_bearer: Switch::On,
        ..Default::default()
    })
    .await;
    let i = api.server.sim.integrations().remove(0);
    assert_eq!(api.get("/V1/customers/1", &i.access_token).await.0, 200);
}
