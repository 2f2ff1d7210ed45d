//! Single sign-on for the pages against a real OpenID Connect provider (`oidc-provider`,
//! started by the tests on loopback): a sign-in maps the provider's groups to roles and
//! sign-out ends it; a tampered `state`, a wrong `nonce`, an ID token for another audience,
//! a bad signature or an expired ID token each open no session and change nothing. The
//! browser test signs in through the provider in headless Chromium and approves.

#[path = "../../../../tests/support/browser.rs"]
mod browser;
use crate::harness;
#[path = "../../../../tests/support/oidc.rs"]
mod oidc;

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use harness::{Snapshot, csrf_of};
use mageflow_engine::{Engine, Workflow};
use mageflow_server::{AccessConfig, EnvTokens, Role, SsoConfig};
use mageflow_store::Status;
use magento_sim::{Server, SimConfig};
use oidc::{Provider, Tamper};
use reqwest::StatusCode;
use serde_json::json;

const ALICE: &str = "alice-token-0123456789abcdef012345678";
const SECRET: &str = "mageflow-client-secret-0123456789abcdef";

struct Setup {
    sim: Server,
    engine: Arc<Engine>,
    url: String,
    provider: Provider,
    approval: u64,
}

impl Setup {
    fn snapshot(&self) -> Snapshot {
        Snapshot::of(&self.engine, &self.sim)
    }
}

fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// A sim, a provider, and `mageflow serve` signing in through it; alice's run of `mover`
/// (approvers bob and group leads) waits for its approval. ID tokens live `id_ttl` s.
async fn setup(id_ttl: u64) -> Setup {
    let sim = magento_sim::start(SimConfig::default(), "127.0.0.1:0")
        .await
        .unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let callback = format!("{url}/ui/sso/callback");
    let provider = Provider::start(
        json!([
            {"client_id": "mageflow", "client_secret": SECRET, "redirect_uris": [callback]},
            {"client_id": "other-app", "client_secret": "other-secret-0123456789abcdef0123",
             "redirect_uris": [callback]}
        ]),
        json!({
            "bob": {"email": "bob@example.com", "groups": ["approvers"]},
            "lena": {"email": "lena@example.com", "groups": ["approvers", "leads"]},
            "olga": {"email": "olga@example.com", "groups": ["operators"]},
            "sam": {"email": "sam@example.com", "groups": ["staff"]}
        }),
        id_ttl,
    )
    .await;
    let client = harness::magento(&sim);
    let engine = harness::engine("sso-compile-cache");
    let mover = format!(
        "name = \"mover\"\nplugin = {:?}\ngrants = [\"customers:read\", \"customers:write\", \"bulk\", \"approvals\"]\n\
         [approvals]\napprovers = [\"bob\", \"group:leads\"]\n",
        mageflow_test_artifacts::UPDATE_EACH,
    );
    let wf = Workflow::parse(Path::new("mover.toml"), &mover).unwrap();
    engine.add(wf, client).unwrap();
    let access = AccessConfig {
        env_tokens: EnvTokens::parse(&format!("alice={ALICE}")).unwrap(),
        sso: Some(SsoConfig {
            issuer: provider.issuer.clone(),
            client_id: "mageflow".into(),
            client_secret: SECRET.into(),
            redirect_url: callback,
            groups_claim: "groups".into(),
            username_claim: "preferred_username".into(),
            scopes: vec!["profile".into(), "email".into(), "groups".into()],
            roles: vec![
                ("approvers".into(), vec![Role::Approver, Role::Viewer]),
                ("operators".into(), vec![Role::Operator, Role::Viewer]),
            ],
        }),
        ..AccessConfig::default()
    };
    let serving = engine.clone();
    tokio::spawn(async move {
        mageflow_server::serve(serving, access, listener, |_| None)
            .await
            .unwrap();
    });
    let r = http()
        .post(format!("{url}/api/workflows/mover/runs"))
        .bearer_auth(ALICE)
        .json(&json!({"input": "1 2"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::ACCEPTED);
    let run = r.json::<serde_json::Value>().await.unwrap()["id"]
        .as_u64()
        .unwrap();
    let approval = harness::awaiting_approval(&engine, run).await;
    Setup {
        sim,
        engine,
        url,
        provider,
        approval,
    }
}

/// Cookies by name, as a browser keeps them for one host.
#[derive(Default)]
struct Jar(BTreeMap<String, String>);

impl Jar {
    fn take(&mut self, r: &reqwest::Response) {
        for c in r.headers().get_all("set-cookie") {
            let pair = c.to_str().unwrap().split(';').next().unwrap();
            let (k, v) = pair.split_once('=').unwrap();
            if v.is_empty() {
                self.0.remove(k);
            } else {
                self.0.insert(k.to_owned(), v.to_owned());
            }
        }
    }

    fn header(&self) -> String {
        self.0
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }
}

async fn get(url: &str, jar: &mut Jar) -> reqwest::Response {
    let mut req = http().get(url);
    if !jar.0.is_empty() {
        req = req.header("cookie", jar.header());
    }
    let r = req.send().await.unwrap();
    jar.take(&r);
    r
}

/// Where a redirect sends the browser, made absolute.
fn location(r: &reqwest::Response) -> String {
    let to = r.headers()["location"].to_str().unwrap();
    r.url().join(to).unwrap().to_string()
}

/// What a sign-in through the provider ended with: the callback's status and text, and
/// mageflow's cookies after it.
struct Outcome {
    status: StatusCode,
    text: String,
    mageflow: Jar,
    callback: String,
}

/// Signs `login` in as a browser does, with form posts: mageflow's start, the provider's
/// login page, back to mageflow's callback. `auth` may change the URL mageflow sends the
/// browser to, and `back` the URL the provider sends it back to.
async fn sign_in(
    s: &Setup,
    login: &str,
    auth: impl FnOnce(String) -> String,
    back: impl FnOnce(String) -> String,
) -> Outcome {
    let mut mageflow = Jar::default();
    let mut idp = Jar::default();
    let r = get(&format!("{}/ui/sso/start", s.url), &mut mageflow).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let to = auth(location(&r));
    assert!(
        to.starts_with(&s.provider.issuer),
        "{to} is not at {}",
        s.provider.issuer
    );
    assert!(
        to.contains("code_challenge_method=S256") && to.contains("nonce=") && to.contains("state="),
        "{to}"
    );
    let r = get(&to, &mut idp).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER, "{to}: {:?}", r.headers());
    let interaction = location(&r);
    let r = get(&interaction, &mut idp).await;
    let r_url = r.url().clone();
    let page = r.text().await.unwrap();
    let action = page
        .split("action=\"")
        .nth(1)
        .and_then(|a| a.split('"').next())
        .unwrap_or_else(|| panic!("no login form: {page}"));
    let action = r_url.join(action).unwrap().to_string();
    let r = http()
        .post(&action)
        .header("cookie", idp.header())
        .form(&[("prompt", "login"), ("login", login), ("password", "any")])
        .send()
        .await
        .unwrap();
    idp.take(&r);
    let mut next = location(&r);
    // The provider resumes the authorization, then sends the browser back to mageflow.
    while next.starts_with(&s.provider.issuer) {
        let r = get(&next, &mut idp).await;
        next = location(&r);
    }
    let callback = back(next);
    assert!(
        callback.starts_with(&format!("{}/ui/sso/callback?", s.url)),
        "{callback}"
    );
    let r = get(&callback, &mut mageflow).await;
    Outcome {
        status: r.status(),
        text: r.text().await.unwrap(),
        mageflow,
        callback,
    }
}

async fn as_is(s: &Setup, login: &str) -> Outcome {
    sign_in(s, login, |u| u, |u| u).await
}

/// A page as the session in `jar` sees it.
async fn page(s: &Setup, path: &str, jar: &Jar) -> (StatusCode, String) {
    let r = http()
        .get(format!("{}{path}", s.url))
        .header("cookie", jar.header())
        .send()
        .await
        .unwrap();
    (r.status(), r.text().await.unwrap())
}

/// Asserts a sign-in was refused naming `naming`, opened no session, and changed nothing.
async fn refused(s: &Setup, naming: &str, attempt: impl AsyncFnOnce(&Setup) -> Outcome) {
    let before = s.snapshot();
    let out = attempt(s).await;
    assert_eq!(out.status, StatusCode::UNAUTHORIZED, "{}", out.text);
    assert!(
        out.text.contains(naming),
        "the refusal does not name {naming:?}: {}",
        out.text
    );
    assert!(
        !out.mageflow.0.contains_key("mageflow_session"),
        "a refused sign-in opened a session"
    );
    let (status, _) = page(s, "/ui/approvals", &out.mageflow).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(s.snapshot(), before);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_sign_in_maps_groups_to_roles_and_sign_out_ends_it() {
    let s = setup(600).await;
    let bob = as_is(&s, "bob").await;
    assert_eq!(bob.status, StatusCode::OK, "{}", bob.text);
    let (status, text) = page(&s, &format!("/ui/approvals/{}", s.approval), &bob.mageflow).await;
    assert_eq!(status, StatusCode::OK);
    assert!(text.contains("signed in as <b>bob</b>"), "{text}");

    // An answer used once cannot be used again.
    let mut other = Jar::default();
    let r = get(&bob.callback, &mut other).await;
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);

    // olga's group makes her an operator: she sees, and may not decide.
    let olga = as_is(&s, "olga").await;
    assert_eq!(olga.status, StatusCode::OK, "{}", olga.text);
    let (_, text) = page(&s, &format!("/ui/approvals/{}", s.approval), &olga.mageflow).await;
    let before = s.snapshot();
    let r = http()
        .post(format!("{}/ui/approvals/{}/decide", s.url, s.approval))
        .header("cookie", olga.mageflow.header())
        .form(&[("decision", "approve"), ("csrf", &csrf_of(&text))])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert!(r.text().await.unwrap().contains("approver"));
    assert_eq!(s.snapshot(), before);

    // sam's groups map to no role: no session.
    refused(&s, "none of the groups", async |s| as_is(s, "sam").await).await;

    // lena decides through her group, leads.
    let lena = as_is(&s, "lena").await;
    let (_, text) = page(&s, &format!("/ui/approvals/{}", s.approval), &lena.mageflow).await;
    let r = http()
        .post(format!("{}/ui/approvals/{}/decide", s.url, s.approval))
        .header("cookie", lena.mageflow.header())
        .form(&[
            ("decision", "approve"),
            ("comment", "ok"),
            ("csrf", &csrf_of(&text)),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let decided = s.engine.store().approval(s.approval).unwrap();
    assert_eq!(decided.decisions[0].by, "lena");

    // Sign-out ends bob's session on the server.
    let (_, text) = page(&s, "/ui/approvals", &bob.mageflow).await;
    let r = http()
        .post(format!("{}/ui/sign-out", s.url))
        .header("cookie", bob.mageflow.header())
        .form(&[("csrf", csrf_of(&text))])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let (status, _) = page(&s, "/ui/approvals", &bob.mageflow).await;
    assert_eq!(
        status,
        StatusCode::SEE_OTHER,
        "the signed-out cookie still opens pages"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_tampered_state_is_refused() {
    let s = setup(600).await;
    refused(&s, "another state", async |s| {
        sign_in(
            s,
            "bob",
            |u| u,
            |u| {
                // One character of the state changed.
                let at = u.find("state=").unwrap() + 6;
                let other = if &u[at..=at] == "x" { "y" } else { "x" };
                format!("{}{other}{}", &u[..at], &u[at + 1..])
            },
        )
        .await
    })
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_wrong_nonce_is_refused() {
    let s = setup(600).await;
    refused(&s, "nonce", async |s| {
        sign_in(
            s,
            "bob",
            |u| {
                let at = u.find("nonce=").unwrap() + 6;
                let end = u[at..].find('&').map_or(u.len(), |e| at + e);
                format!("{}injected-nonce-value{}", &u[..at], &u[end..])
            },
            |u| u,
        )
        .await
    })
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn an_id_token_for_another_audience_is_refused() {
    let s = setup(600).await;
    // The provider signs bob in to another of its applications, with this sign-in's state,
    // nonce and PKCE challenge, and that application trades the code on the way back: a
    // genuine ID token, issued to someone else.
    s.provider.set(Tamper::AsClient(
        "other-app".into(),
        "other-secret-0123456789abcdef0123".into(),
    ));
    refused(&s, "another client", async |s| {
        sign_in(
            s,
            "bob",
            |u| u.replace("client_id=mageflow", "client_id=other-app"),
            |u| u,
        )
        .await
    })
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn an_id_token_with_a_bad_signature_is_refused() {
    let s = setup(600).await;
    s.provider.set(Tamper::BreakSignature);
    refused(&s, "signature", async |s| as_is(s, "bob").await).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn an_expired_id_token_is_refused() {
    let s = setup(1).await;
    s.provider.set(Tamper::Delay(Duration::from_millis(2200)));
    refused(&s, "expired", async |s| as_is(s, "bob").await).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn an_approver_signs_in_through_the_provider_in_a_browser_and_approves() {
    let required = std::env::var("MAGEFLOW_BROWSER_TEST").as_deref() == Ok("required");
    let s = setup(600).await;
    let (url, approval) = (s.url.clone(), s.approval);
    let done = tokio::task::spawn_blocking(move || {
        let Some(b) = browser::Browser::start(false) else {
            assert!(
                !required,
                "MAGEFLOW_BROWSER_TEST=required but chromedriver or chromium is missing"
            );
            return false;
        };
        b.go(&format!("{url}/ui"));
        b.wait_for_url("/ui/sign-in");
        b.click("#sso");
        // The provider's own login page.
        b.type_into("input[name=login]", "bob");
        b.type_into("input[name=password]", "any");
        b.click("button[type=submit]");
        b.wait_for_url("/ui/approvals");
        b.click(&format!("#approval-{approval}"));
        b.wait_for_url(&format!("/ui/approvals/{approval}"));
        b.type_into("#comment", "signed in through the provider");
        b.click("#approve");
        b.wait_for_url(&format!("/ui/approvals/{approval}?done=approved"));
        assert_eq!(b.text("#notice"), "Your approval is recorded.");
        true
    })
    .await
    .unwrap();
    if done {
        let a = s.engine.store().approval(s.approval).unwrap();
        assert_eq!(a.decisions[0].by, "bob");
        let start = Instant::now();
        while !s.engine.store().run(a.run).unwrap().status.is_final() {
            assert!(start.elapsed() < Duration::from_secs(60));
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        assert_eq!(
            s.engine.store().run(a.run).unwrap().status,
            Status::Succeeded
        );
    }
}
