//! Where Magento is and who we are to it: base URL, store code, timeouts, limits, and one of
//! four ways to authenticate. Secrets are held here and nowhere else; `Debug` never shows them.

use std::time::Duration;

use crate::oauth::OAuthKeys;

/// How the client authenticates.
#[derive(Clone)]
pub enum Auth {
    /// Admin username and password: a token from `/V1/integration/admin/token`, cached and
    /// renewed once when Magento answers 401 (no lifetime is assumed).
    Admin {
        /// Admin username.
        username: String,
        /// Admin password.
        password: String,
    },
    /// Customer credentials, for the `/V1/customers/me` routes.
    Customer {
        /// Customer email.
        email: String,
        /// Customer password.
        password: String,
    },
    /// An integration's OAuth 1.0a keys: every request is signed (HMAC-SHA256).
    OAuth(OAuthKeys),
    /// An integration access token used as a bearer token (needs Magento's
    /// `oauth/consumer/enable_integration_as_bearer`).
    Bearer(String),
}

impl Auth {
    /// The mode's name, for people: `admin token`, `customer token`, `integration OAuth 1.0a`,
    /// `integration bearer token`.
    pub fn mode(&self) -> &'static str {
        match self {
            Auth::Admin { .. } => "admin token",
            Auth::Customer { .. } => "customer token",
            Auth::OAuth(_) => "integration OAuth 1.0a",
            Auth::Bearer(_) => "integration bearer token",
        }
    }

    /// Who: the username, email or consumer key (never a secret).
    pub fn principal(&self) -> String {
        match self {
            Auth::Admin { username, .. } => username.clone(),
            Auth::Customer { email, .. } => email.clone(),
            Auth::OAuth(keys) => format!("integration with consumer key {}", keys.consumer_key),
            Auth::Bearer(_) => "an integration".to_owned(),
        }
    }
}

impl std::fmt::Debug for Auth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Auth({}: {})", self.mode(), self.principal())
    }
}

/// Retry policy for requests that are safe to repeat.
#[derive(Debug, Clone)]
pub struct Retry {
    /// Retries after the first attempt.
    pub max_retries: u32,
    /// First backoff; doubles each retry, with full jitter.
    pub base_delay: Duration,
    /// Longest backoff.
    pub max_delay: Duration,
    /// Longest `Retry-After` honoured (a longer one fails the request instead of hanging).
    pub max_retry_after: Duration,
}

impl Default for Retry {
    fn default() -> Self {
        Retry {
            max_retries: 4,
            base_delay: Duration::from_millis(100),
            max_delay: Duration::from_secs(10),
            max_retry_after: Duration::from_secs(120),
        }
    }
}

/// The password rules the store enforces for customers (Magento's defaults: 8 characters,
/// 3 classes). The client checks them before sending so the error names the rule.
#[derive(Debug, Clone)]
pub struct PasswordRules {
    /// `customer/password/minimum_password_length`.
    pub min_length: usize,
    /// `customer/password/required_character_classes_number`.
    pub required_classes: usize,
}

impl Default for PasswordRules {
    fn default() -> Self {
        PasswordRules {
            min_length: 8,
            required_classes: 3,
        }
    }
}

/// Everything needed to talk to one Magento.
#[derive(Debug, Clone)]
pub struct Connection {
    /// `https://shop.example.com` (a trailing `/rest` is accepted too).
    pub base_url: String,
    /// Store view code for `/rest/<code>/V1/...`; `None` uses the default store.
    pub store: Option<String>,
    /// How to authenticate.
    pub auth: Auth,
    /// Whole-request timeout.
    pub timeout: Duration,
    /// TCP connect timeout.
    pub connect_timeout: Duration,
    /// Retries for idempotent requests.
    pub retry: Retry,
    /// Most requests per second (Magento has no limit of its own); `None` is unlimited.
    pub rate_limit: Option<f64>,
    /// Most requests in flight at once.
    pub concurrency: usize,
    /// Customer password rules checked before a create.
    pub password_rules: PasswordRules,
}

impl Connection {
    /// A connection with sensible defaults: 30 s timeout, 4 retries, 16 requests in flight.
    pub fn new(base_url: impl Into<String>, auth: Auth) -> Connection {
        Connection {
            base_url: base_url.into(),
            store: None,
            auth,
            timeout: Duration::from_secs(30),
            connect_timeout: Duration::from_secs(5),
            retry: Retry::default(),
            rate_limit: None,
            concurrency: 16,
            password_rules: PasswordRules::default(),
        }
    }

    /// Scopes every request to a store view (`/rest/<code>/V1/...`).
    pub fn store(mut self, code: impl Into<String>) -> Connection {
        self.store = Some(code.into());
        self
    }

    /// `http://host/rest` with no trailing slash.
    pub(crate) fn rest_root(&self) -> String {
        let base = self.base_url.trim_end_matches('/');
        let base = base.strip_suffix("/rest").unwrap_or(base);
        format!("{base}/rest")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_a_base_url_with_or_without_rest() {
        let a = Auth::Bearer("t".into());
        assert_eq!(
            Connection::new("http://h:1/", a.clone()).rest_root(),
            "http://h:1/rest"
        );
        assert_eq!(
            Connection::new("http://h:1/rest/", a).rest_root(),
            "http://h:1/rest"
        );
    }

    #[test]
    fn debug_output_holds_no_secret() {
        let c = Connection::new(
            "http://h",
            Auth::Admin {
                username: "ops".into(),
                password: "hunter2-secret".into(),
            },
        );
        let shown = format!("{c:?}");
        assert!(
            shown.contains("ops") && !shown.contains("hunter2-secret"),
            "{shown}"
        );
        let b = format!("{:?}", Auth::Bearer("tok-secret".into()));
        assert!(!b.contains("tok-secret"));
    }
}
