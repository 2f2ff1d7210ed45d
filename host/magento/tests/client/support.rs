//! A simulator per test and clients for it.

use mageflow_magento::{Auth, Connection, MagentoClient, OAuthKeys, Retry};
use magento_sim::{Server, SimConfig};
use serde_json::Value;
use std::time::Duration;

pub(crate) struct Sim {
    pub(crate) server: Server,
    http: reqwest::Client,
}

impl Sim {
    pub(crate) async fn start(config: SimConfig) -> Sim {
        let server = magento_sim::start(config, "127.0.0.1:0")
            .await
            .expect("sim starts");
        Sim {
            server,
            http: reqwest::Client::new(),
        }
    }

    pub(crate) async fn seeded(n: usize) -> Sim {
        Sim::start(SimConfig {
            seed_customers: n,
            integrations: vec!["crm".into()],
            ..Default::default()
        })
        .await
    }

    pub(crate) fn connection(&self, auth: Auth) -> Connection {
        let mut c = Connection::new(self.server.url(), auth);
        // Tests inject faults; keep their backoff short.
        c.retry = Retry {
            max_retries: 6,
            base_delay: Duration::from_millis(5),
            max_delay: Duration::from_millis(50),
            ..Retry::default()
        };
        c
    }

    pub(crate) fn admin(&self) -> MagentoClient {
        MagentoClient::new(self.connection(admin_auth())).expect("client builds")
    }

    pub(crate) fn oauth_keys(&self) -> OAuthKeys {
        let i = self.server.sim.integrations().remove(0);
        OAuthKeys {
            consumer_key: i.consumer_key,
            consumer_secret: i.consumer_secret,
            access_token: i.access_token,
            access_token_secret: i.access_token_secret,
        }
    }

    pub(crate) async fn control(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> Value {
        let mut req = self
            .http
            .request(method, format!("{}{path}", self.server.url()));
        if let Some(b) = body {
            req = req.json(&b);
        }
        req.send()
            .await
            .expect("control answers")
            .json()
            .await
            .expect("control JSON")
    }

    pub(crate) async fn writes(&self) -> Vec<Value> {
        self.control(reqwest::Method::GET, "/__sim/writes", None)
            .await
            .as_array()
            .cloned()
            .unwrap_or_default()
    }
}

pub(crate) fn admin_auth() -> Auth {
    Auth::Admin {
        username: "admin".into(),
        password: "Admin123!".into(),
    }
}
