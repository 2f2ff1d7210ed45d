//! The transport every call goes through: URL building with the store code, authentication
//! (token cache with one re-login on 401, OAuth signing, bearer), client-side rate and
//! concurrency limits, retries with backoff and jitter for requests that are safe to repeat,
//! `Retry-After`, a tracing span per request, and Magento's errors kept whole.

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use percent_encoding::percent_decode_str;
use rand::Rng as _;
use reqwest::{Method, StatusCode, header};
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use tokio::sync::{Mutex, OnceCell, RwLock, Semaphore};
use tracing::Instrument as _;

use crate::connection::{Auth, Connection};
use crate::error::{Error, Refusal, Result};
use crate::oauth;
use crate::types::Website;

/// Which failures the transport may answer by sending a request again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Repeat {
    /// A read: any transient failure (429, 5xx, timeout, dropped connection) is retried.
    Safe,
    /// A write: retried only when the failure provably came before the request was sent (a
    /// refused connection, DNS). Any other failure leaves its fate unknown and goes back to
    /// the caller, which checks whether it landed before sending it again (see
    /// [`MagentoClient::write`]).
    IfUnsent,
}

/// A Magento REST client. Cheap to share behind an `Arc`; every method takes `&self`.
#[derive(Debug)]
pub struct MagentoClient {
    http: reqwest::Client,
    pub(crate) conn: Connection,
    scoped: String,
    token: RwLock<Option<String>>,
    login: Mutex<()>,
    permits: Semaphore,
    next_slot: Mutex<Instant>,
    pub(crate) websites: OnceCell<Vec<Website>>,
    observer: Option<Arc<dyn Observer>>,
}

/// Told of every HTTP exchange with Magento and every retry, e.g. to keep metrics. Called on
/// the request's task: keep it quick.
pub trait Observer: Send + Sync + std::fmt::Debug {
    /// An exchange ended: its HTTP status, or `None` when no answer came (transport error or
    /// timeout), and how long it took.
    fn exchange(&self, method: &str, status: Option<u16>, took: Duration);
    /// A request is about to be sent again; `reason` is `status-<code>`, `transport`, or
    /// `token-expired`.
    fn retry(&self, method: &str, reason: &str);
}

const TWO_FACTOR: &[&str] = &[
    "Please use the 2fa provider-specific endpoints to obtain a token.",
    "You are required to configure personal Two-Factor Authorization in order to login. Please check your email.",
    "Please ask an administrator with sufficient access to configure 2FA first",
];

impl MagentoClient {
    /// A client for `conn`. Nothing is sent until the first call.
    pub fn new(conn: Connection) -> Result<MagentoClient> {
        if conn.concurrency == 0 {
            return Err(Error::Config("concurrency must be at least 1".into()));
        }
        if conn.rate_limit.is_some_and(|r| r <= 0.0 || !r.is_finite()) {
            return Err(Error::Config(
                "rate limit must be a positive number of requests per second".into(),
            ));
        }
        if !(conn.base_url.starts_with("http://") || conn.base_url.starts_with("https://")) {
            return Err(Error::Config(format!(
                "Magento URL {:?} must start with http:// or https://",
                conn.base_url
            )));
        }
        // The whole-request timeout is applied per exchange with tokio (see `send`): reqwest's
        // own total timeout costs about 10 µs a request, 10 % of a loopback PUT-merge.
        let http = reqwest::Client::builder()
            .connect_timeout(conn.connect_timeout)
            .pool_max_idle_per_host(conn.concurrency)
            .build()
            .map_err(|e| Error::Config(format!("cannot build the HTTP client: {e}")))?;
        let scoped = match &conn.store {
            Some(code) => format!("{}/{}", conn.rest_root(), oauth::percent(code)),
            None => conn.rest_root(),
        };
        Ok(MagentoClient {
            http,
            permits: Semaphore::new(conn.concurrency),
            conn,
            scoped,
            token: RwLock::new(None),
            login: Mutex::new(()),
            next_slot: Mutex::new(Instant::now()),
            websites: OnceCell::new(),
            observer: None,
        })
    }

    /// Tells `observer` of every exchange and retry from now on.
    #[must_use]
    pub fn with_observer(mut self, observer: Arc<dyn Observer>) -> MagentoClient {
        self.observer = Some(observer);
        self
    }

    fn observe_exchange(&self, method: &Method, status: Option<u16>, took: Duration) {
        if let Some(o) = &self.observer {
            o.exchange(method.as_str(), status, took);
        }
    }

    pub(crate) fn observe_retry(&self, method: &Method, reason: &str) {
        if let Some(o) = &self.observer {
            o.retry(method.as_str(), reason);
        }
    }

    /// The connection this client uses.
    pub fn connection(&self) -> &Connection {
        &self.conn
    }

    /// One request to an API path (`/V1/customers/5`, `/async/bulk/V1/customers`), scoped to
    /// the connection's store. Returns the JSON answer.
    pub async fn request(
        &self,
        method: Method,
        path: &str,
        query: &str,
        body: Option<&Value>,
        repeat: Repeat,
    ) -> Result<Value> {
        self.call(method, path, query, body, repeat).await
    }

    /// [`MagentoClient::request`], decoding the answer straight into `T`.
    pub async fn call<T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        query: &str,
        body: Option<&Value>,
        repeat: Repeat,
    ) -> Result<T> {
        let span = tracing::debug_span!(
            "magento.request",
            method = %method,
            path,
            status = tracing::field::Empty,
            attempts = tracing::field::Empty,
            duration_ms = tracing::field::Empty
        );
        self.send(method, path, query, body, repeat)
            .instrument(span)
            .await
    }

    async fn send<T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        query: &str,
        body: Option<&Value>,
        repeat: Repeat,
    ) -> Result<T> {
        let started = Instant::now();
        let base_uri = format!("{}{path}", self.scoped);
        let url = if query.is_empty() {
            base_uri.clone()
        } else {
            format!("{base_uri}?{query}")
        };
        let mut attempt: u32 = 0;
        let mut relogged = false;
        let span = tracing::Span::current();
        loop {
            let permit = self
                .permits
                .acquire()
                .await
                .expect("the semaphore is never closed");
            self.pace().await;
            // Asked last, just before the request leaves.
            crate::guard::check(self.conn.timeout)?;
            let (mut req, used_token) = self
                .authorize(
                    self.http.request(method.clone(), &url),
                    &method,
                    &base_uri,
                    query,
                )
                .await?;
            if let Some(b) = body {
                req = req.json(b);
            }
            let sent = Instant::now();
            let exchange = async {
                let resp = req.send().await?;
                let status = resp.status();
                let retry_after = resp
                    .headers()
                    .get(header::RETRY_AFTER)
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| v.trim().parse::<u64>().ok())
                    .map(Duration::from_secs);
                resp.bytes().await.map(|b| (status, retry_after, b))
            };
            let outcome = match tokio::time::timeout(self.conn.timeout, exchange).await {
                Ok(Ok(answer)) => Ok(answer),
                Ok(Err(e)) => Err(Some(e)),
                Err(_elapsed) => Err(None),
            };
            drop(permit);
            self.observe_exchange(
                &method,
                outcome.as_ref().ok().map(|(s, _, _)| s.as_u16()),
                sent.elapsed(),
            );
            span.record("attempts", attempt + 1);
            let can_retry = repeat == Repeat::Safe && attempt < self.conn.retry.max_retries;
            // A write is repeated here only if it never left: a connection that was refused.
            let unsent = matches!(&outcome, Err(Some(e)) if e.is_connect());
            let can_resend = can_retry || (unsent && attempt < self.conn.retry.max_retries);
            match outcome {
                Ok((status, _, bytes)) if status.is_success() => {
                    span.record("status", status.as_u16());
                    span.record("duration_ms", started.elapsed().as_millis() as u64);
                    tracing::debug!(parent: &span, "ok");
                    return serde_json::from_slice(&bytes).map_err(|e| Error::Decode {
                        method: method.to_string(),
                        path: path.to_owned(),
                        detail: format!(
                            "{e} (body starts {:?})",
                            String::from_utf8_lossy(&bytes[..bytes.len().min(120)])
                        ),
                    });
                }
                Ok((StatusCode::UNAUTHORIZED, _, _)) if !relogged && self.uses_login() => {
                    // The token may have expired or been revoked: log in again, once.
                    relogged = true;
                    self.forget_token(used_token.as_deref()).await;
                    self.observe_retry(&method, "token-expired");
                    tracing::debug!(parent: &span, "401: logging in again");
                }
                Ok((status, retry_after, bytes)) => {
                    span.record("status", status.as_u16());
                    let transient =
                        status == StatusCode::TOO_MANY_REQUESTS || status.is_server_error();
                    // A Retry-After longer than we are willing to wait fails now rather than hang.
                    let honourable =
                        retry_after.is_none_or(|d| d <= self.conn.retry.max_retry_after);
                    if transient && can_retry && honourable {
                        let wait = retry_after.unwrap_or_else(|| self.backoff(attempt));
                        self.observe_retry(&method, &format!("status-{}", status.as_u16()));
                        tracing::debug!(parent: &span, status = status.as_u16(), wait_ms = wait.as_millis() as u64, "retrying");
                        tokio::time::sleep(wait).await;
                        attempt += 1;
                        continue;
                    }
                    span.record("duration_ms", started.elapsed().as_millis() as u64);
                    let refusal =
                        Refusal::from_body(method.as_str(), path, status.as_u16(), &bytes);
                    tracing::debug!(parent: &span, status = status.as_u16(), "refused");
                    return Err(self.classify(refusal));
                }
                Err(failure) => {
                    let shown = failure
                        .as_ref()
                        .map_or_else(|| "timed out".to_owned(), ToString::to_string);
                    if can_resend {
                        let wait = self.backoff(attempt);
                        self.observe_retry(&method, "transport");
                        tracing::debug!(parent: &span, error = %shown, wait_ms = wait.as_millis() as u64, "transport error; retrying");
                        tokio::time::sleep(wait).await;
                        attempt += 1;
                        continue;
                    }
                    return Err(match failure {
                        Some(e) => Error::Transport {
                            method: method.to_string(),
                            path: path.to_owned(),
                            source: e.without_url(),
                        },
                        None => Error::Timeout {
                            method: method.to_string(),
                            path: path.to_owned(),
                            after: self.conn.timeout,
                        },
                    });
                }
            }
        }
    }

    fn uses_login(&self) -> bool {
        matches!(self.conn.auth, Auth::Admin { .. } | Auth::Customer { .. })
    }

    /// Exponential backoff with jitter: half fixed, half random, capped.
    pub(crate) fn backoff(&self, attempt: u32) -> Duration {
        let r = &self.conn.retry;
        let full = r
            .base_delay
            .saturating_mul(1u32 << attempt.min(16))
            .min(r.max_delay);
        let half = full / 2;
        half + half.mul_f64(rand::thread_rng().r#gen::<f64>())
    }

    /// Waits for the next slot of the client-side rate limit.
    async fn pace(&self) {
        let Some(rate) = self.conn.rate_limit else {
            return;
        };
        let interval = Duration::from_secs_f64(1.0 / rate);
        let wait = {
            let mut next = self.next_slot.lock().await;
            let now = Instant::now();
            let at = (*next).max(now);
            *next = at + interval;
            at - now
        };
        if !wait.is_zero() {
            tokio::time::sleep(wait).await;
        }
    }

    /// Adds credentials; returns the bearer token used, if any, so a 401 can retire it.
    async fn authorize(
        &self,
        req: reqwest::RequestBuilder,
        method: &Method,
        base_uri: &str,
        query: &str,
    ) -> Result<(reqwest::RequestBuilder, Option<String>)> {
        match &self.conn.auth {
            Auth::Bearer(token) => Ok((req.bearer_auth(token), None)),
            Auth::OAuth(keys) => {
                let pairs: Vec<(String, String)> = query
                    .split('&')
                    .filter(|p| !p.is_empty())
                    .map(|p| {
                        let (k, v) = p.split_once('=').unwrap_or((p, ""));
                        let dec = |s: &str| {
                            percent_decode_str(&s.replace('+', " "))
                                .decode_utf8_lossy()
                                .into_owned()
                        };
                        (dec(k), dec(v))
                    })
                    .collect();
                let now = SystemTime::now()
                    .duration_since(UNIX_EPOCH)
                    .map_or(0, |d| d.as_secs());
                let nonce: String = rand::thread_rng()
                    .sample_iter(rand::distributions::Alphanumeric)
                    .take(32)
                    .map(char::from)
                    .collect();
                let header = oauth::header(
                    keys,
                    oauth::Method::HmacSha256,
                    method.as_str(),
                    base_uri,
                    &pairs,
                    now,
                    &nonce,
                );
                Ok((req.header(header::AUTHORIZATION, header), None))
            }
            Auth::Admin { .. } | Auth::Customer { .. } => {
                let token = self.token().await?;
                Ok((req.bearer_auth(&token), Some(token)))
            }
        }
    }

    /// The cached token, logging in when there is none.
    async fn token(&self) -> Result<String> {
        if let Some(t) = self.token.read().await.clone() {
            return Ok(t);
        }
        let _one_login_at_a_time = self.login.lock().await;
        if let Some(t) = self.token.read().await.clone() {
            return Ok(t);
        }
        let token = self.log_in().await?;
        *self.token.write().await = Some(token.clone());
        Ok(token)
    }

    async fn forget_token(&self, used: Option<&str>) {
        let _guard = self.login.lock().await;
        let mut slot = self.token.write().await;
        // Another task may already have replaced it; only drop the one that failed.
        if slot.as_deref() == used {
            *slot = None;
        }
    }

    async fn log_in(&self) -> Result<String> {
        let (path, username, password) = match &self.conn.auth {
            Auth::Admin { username, password } => {
                ("/V1/integration/admin/token", username, password)
            }
            Auth::Customer { email, password } => {
                ("/V1/integration/customer/token", email, password)
            }
            _ => unreachable!("only login-based auth logs in"),
        };
        let url = format!("{}{path}", self.scoped);
        let body = json!({ "username": username, "password": password });
        let mut attempt = 0;
        loop {
            self.pace().await;
            let exchange = async {
                let resp = self.http.post(&url).json(&body).send().await?;
                let status = resp.status();
                resp.bytes().await.map(|b| (status, b))
            };
            let (status, bytes) = match tokio::time::timeout(self.conn.timeout, exchange).await {
                Ok(Ok(answer)) => answer,
                failed if attempt < self.conn.retry.max_retries => {
                    let shown = match failed {
                        Ok(Err(e)) => e.to_string(),
                        _ => "timed out".to_owned(),
                    };
                    tracing::debug!(error = %shown, "login transport error; retrying");
                    tokio::time::sleep(self.backoff(attempt)).await;
                    attempt += 1;
                    continue;
                }
                Ok(Err(e)) => {
                    return Err(Error::Transport {
                        method: "POST".into(),
                        path: path.into(),
                        source: e.without_url(),
                    });
                }
                Err(_elapsed) => {
                    return Err(Error::Timeout {
                        method: "POST".into(),
                        path: path.into(),
                        after: self.conn.timeout,
                    });
                }
            };
            if status.is_success() {
                return match serde_json::from_slice::<Value>(&bytes) {
                    Ok(Value::String(token)) => Ok(token),
                    _ => Err(Error::Decode {
                        method: "POST".into(),
                        path: path.into(),
                        detail: "the token service did not answer a JSON string".into(),
                    }),
                };
            }
            if (status.is_server_error() || status == StatusCode::TOO_MANY_REQUESTS)
                && attempt < self.conn.retry.max_retries
            {
                tokio::time::sleep(self.backoff(attempt)).await;
                attempt += 1;
                continue;
            }
            let refusal = Refusal::from_body("POST", path, status.as_u16(), &bytes);
            if status == StatusCode::BAD_REQUEST && TWO_FACTOR.contains(&refusal.template.as_str())
            {
                return Err(Error::TwoFactor);
            }
            return Err(self.classify(refusal));
        }
    }

    /// Turns router 404s into what they mean for this connection.
    fn classify(&self, refusal: Refusal) -> Error {
        if refusal.is_no_route() {
            if refusal.path.starts_with("/V1/users") || refusal.path.starts_with("/V1/roles") {
                return Error::AdminUsersApiMissing;
            }
            if let Some(code) = &self.conn.store {
                return Error::UnknownStore { code: code.clone() };
            }
        }
        Error::Refused(Box::new(refusal))
    }
}
