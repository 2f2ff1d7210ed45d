//! Hostile and malformed input: every request gets a Magento-shaped 4xx, never a panic or a
//! hang, and the simulator keeps serving afterwards.

use std::time::Duration;

use reqwest::Method;
use serde_json::Value;

use crate::support::Api;

#[tokio::test]
async fn a_negative_id_names_no_entity_exactly() {
    let api = Api::default().await;
    let t = api.admin_token().await;
    let (s, b) = api.delete("/V1/customers/-1", &t).await;
    assert_eq!(
        (s, b.to_string()),
        (404, r#"{"message":"No such entity with %fieldName = %fieldValue","parameters":{"fieldName":"customerId","fieldValue":-1}}"#.into())
    );
}

#[tokio::test]
async fn malformed_requests_get_a_clear_4xx_and_the_server_stays_up() {
    let api = Api::default().await;
    let t = api.admin_token().await;
    let deep = "[".repeat(10_000);
    /// Method, path, and an optional (content type, body).
    type Case = (Method, String, Option<(&'static str, String)>);
    let cases: Vec<Case> = vec![
        (Method::GET, "/V1/customers/search?searchCriteria[pageSize]=99999999999999999999999".into(), None),
        (Method::GET, "/V1/customers/search?searchCriteria[currentPage]=abc".into(), None),
        (Method::GET, "/V1/customers/search?searchCriteria[filter_groups][0][filters][0][value]=x".into(), None),
        (Method::GET, "/V1/customers/search?searchCriteria[filter_groups][0][filters][0][field]=id&searchCriteria[filter_groups][0][filters][0][condition_type]=regexp&searchCriteria[filter_groups][0][filters][0][value]=1".into(), None),
        (Method::GET, "/V1/customers/search?searchCriteria[bogus]=1".into(), None),
        (Method::GET, "/V1/customers/search?searchCriteria%5B%ZZ=1".into(), None),
        (Method::GET, "/V1/customers/99999999999999999999999".into(), None),
        (Method::POST, "/V1/customers".into(), Some(("application/json", deep))),
        (Method::POST, "/V1/customers".into(), Some(("application/json", String::new()))),
        (Method::POST, "/V1/customers".into(), Some(("application/json", "[1,2,3]".into()))),
        (Method::POST, "/V1/customers".into(), Some(("application/json", r#"{"customer":"nope"}"#.into()))),
        (Method::POST, "/V1/customers".into(), Some(("application/json", r#"{"customer":{"email":"a@b.co","firstname":"A","lastname":"B","group_id":"x"}}"#.into()))),
        (Method::POST, "/V1/customers".into(), Some(("application/json", r#"{"customer":{"email":"a@b.co","firstname":"A","lastname":"B","addresses":"x"}}"#.into()))),
        (Method::POST, "/V1/customers".into(), Some(("text/plain", "{}".into()))),
        (Method::POST, "/V1/customers".into(), Some(("application/json; charset=latin1", "{}".into()))),
        (Method::PUT, "/V1/customers/1".into(), Some(("application/json", r#"{"customer":{"addresses":[{"id":999999}]}}"#.into()))),
        (Method::PUT, "/async/bulk/V1/customers/byCustomerId".into(), Some(("application/json", r#"[{"customer":{"id":"x"}}]"#.into()))),
        (Method::PATCH, "/V1/customers/1".into(), None),
        (Method::GET, "/V2/customers/1".into(), None),
        (Method::GET, "/V1/bulk/x/operation-status/-3".into(), None),
    ];
    for (method, path, body) in cases {
        let mut req = api
            .http
            .request(method.clone(), api.url(&path))
            .bearer_auth(&t)
            .timeout(Duration::from_secs(5));
        if let Some((ct, text)) = body {
            req = req.header("content-type", ct).body(text);
        }
        let resp = req
            .send()
            .await
            .unwrap_or_else(|e| panic!("{method} {path}: {e}"));
        let status = resp.status().as_u16();
        let text = resp.text().await.unwrap();
        let json: Value = serde_json::from_str(&text)
            .unwrap_or_else(|_| panic!("{method} {path}: not JSON: {text}"));
        assert!(
            (400..500).contains(&status),
            "{method} {path}: {status} {text}"
        );
        assert!(
            json["message"].as_str().is_some_and(|m| !m.is_empty()),
            "{method} {path}: {text}"
        );
    }
    assert_eq!(api.get("/V1/customers/1", &t).await.0, 200, "still serving");
}
