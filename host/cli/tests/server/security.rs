//! One test per attack on who may do what, over real sockets against `mageflow serve` on
//! magento-sim: each asserts the refusal's status and that nothing changed (no run started,
//! no decision taken, no write sent to Magento, no token made).

use crate::harness;

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use harness::{Snapshot, csrf_of};
use mageflow_engine::{Engine, Workflow};
use mageflow_server::{AccessConfig, EnvTokens, Guard, SessionTimeouts};
use mageflow_store::Status;
use magento_sim::{Server, SimConfig};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

const ROOT: &str = "root-token-0123456789abcdef0123456789";
const ALICE: &str = "alice-token-0123456789abcdef012345678";
const BOB: &str = "bob-token-0123456789abcdef0123456789a";
const VERA: &str = "vera-token-0123456789abcdef012345678";
const OTTO: &str = "otto-token-0123456789abcdef012345678";
const ABE: &str = "abe-token-0123456789abcdef0123456789";

/// The principals of these tests: root is an admin; alice and bob view, operate and approve;
/// vera only views; otto views and operates; abe views and approves, but no workflow names
/// him.
fn env_tokens() -> EnvTokens {
    EnvTokens::parse(&format!(
        "root:admin={ROOT},alice={ALICE},bob={BOB},vera:viewer={VERA},\
         otto:operator+viewer={OTTO},abe:approver+viewer={ABE}"
    ))
    .unwrap()
}

struct Setup {
    sim: Server,
    engine: Arc<Engine>,
    url: String,
    /// alice's run of `mover`, waiting for its approval.
    run: u64,
    approval: u64,
}

impl Setup {
    fn snapshot(&self) -> Snapshot {
        Snapshot::of(&self.engine, &self.sim)
    }

    async fn call(&self, method: Method, path: &str, token: Option<&str>) -> (StatusCode, Value) {
        self.send(method, path, token, json!({})).await
    }

    async fn send(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Value,
    ) -> (StatusCode, Value) {
        let mut req = client()
            .request(method, format!("{}{path}", self.url))
            .json(&body);
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        let resp = req.send().await.unwrap();
        let status = resp.status();
        (status, resp.json().await.unwrap_or(Value::Null))
    }

    /// Asserts that `attack` is refused with `status`, with an error naming `naming`, and
    /// that it changed nothing.
    async fn refused(
        &self,
        status: StatusCode,
        naming: &str,
        attack: impl AsyncFnOnce(&Setup) -> (StatusCode, Value),
    ) {
        let before = self.snapshot();
        let (got, body) = attack(self).await;
        assert_eq!(got, status, "{body}");
        let error = body["error"].as_str().unwrap_or_default();
        assert!(
            error.contains(naming),
            "the refusal does not name {naming:?}: {error}"
        );
        // Give a wrongly started run the time to show.
        tokio::time::sleep(Duration::from_millis(200)).await;
        assert_eq!(
            self.snapshot(),
            before,
            "the refused request changed something"
        );
    }
}

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// A sim with three customers and `mageflow serve` with `mover` (approvers alice, bob and group leads) and a
/// webhook workflow, with alice's run of `mover` waiting for its approval.
async fn setup(sessions: SessionTimeouts) -> Setup {
    let sim = magento_sim::start(
        SimConfig {
            seed_customers: 3,
            ..SimConfig::default()
        },
        "127.0.0.1:0",
    )
    .await
    .unwrap();
    {
        // All in group 1 (General), which `mover` moves to 2 (Wholesale).
        let mut state = sim.sim.write();
        let all: Vec<_> = state.all_customers().cloned().collect();
        for mut c in all {
            c.group_id = 1;
            state.put_customer(c);
        }
    }
    let client = harness::magento(&sim);
    let engine = harness::engine("security-compile-cache");
    let mover = format!(
        "name = \"mover\"\nplugin = {:?}\ngrants = [\"customers:read\", \"customers:write\", \"bulk\", \"approvals\"]\n\
         [approvals]\napprovers = [\"alice\", \"bob\", \"group:leads\"]\n",
        mageflow_test_artifacts::UPDATE_EACH,
    );
    let hooked = format!(
        "name = \"hooked\"\nplugin = {:?}\ngrants = [\"customers:read\"]\n\
         [trigger]\nkind = \"webhook\"\nsignature = \"hmac\"\nsecret-env = \"HOOK_SECRET\"\n",
        mageflow_test_artifacts::ECHO,
    );
    for text in [mover, hooked] {
        let wf = Workflow::parse(Path::new("wf.toml"), &text).unwrap();
        engine.add(wf, client.clone()).unwrap();
    }
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let access = AccessConfig {
        env_tokens: env_tokens(),
        sessions,
        metrics_open: false,
        secure_cookies: false,
        sso: None,
        scim: Default::default(),
    };
    let serving = engine.clone();
    tokio::spawn(async move {
        mageflow_server::serve(serving, access, listener, |k| {
            (k == "HOOK_SECRET").then(|| "a-shared-secret-of-some-length".to_owned())
        })
        .await
        .unwrap();
    });
    let mut s = Setup {
        sim,
        engine,
        url,
        run: 0,
        approval: 0,
    };
    let (status, run) = s
        .send(
            Method::POST,
            "/api/workflows/mover/runs",
            Some(ALICE),
            json!({"input": "1 2"}),
        )
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{run}");
    s.run = run["id"].as_u64().unwrap();
    s.approval = harness::awaiting_approval(&s.engine, s.run).await;
    s
}

async fn default_setup() -> Setup {
    setup(SessionTimeouts::default()).await
}

/// A token made by root through the API: its text.
async fn make_token(s: &Setup, new: Value) -> String {
    let (status, made) = s.send(Method::POST, "/api/tokens", Some(ROOT), new).await;
    assert_eq!(status, StatusCode::CREATED, "{made}");
    made["token"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn no_token_starts_nothing_and_reads_nothing() {
    let s = default_setup().await;
    s.refused(StatusCode::UNAUTHORIZED, "needs a token", async |s| {
        s.call(Method::POST, "/api/workflows/mover/runs", None)
            .await
    })
    .await;
    s.refused(StatusCode::UNAUTHORIZED, "needs a token", async |s| {
        s.call(Method::GET, &format!("/api/runs/{}", s.run), None)
            .await
    })
    .await;
    let resp = client()
        .get(format!("{}/api/approvals", s.url))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        resp.headers()["www-authenticate"],
        "Bearer realm=\"mageflow\""
    );
}

#[tokio::test]
async fn an_unknown_token_is_refused() {
    let s = default_setup().await;
    for token in [
        "not-a-token",
        "mft_0123456789abcdef_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        &ALICE[..ALICE.len() - 1],
    ] {
        s.refused(StatusCode::UNAUTHORIZED, "not known", async |s| {
            s.call(Method::POST, "/api/workflows/mover/runs", Some(token))
                .await
        })
        .await;
    }
    // A real id with a wrong secret is as unknown as no id at all.
    let real = make_token(&s, json!({"name": "ops", "roles": ["operator"]})).await;
    let forged = format!("{}x", &real[..real.len() - 1]);
    s.refused(StatusCode::UNAUTHORIZED, "not known", async |s| {
        s.call(Method::POST, "/api/workflows/mover/runs", Some(&forged))
            .await
    })
    .await;
}

#[tokio::test]
async fn a_revoked_token_is_refused_naming_its_revocation() {
    let s = default_setup().await;
    let token = make_token(&s, json!({"name": "ops", "roles": ["viewer"]})).await;
    let (status, _) = s.call(Method::GET, "/api/runs", Some(&token)).await;
    assert_eq!(status, StatusCode::OK, "the token works before revocation");
    let id = token.split('_').nth(1).unwrap().to_owned();
    let (status, body) = s
        .call(
            Method::POST,
            &format!("/api/tokens/{id}/revoke"),
            Some(ROOT),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    s.refused(StatusCode::UNAUTHORIZED, "was revoked", async |s| {
        s.call(Method::GET, "/api/runs", Some(&token)).await
    })
    .await;
    // Only an admin revokes, and only an admin sees the tokens.
    s.refused(StatusCode::FORBIDDEN, "admin", async |s| {
        s.call(
            Method::POST,
            &format!("/api/tokens/{id}/revoke"),
            Some(ALICE),
        )
        .await
    })
    .await;
    s.refused(StatusCode::FORBIDDEN, "admin", async |s| {
        s.send(
            Method::POST,
            "/api/tokens",
            Some(ALICE),
            json!({"name": "alice", "roles": ["admin"]}),
        )
        .await
    })
    .await;
}

#[tokio::test]
async fn an_expired_token_is_refused_naming_its_expiry() {
    let s = default_setup().await;
    let token = make_token(
        &s,
        json!({"name": "brief", "roles": ["viewer"], "expires_in_secs": 1}),
    )
    .await;
    tokio::time::sleep(Duration::from_millis(2100)).await;
    s.refused(StatusCode::UNAUTHORIZED, "expired", async |s| {
        s.call(Method::GET, "/api/runs", Some(&token)).await
    })
    .await;
}

#[tokio::test]
async fn a_viewer_cannot_start_a_run() {
    let s = default_setup().await;
    s.refused(StatusCode::FORBIDDEN, "operator", async |s| {
        s.send(
            Method::POST,
            "/api/workflows/mover/runs",
            Some(VERA),
            json!({"input": "3", "dry_run": true}),
        )
        .await
    })
    .await;
    // An operator limited to other workflows cannot either.
    let token = make_token(
        &s,
        json!({"name": "pat", "roles": ["operator"], "workflows": ["onboard-*"]}),
    )
    .await;
    s.refused(StatusCode::FORBIDDEN, "operator", async |s| {
        s.call(Method::POST, "/api/workflows/mover/runs", Some(&token))
            .await
    })
    .await;
}

#[tokio::test]
async fn an_operator_cannot_approve() {
    let s = default_setup().await;
    let path = format!("/api/approvals/{}/approve", s.approval);
    s.refused(StatusCode::FORBIDDEN, "approver", async |s| {
        s.call(Method::POST, &path, Some(OTTO)).await
    })
    .await;
}

#[tokio::test]
async fn an_approver_not_named_cannot_decide() {
    let s = default_setup().await;
    let path = format!("/api/approvals/{}/approve", s.approval);
    s.refused(StatusCode::FORBIDDEN, "abe", async |s| {
        s.call(Method::POST, &path, Some(ABE)).await
    })
    .await;
    // A group the workflow does not name opens nothing either.
    let token = make_token(
        &s,
        json!({"name": "gus", "roles": ["approver"], "groups": ["staff"]}),
    )
    .await;
    let reject = format!("/api/approvals/{}/reject", s.approval);
    s.refused(StatusCode::FORBIDDEN, "gus", async |s| {
        s.call(Method::POST, &reject, Some(&token)).await
    })
    .await;
    // Whereas one in the named group decides.
    let token = make_token(
        &s,
        json!({"name": "gina", "roles": ["approver"], "groups": ["leads"]}),
    )
    .await;
    let (status, body) = s.call(Method::POST, &path, Some(&token)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["status"], "approved");
}

#[tokio::test]
async fn nobody_approves_their_own_run_with_a_second_token() {
    let s = default_setup().await;
    let path = format!("/api/approvals/{}/approve", s.approval);
    s.refused(StatusCode::FORBIDDEN, "own", async |s| {
        s.call(Method::POST, &path, Some(ALICE)).await
    })
    .await;
    let second = make_token(&s, json!({"name": "alice", "roles": ["approver"]})).await;
    s.refused(StatusCode::FORBIDDEN, "own", async |s| {
        s.call(Method::POST, &path, Some(&second)).await
    })
    .await;
    // bob, named and not the requester, may.
    let (status, body) = s.call(Method::POST, &path, Some(BOB)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

/// The page's sign-in as a browser does it: the form's CSRF cookie and field, then the
/// token. Answers the session cookie (`name=value`).
async fn sign_in(s: &Setup, token: &str) -> String {
    let form = client()
        .get(format!("{}/ui/sign-in", s.url))
        .send()
        .await
        .unwrap();
    let pre = first_cookie(&form, "mageflow_sign_in");
    let csrf = csrf_of(&form.text().await.unwrap());
    let r = client()
        .post(format!("{}/ui/sign-in", s.url))
        .header("cookie", pre)
        .form(&[("token", token), ("csrf", &csrf)])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    first_cookie(&r, "mageflow_session")
}

fn first_cookie(resp: &reqwest::Response, name: &str) -> String {
    let set = resp
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|c| c.to_str().unwrap())
        .find(|c| c.starts_with(&format!("{name}=")))
        .unwrap_or_else(|| panic!("no {name} cookie"));
    assert!(
        set.contains("HttpOnly") && set.contains("SameSite=Strict"),
        "{set}"
    );
    set.split(';').next().unwrap().to_owned()
}

/// A page as `cookie`'s session sees it: status and text.
async fn page(s: &Setup, path: &str, cookie: &str) -> (StatusCode, String) {
    let r = client()
        .get(format!("{}{path}", s.url))
        .header("cookie", cookie)
        .send()
        .await
        .unwrap();
    (r.status(), r.text().await.unwrap())
}

/// The page's decide form, posted with `cookie` and `csrf` (none: left out).
async fn decide_by_form(s: &Setup, cookie: &str, csrf: Option<&str>) -> (StatusCode, Value) {
    let mut form = vec![("decision", "approve"), ("comment", "from the form")];
    if let Some(c) = csrf {
        form.push(("csrf", c));
    }
    let r = client()
        .post(format!("{}/ui/approvals/{}/decide", s.url, s.approval))
        .header("cookie", cookie)
        .header("origin", "https://evil.example")
        .form(&form)
        .send()
        .await
        .unwrap();
    let status = r.status();
    let text = r.text().await.unwrap();
    (status, json!({ "error": text }))
}

#[tokio::test]
async fn a_cross_site_form_post_without_the_csrf_token_is_refused() {
    let s = default_setup().await;
    let cookie = sign_in(&s, BOB).await;
    s.refused(StatusCode::FORBIDDEN, "CSRF", async |s| {
        decide_by_form(s, &cookie, None).await
    })
    .await;
    s.refused(StatusCode::FORBIDDEN, "CSRF", async |s| {
        decide_by_form(s, &cookie, Some("guessed-0123456789abcdef01234567")).await
    })
    .await;
    // Signing someone in from another site (no sign-in cookie) is refused too.
    let before = s.snapshot();
    let r = client()
        .post(format!("{}/ui/sign-in", s.url))
        .form(&[("token", BOB), ("csrf", "x")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert!(
        r.headers()
            .get_all("set-cookie")
            .iter()
            .all(|c| { !c.to_str().unwrap().starts_with("mageflow_session=") })
    );
    assert_eq!(s.snapshot(), before);
    // With the page's own token, the same post decides.
    let (_, text) = page(&s, &format!("/ui/approvals/{}", s.approval), &cookie).await;
    let (status, _) = decide_by_form(&s, &cookie, Some(&csrf_of(&text))).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(
        s.engine.store().approval(s.approval).unwrap().decisions[0].by,
        "bob"
    );
}

#[tokio::test]
async fn a_cookie_replayed_after_sign_out_opens_nothing() {
    let s = default_setup().await;
    let cookie = sign_in(&s, BOB).await;
    let (status, text) = page(&s, "/ui/approvals", &cookie).await;
    assert_eq!(status, StatusCode::OK);
    let csrf = csrf_of(&text);
    let r = client()
        .post(format!("{}/ui/sign-out", s.url))
        .header("cookie", &cookie)
        .form(&[("csrf", &csrf)])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let (status, _) = page(&s, "/ui/approvals", &cookie).await;
    assert_eq!(
        status,
        StatusCode::SEE_OTHER,
        "the old cookie is sent to sign in"
    );
    s.refused(StatusCode::UNAUTHORIZED, "not signed in", async |s| {
        decide_by_form(s, &cookie, Some(&csrf)).await
    })
    .await;
}

#[tokio::test]
async fn a_session_past_its_idle_timeout_opens_nothing() {
    let s = setup(SessionTimeouts {
        idle: Duration::from_secs(1),
        absolute: Duration::from_secs(3600),
    })
    .await;
    let cookie = sign_in(&s, BOB).await;
    let (status, text) = page(&s, &format!("/ui/approvals/{}", s.approval), &cookie).await;
    assert_eq!(status, StatusCode::OK);
    let csrf = csrf_of(&text);
    tokio::time::sleep(Duration::from_millis(2100)).await;
    s.refused(StatusCode::UNAUTHORIZED, "not signed in", async |s| {
        decide_by_form(s, &cookie, Some(&csrf)).await
    })
    .await;
}

#[tokio::test]
async fn a_session_past_its_absolute_timeout_opens_nothing() {
    let s = setup(SessionTimeouts {
        idle: Duration::from_secs(3600),
        absolute: Duration::from_secs(2),
    })
    .await;
    let cookie = sign_in(&s, BOB).await;
    // Busy all along: the idle timer never runs out, the absolute one does.
    let start = Instant::now();
    while start.elapsed() < Duration::from_millis(3100) {
        page(&s, "/ui/approvals", &cookie).await;
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    let (status, _) = page(&s, "/ui/approvals", &cookie).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn failed_sign_ins_from_one_client_are_slowed_down() {
    let s = default_setup().await;
    let form = client()
        .get(format!("{}/ui/sign-in", s.url))
        .send()
        .await
        .unwrap();
    let pre = first_cookie(&form, "mageflow_sign_in");
    let csrf = csrf_of(&form.text().await.unwrap());
    let mut statuses = Vec::new();
    for _ in 0..7 {
        let r = client()
            .post(format!("{}/ui/sign-in", s.url))
            .header("cookie", &pre)
            .form(&[("token", "guess"), ("csrf", &csrf)])
            .send()
            .await
            .unwrap();
        statuses.push(r.status().as_u16());
    }
    assert_eq!(statuses[..5], [401; 5], "{statuses:?}");
    assert_eq!(statuses[6], 429, "{statuses:?}");
    // While slowed down, even the right token waits.
    let r = client()
        .post(format!("{}/ui/sign-in", s.url))
        .header("cookie", &pre)
        .form(&[("token", BOB), ("csrf", &csrf)])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(r.headers().contains_key("retry-after"));
}

#[tokio::test]
async fn every_route_refuses_a_caller_without_credentials() {
    let s = default_setup().await;
    let before = s.snapshot();
    let routes = mageflow_server::routes();
    assert!(routes.len() > 20, "{routes:?}");
    for route in routes {
        let path = route
            .path
            .replace("{workflow}", "hooked")
            .replace("{name}", "mover")
            .replace("{root}", "admin")
            .replace("{id}", &s.approval.to_string());
        let r = client()
            .request(route.method.clone(), format!("{}{path}", s.url))
            .header("content-type", "application/json")
            .body("{}")
            .send()
            .await
            .unwrap();
        let status = r.status();
        let to = r
            .headers()
            .get("location")
            .map(|l| l.to_str().unwrap().to_owned());
        let expected = match route.guard {
            Guard::Open => continue,
            Guard::Token | Guard::Metrics | Guard::Signature | Guard::Scim => {
                StatusCode::UNAUTHORIZED
            }
            Guard::Session if route.method == Method::GET => {
                assert_eq!(to.as_deref(), Some("/ui/sign-in"), "{route:?}");
                StatusCode::SEE_OTHER
            }
            Guard::Session => StatusCode::UNAUTHORIZED,
        };
        assert_eq!(status, expected, "{} {}", route.method, route.path);
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(s.snapshot(), before);
}

#[tokio::test]
async fn the_audit_names_who_started_decided_and_made_tokens() {
    let s = default_setup().await;
    make_token(&s, json!({"name": "gina", "roles": ["approver"]})).await;
    let path = format!("/api/approvals/{}/approve", s.approval);
    let (status, _) = s.call(Method::POST, &path, Some(BOB)).await;
    assert_eq!(status, StatusCode::OK);
    sign_in(&s, BOB).await;
    let (status, audit) = s.call(Method::GET, "/api/audit", Some(ROOT)).await;
    assert_eq!(status, StatusCode::OK, "{audit}");
    let events: Vec<(String, String)> = audit
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["principal"].as_str().unwrap_or_default().to_owned(),
                e["action"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    for want in [
        ("alice", "run.start"),
        ("root", "token.create"),
        ("bob", "approval.approve"),
        ("bob", "sign-in"),
    ] {
        assert!(
            events.iter().any(|(p, a)| p == want.0 && a == want.1),
            "no {want:?} in {events:?}"
        );
    }
    s.refused(StatusCode::FORBIDDEN, "admin", async |s| {
        s.call(Method::GET, "/api/audit", Some(BOB)).await
    })
    .await;
}

#[tokio::test]
async fn operators_start_runs_from_the_workflows_page_and_viewers_cannot() {
    let s = default_setup().await;
    let (status, _) = s
        .call(
            Method::POST,
            &format!("/api/approvals/{}/approve", s.approval),
            Some(BOB),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(harness::ended(&s.engine, s.run).await, Status::Succeeded);

    let alice = sign_in(&s, ALICE).await;
    let (status, text) = page(&s, "/ui/workflows", &alice).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        text.contains("id=\"workflow-mover\"")
            && text.contains("id=\"start-mover\"")
            && text.contains(&format!("/ui/runs/{}", s.run))
            && text.contains("customers:write")
            && text.contains("alice, bob, group:leads"),
        "{text}"
    );
    let r = client()
        .post(format!("{}/ui/workflows/mover/runs", s.url))
        .header("cookie", &alice)
        .form(&[
            ("input", "3 1"),
            ("dry_run", "on"),
            ("csrf", &csrf_of(&text)),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let to = r.headers()["location"].to_str().unwrap().to_owned();
    let id: u64 = to.rsplit('/').next().unwrap().parse().unwrap();
    let run = s.engine.store().run(id).unwrap();
    assert!(run.dry_run && run.requester == "alice", "{run:?}");

    // A viewer sees no form, and a post of her own is refused.
    let vera = sign_in(&s, VERA).await;
    let (_, text) = page(&s, "/ui/workflows", &vera).await;
    assert!(text.contains("id=\"workflow-mover\"") && !text.contains("id=\"start-mover\""));
    let csrf = csrf_of(&text);
    s.refused(StatusCode::FORBIDDEN, "operator", async |s| {
        let r = client()
            .post(format!("{}/ui/workflows/mover/runs", s.url))
            .header("cookie", &vera)
            .form(&[("input", "1 2"), ("csrf", &csrf)])
            .send()
            .await
            .unwrap();
        (r.status(), json!({"error": r.text().await.unwrap()}))
    })
    .await;

    // The writes show group ids with their names.
    let (_, text) = page(&s, &format!("/ui/runs/{}", s.run), &alice).await;
    assert!(
        text.contains("1 (General)") && text.contains("2 (Wholesale)"),
        "{text}"
    );

    // Runs filter by status and workflow, and long lists are paged.
    let (_, text) = page(&s, "/ui/runs?status=succeeded&workflow=mover", &alice).await;
    assert!(
        text.contains(&format!("href=\"/ui/runs/{}\"", s.run)),
        "{text}"
    );
    let (_, text) = page(&s, "/ui/runs?status=failed", &alice).await;
    assert!(
        !text.contains(&format!("href=\"/ui/runs/{}\"", s.run)),
        "{text}"
    );
    for _ in 0..50 {
        let (status, _) = s
            .send(
                Method::POST,
                "/api/workflows/hooked/runs",
                Some(ALICE),
                json!({"dry_run": true}),
            )
            .await;
        assert_eq!(status, StatusCode::ACCEPTED);
    }
    let (_, text) = page(&s, "/ui/runs", &alice).await;
    assert!(
        text.contains("page 1 of 2") && text.contains("id=\"older\""),
        "{text}"
    );
    let (_, text) = page(&s, "/ui/runs?page=1", &alice).await;
    assert!(
        text.contains("page 2 of 2") && text.contains(&format!("href=\"/ui/runs/{}\"", s.run)),
        "{text}"
    );
}
