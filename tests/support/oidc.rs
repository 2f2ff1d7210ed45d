//! A real OpenID Connect provider for tests (panva's `oidc-provider` from the npm registry,
//! run by `tests/oidc/provider.mjs` under the machine's Node.js), behind a proxy on loopback
//! that can tamper with the provider's token answers the way an attacker on the path would:
//! an ID token issued to another client, a broken signature, or one held back until it has
//! expired. The provider is installed into the target directory the first time (`npm ci`).

#![allow(
    dead_code,
    unreachable_pub,
    reason = "shared by several test crates, each of which uses a part"
)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde_json::Value;

/// What the proxy does to the provider's token answers.
#[derive(Debug, Clone, Default)]
pub enum Tamper {
    /// Nothing: a plain pass-through.
    #[default]
    None,
    /// Trades the code as this other client (id, secret), so the ID token's audience is
    /// that client.
    AsClient(String, String),
    /// Changes one character of the ID token's signature.
    BreakSignature,
    /// Holds the answer back this long.
    Delay(Duration),
}

/// A running provider and its proxy; the issuer is the proxy's URL.
pub struct Provider {
    child: Child,
    pub issuer: String,
    pub tamper: Arc<Mutex<Tamper>>,
}

impl Drop for Provider {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

static INSTALL: Mutex<()> = Mutex::new(());

/// `tests/oidc` copied into the target directory with its packages installed.
fn installed() -> PathBuf {
    let _once = INSTALL.lock().unwrap_or_else(|e| e.into_inner());
    let source = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/oidc");
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("oidc-provider");
    std::fs::create_dir_all(&dir).unwrap();
    let lock = std::fs::read(source.join("package-lock.json")).unwrap();
    let current = dir
        .join("node_modules/oidc-provider/package.json")
        .is_file()
        && std::fs::read(dir.join("package-lock.json")).ok().as_ref() == Some(&lock);
    for f in ["package.json", "package-lock.json", "provider.mjs"] {
        std::fs::copy(source.join(f), dir.join(f)).unwrap();
    }
    if !current {
        eprintln!("installing oidc-provider (npm ci) into {}", dir.display());
        let o = Command::new("npm")
            .args(["ci", "--no-audit", "--no-fund", "--loglevel=error"])
            .current_dir(&dir)
            .output()
            .expect("npm runs (Debian's nodejs package)");
        assert!(
            o.status.success(),
            "npm ci failed: {}",
            String::from_utf8_lossy(&o.stderr)
        );
    }
    dir
}

impl Provider {
    /// Starts the provider with `clients` and `accounts` (see provider.mjs), its ID tokens
    /// living `id_token_ttl` seconds.
    pub async fn start(clients: Value, accounts: Value, id_token_ttl: u64) -> Provider {
        let dir = installed();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let issuer = format!("http://{}", listener.local_addr().unwrap());
        let mut child = Command::new("node")
            .arg("provider.mjs")
            .current_dir(&dir)
            .env("OIDC_ISSUER", &issuer)
            .env("OIDC_CLIENTS", clients.to_string())
            .env("OIDC_ACCOUNTS", accounts.to_string())
            .env("OIDC_ID_TOKEN_TTL", id_token_ttl.to_string())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("node runs");
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let upstream = loop {
            let line = lines
                .next()
                .expect("the provider printed its address before exiting")
                .unwrap();
            if let Some(url) = line.strip_prefix("listening ") {
                break url.to_owned();
            }
        };
        std::thread::spawn(move || for _ in lines {});
        let tamper = Arc::new(Mutex::new(Tamper::None));
        let state = Proxy {
            upstream,
            tamper: tamper.clone(),
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
        };
        let app = axum::Router::new().fallback(forward).with_state(state);
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        Provider {
            child,
            issuer,
            tamper,
        }
    }

    pub fn set(&self, tamper: Tamper) {
        *self.tamper.lock().unwrap() = tamper;
    }
}

#[derive(Clone)]
struct Proxy {
    upstream: String,
    tamper: Arc<Mutex<Tamper>>,
    http: reqwest::Client,
}

async fn forward(
    State(proxy): State<Proxy>,
    method: Method,
    uri: Uri,
    mut headers: HeaderMap,
    body: Bytes,
) -> Response {
    let path = uri.path_and_query().map_or("/", |p| p.as_str()).to_owned();
    let token_call = uri.path() == "/token";
    let tamper = proxy.tamper.lock().unwrap().clone();
    // The Host header stays: the provider writes its endpoints' URLs from it.
    if let (true, Tamper::AsClient(id, secret)) = (token_call, &tamper) {
        use base64::Engine as _;
        let basic = base64::engine::general_purpose::STANDARD.encode(format!("{id}:{secret}"));
        headers.insert(
            "authorization",
            HeaderValue::from_str(&format!("Basic {basic}")).unwrap(),
        );
    }
    let answer = proxy
        .http
        .request(method, format!("{}{path}", proxy.upstream))
        .headers(headers)
        .body(body)
        .send()
        .await;
    let answer = match answer {
        Ok(a) => a,
        Err(e) => return (StatusCode::BAD_GATEWAY, e.to_string()).into_response(),
    };
    let status = answer.status();
    let mut out_headers = answer.headers().clone();
    let mut bytes = answer.bytes().await.unwrap_or_default().to_vec();
    if token_call {
        match &tamper {
            Tamper::BreakSignature => {
                let mut v: Value = serde_json::from_slice(&bytes).unwrap();
                let token = v["id_token"].as_str().unwrap().to_owned();
                let at = token.rfind('.').unwrap() + 10;
                let mut chars: Vec<char> = token.chars().collect();
                chars[at] = if chars[at] == 'A' { 'B' } else { 'A' };
                v["id_token"] = Value::String(chars.into_iter().collect());
                bytes = serde_json::to_vec(&v).unwrap();
            }
            Tamper::Delay(d) => tokio::time::sleep(*d).await,
            _ => {}
        }
    }
    out_headers.remove("content-length");
    out_headers.remove("transfer-encoding");
    let mut r = (status, bytes).into_response();
    r.headers_mut().extend(out_headers);
    r
}
