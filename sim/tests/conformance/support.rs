//! A tiny HTTP helper around one running simulator.

use magento_sim::{Server, SimConfig};
use reqwest::Method;
use serde_json::{Value, json};

pub(crate) struct Api {
    pub(crate) server: Server,
    pub(crate) http: reqwest::Client,
}

/// A status and a decoded JSON body (`Value::Null` when the body is not JSON).
pub(crate) type Answer = (u16, Value);

impl Api {
    pub(crate) async fn start(config: SimConfig) -> Api {
        let server = magento_sim::start(config, "127.0.0.1:0")
            .await
            .expect("sim starts");
        Api {
            server,
            http: reqwest::Client::new(),
        }
    }

    pub(crate) async fn default() -> Api {
        Api::start(SimConfig {
            seed_customers: 50,
            ..Default::default()
        })
        .await
    }

    pub(crate) fn url(&self, path: &str) -> String {
        format!("{}{}", self.server.rest_url(), path)
    }

    pub(crate) async fn call(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> Answer {
        let mut req = self.http.request(method, self.url(path));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req.send().await.expect("request is answered");
        let status = resp.status().as_u16();
        let text = resp.text().await.expect("body reads");
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    pub(crate) async fn get(&self, path: &str, token: &str) -> Answer {
        self.call(Method::GET, path, Some(token), None).await
    }

    pub(crate) async fn post(&self, path: &str, token: Option<&str>, body: Value) -> Answer {
        self.call(Method::POST, path, token, Some(body)).await
    }

    pub(crate) async fn put(&self, path: &str, token: &str, body: Value) -> Answer {
        self.call(Method::PUT, path, Some(token), Some(body)).await
    }

    pub(crate) async fn delete(&self, path: &str, token: &str) -> Answer {
        self.call(Method::DELETE, path, Some(token), None).await
    }

    pub(crate) async fn admin_token(&self) -> String {
        let (status, body) = self
            .post(
                "/V1/integration/admin/token",
                None,
                json!({"username": "admin", "password": "Admin123!"}),
            )
            .await;
        assert_eq!(status, 200, "admin login: {body}");
        body.as_str()
            .expect("token is a bare JSON string")
            .to_owned()
    }

    /// A control endpoint under `/__sim/`.
    pub(crate) async fn control(&self, method: Method, path: &str, body: Option<Value>) -> Value {
        let mut req = self
            .http
            .request(method, format!("{}{}", self.server.url(), path));
        if let Some(b) = body {
            req = req.json(&b);
        }
        req.send()
            .await
            .expect("control answers")
            .json()
            .await
            .expect("control answers JSON")
    }

    pub(crate) async fn create_customer(&self, token: &str, email: &str, website_id: u32) -> Value {
        let (status, body) = self
            .post(
                "/V1/customers",
                Some(token),
                json!({"customer": {"email": email, "firstname": "New", "lastname": "User", "website_id": website_id},
                       "password": "Str0ng!Pass"}),
            )
            .await;
        assert_eq!(status, 200, "create {email}: {body}");
        body
    }
}

/// An address with every field Magento requires.
pub(crate) fn address(street: &str) -> Value {
    json!({"firstname": "Jane", "lastname": "Doe", "street": [street], "city": "Austin", "telephone": "555-0100",
           "postcode": "78701", "country_id": "US", "region": {"region_code": "TX", "region": "Texas", "region_id": 57}})
}
