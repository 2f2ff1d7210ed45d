//! The server's routes over an in-memory engine, called with `oneshot` (no socket, no
//! wasmtime): who may start, read and decide, what a refusal says, that a webhook must be
//! signed, and that an approval-gated run resumes once decided. The same server over the real
//! engine, runtime and guests is tested in host/cli/tests/server.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::{Arc, Mutex};

use axum::body::Body;
use axum::extract::connect_info::MockConnectInfo;
use axum::http::{Method, Request, StatusCode};
use mageflow_magento::{Auth, Connection, MagentoClient};
use mageflow_model::{
    Background, Deployed, Dispatch, EngineError, Event, Metrics, Operations, Pending, Result,
    Workflow, now_secs,
};
use mageflow_server::{AccessConfig, EnvTokens, SessionTimeouts};
use mageflow_store::{
    Approval, ApprovalStatus, CursorMove, Decision, Expiry, NewRun, Queued, Run, Status, Store,
};
use serde_json::{Value, json};
use tower::ServiceExt as _;

const ROOT: &str = "root-token-0123456789";
const ALICE: &str = "alice-token-0123456789";
const BOB: &str = "bob-token-0123456789";
const VERA: &str = "vera-token-0123456789";

/// An engine that keeps everything in a temporary store and "executes" a run by ending it:
/// a run of a workflow with approvers first waits for an approval, and succeeds once it is
/// granted (or fails once rejected).
#[derive(Debug)]
struct Memory {
    store: Store,
    metrics: Arc<Metrics>,
    workflows: Vec<Arc<Deployed>>,
    executed: Mutex<Vec<u64>>,
}

impl Memory {
    fn new(texts: &[&str]) -> Memory {
        let client = Arc::new(
            MagentoClient::new(Connection::new(
                "http://127.0.0.1:9",
                Auth::Bearer("unused".into()),
            ))
            .unwrap(),
        );
        let workflows = texts
            .iter()
            .map(|t| {
                Arc::new(Deployed {
                    def: Workflow::parse(Path::new("wf.toml"), t).unwrap(),
                    hash: "0".repeat(64),
                    client: client.clone(),
                })
            })
            .collect();
        Memory {
            store: Store::temporary().unwrap(),
            metrics: Arc::default(),
            workflows,
            executed: Mutex::default(),
        }
    }

    fn end(&self, id: u64) -> Result<Run> {
        let run = self.store.run(id)?;
        let def = &Operations::workflow(self, &run.workflow)?.def;
        let asked = self
            .store
            .approvals(None)?
            .into_iter()
            .find(|a| a.run == id);
        let status = match asked.map(|a| a.status) {
            None if !def.approvals.approvers.is_empty() => {
                self.store.open_approval(Approval {
                    id: 0,
                    run: id,
                    index: 0,
                    workflow: run.workflow.clone(),
                    requester: run.requester,
                    title: "move the customers".into(),
                    summary: "in memory".into(),
                    details_json: None,
                    approvers: def.approvals.approvers.clone(),
                    required: 1,
                    created_at: now_secs(),
                    expires_at: None,
                    on_expiry: Expiry::Expire,
                    status: ApprovalStatus::Pending,
                    decisions: Vec::new(),
                })?;
                Status::AwaitingApproval
            }
            Some(ApprovalStatus::Pending) => Status::AwaitingApproval,
            Some(ApprovalStatus::Rejected | ApprovalStatus::Expired) => Status::Failed,
            None | Some(ApprovalStatus::Approved) => Status::Succeeded,
        };
        self.executed.lock().unwrap().push(id);
        Ok(self.store.update_run(id, |r| r.status = status)?)
    }
}

impl Operations for Memory {
    fn store(&self) -> &Store {
        &self.store
    }

    fn metrics(&self) -> &Arc<Metrics> {
        &self.metrics
    }

    fn workflows(&self) -> Vec<Arc<Deployed>> {
        self.workflows.clone()
    }

    fn workflow(&self, name: &str) -> Result<Arc<Deployed>> {
        self.workflows
            .iter()
            .find(|w| w.def.name == name)
            .cloned()
            .ok_or_else(|| {
                let known: Vec<&str> = self.workflows.iter().map(|w| &*w.def.name).collect();
                EngineError::UnknownWorkflow(name.into(), known.join(", "))
            })
    }

    fn queue(
        &self,
        workflow: &str,
        events: &[Event],
        requester: &str,
        dry_run: bool,
        dedupe: Option<&str>,
        cursor: Option<CursorMove<'_>>,
    ) -> Result<Queued> {
        let hash = Operations::workflow(self, workflow)?.hash.clone();
        let runs = events
            .iter()
            .map(|e| NewRun {
                workflow: workflow.into(),
                plugin_hash: hash.clone(),
                trigger: serde_json::to_value(e).unwrap(),
                requester: requester.into(),
                dry_run,
                seed: [7; 32],
                now: now_secs(),
            })
            .collect();
        Ok(self.store.queue(runs, dedupe, cursor)?)
    }

    fn start(&self, workflow: &str, event: Event, requester: &str, dry_run: bool) -> Result<Run> {
        match self.queue(workflow, &[event], requester, dry_run, None, None)? {
            Queued::Runs(mut runs) => Ok(runs.remove(0)),
            Queued::Duplicate(id) => Ok(self.store.run(id)?),
            Queued::Moved => unreachable!("no cursor was moved"),
        }
    }

    fn execute(&self, id: u64) -> Pending<'_, Run> {
        Box::pin(async move { self.end(id) })
    }

    fn settle(&self, id: u64) -> Pending<'_, Run> {
        self.execute(id)
    }

    fn record_decision(
        &self,
        approval: u64,
        by: &str,
        groups: &[String],
        decision: &Decision,
    ) -> Result<Approval> {
        Ok(self
            .store
            .decide(approval, by, groups, decision, now_secs())?)
    }

    fn run_triggers(&self, _: Dispatch) -> Background<'_> {
        // Nothing fires in memory: the workflows here start by hand or by webhook.
        Box::pin(std::future::pending())
    }

    fn retry_queue(&self) -> (usize, Option<u64>) {
        (0, None)
    }

    fn prepare_recovery(&self) -> Result<Vec<u64>> {
        Ok(Vec::new())
    }

    fn resume(&self, _: Vec<u64>) -> Pending<'_, Vec<Run>> {
        Box::pin(async { Ok(Vec::new()) })
    }
}

struct Setup {
    engine: Arc<Memory>,
    app: axum::Router,
}

fn setup() -> Setup {
    let greet = "name = \"greet\"\nplugin = \"greet.wasm\"\ngrants = [\"customers:read\"]\n";
    let mover = "name = \"mover\"\nplugin = \"mover.wasm\"\n\
                 grants = [\"customers:read\", \"customers:write\", \"approvals\"]\n\
                 [approvals]\napprovers = [\"alice\", \"bob\"]\n";
    let hooked = "name = \"hooked\"\nplugin = \"echo.wasm\"\ngrants = [\"customers:read\"]\n\
                  [trigger]\nkind = \"webhook\"\nsignature = \"hmac\"\nsecret-env = \"HOOK_SECRET\"\n";
    let engine = Arc::new(Memory::new(&[greet, mover, hooked]));
    let access = AccessConfig {
        env_tokens: EnvTokens::parse(&format!(
            "root:admin={ROOT},alice:operator+viewer+approver={ALICE},\
             bob:approver+viewer={BOB},vera:viewer={VERA}"
        ))
        .unwrap(),
        sessions: SessionTimeouts::default(),
        metrics_open: false,
        secure_cookies: false,
        sso: None,
        scim: Default::default(),
    };
    let app = mageflow_server::app(engine.clone(), access, |k| {
        (k == "HOOK_SECRET").then(|| "a-shared-secret-of-some-length".to_owned())
    })
    .unwrap()
    .layer(MockConnectInfo(SocketAddr::from(([127, 0, 0, 1], 40_000))));
    Setup { engine, app }
}

impl Setup {
    async fn send(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut req = Request::builder().method(method).uri(path);
        if let Some(t) = token {
            req = req.header("authorization", format!("Bearer {t}"));
        }
        let req = match body {
            Some(b) => req
                .header("content-type", "application/json")
                .body(Body::from(b.to_string())),
            None => req.body(Body::empty()),
        }
        .unwrap();
        let resp = self.app.clone().oneshot(req).await.unwrap();
        let status = resp.status();
        let bytes = axum::body::to_bytes(resp.into_body(), 1 << 20)
            .await
            .unwrap();
        let value = serde_json::from_slice(&bytes)
            .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()));
        (status, value)
    }

    /// Waits until the run reaches `status` (the workers run it in the background).
    async fn settled(&self, id: u64, status: Status) -> Run {
        for _ in 0..200 {
            let run = self.engine.store.run(id).unwrap();
            if run.status == status {
                return run;
            }
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
        panic!("run {id} never became {status:?}");
    }
}

fn error(body: &Value) -> &str {
    body["error"].as_str().unwrap_or_default()
}

#[tokio::test]
async fn without_a_valid_token_nothing_is_started_or_read() {
    let s = setup();
    for (method, path) in [
        (Method::GET, "/api/workflows"),
        (Method::GET, "/api/runs"),
        (Method::POST, "/api/workflows/greet/runs"),
        (Method::GET, "/api/audit"),
    ] {
        let (status, body) = s.send(method.clone(), path, None, Some(json!({}))).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{method} {path}: {body}");
        assert!(error(&body).contains("needs a token"), "{body}");
        let (status, body) = s
            .send(
                method.clone(),
                path,
                Some("nobody-knows-this"),
                Some(json!({})),
            )
            .await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{method} {path}: {body}");
    }
    assert!(s.engine.store.runs(None).unwrap().is_empty());
    let (status, body) = s.send(Method::GET, "/healthz", None, None).await;
    assert_eq!((status, body), (StatusCode::OK, json!("ok")));
}

#[tokio::test]
async fn an_operator_starts_a_run_and_a_viewer_may_only_read_it() {
    let s = setup();
    let (status, body) = s
        .send(
            Method::POST,
            "/api/workflows/greet/runs",
            Some(VERA),
            Some(json!({"input": "x"})),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert!(error(&body).contains("operator"), "{body}");
    assert!(s.engine.store.runs(None).unwrap().is_empty());

    let (status, run) = s
        .send(
            Method::POST,
            "/api/workflows/greet/runs",
            Some(ALICE),
            Some(json!({"input": "x"})),
        )
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{run}");
    let id = run["id"].as_u64().unwrap();
    s.settled(id, Status::Succeeded).await;
    let (status, detail) = s
        .send(Method::GET, &format!("/api/runs/{id}"), Some(VERA), None)
        .await;
    assert_eq!(status, StatusCode::OK, "{detail}");
    assert_eq!(detail["requester"], "alice", "{detail}");
    assert_eq!(s.engine.executed.lock().unwrap().as_slice(), [id]);

    let (status, body) = s
        .send(
            Method::POST,
            "/api/workflows/nope/runs",
            Some(ALICE),
            Some(json!({})),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    assert!(
        error(&body).contains("no workflow is named \"nope\""),
        "{body}"
    );
}

#[tokio::test]
async fn an_approval_is_decided_by_a_named_approver_other_than_the_requester() {
    let s = setup();
    let (_, run) = s
        .send(
            Method::POST,
            "/api/workflows/mover/runs",
            Some(ALICE),
            Some(json!({"input": "1 2"})),
        )
        .await;
    let id = run["id"].as_u64().unwrap();
    s.settled(id, Status::AwaitingApproval).await;
    let approval = s.engine.store.approvals(None).unwrap()[0].id;
    let approve = format!("/api/approvals/{approval}/approve");

    let (status, body) = s
        .send(Method::POST, &approve, Some(ALICE), Some(json!({})))
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert!(
        error(&body).contains("cannot decide its own approval"),
        "{body}"
    );
    let (status, body) = s
        .send(Method::POST, &approve, Some(VERA), Some(json!({})))
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert_eq!(
        s.engine.store.run(id).unwrap().status,
        Status::AwaitingApproval
    );

    let (status, body) = s
        .send(
            Method::POST,
            &approve,
            Some(BOB),
            Some(json!({"comment": "fine"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    s.settled(id, Status::Succeeded).await;
    let (_, audit) = s.send(Method::GET, "/api/audit", Some(ROOT), None).await;
    assert!(audit.to_string().contains("bob"), "{audit}");
}

#[tokio::test]
async fn an_unsigned_webhook_is_refused_and_queues_nothing() {
    let s = setup();
    let (status, body) = s
        .send(
            Method::POST,
            "/hooks/hooked",
            None,
            Some(json!({"customer": {"id": 1}})),
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    assert!(s.engine.store.runs(None).unwrap().is_empty());
}

#[tokio::test]
async fn metrics_need_a_token_and_count_refused_deliveries() {
    let s = setup();
    let (status, _) = s.send(Method::GET, "/metrics", None, None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    s.send(Method::POST, "/hooks/hooked", None, Some(json!({})))
        .await;
    let (status, text) = s.send(Method::GET, "/metrics", Some(VERA), None).await;
    assert_eq!(status, StatusCode::OK);
    let text = text.as_str().unwrap();
    assert!(
        text.lines()
            .any(|l| l.contains("webhook") && l.contains("refused")),
        "{text}"
    );
}
