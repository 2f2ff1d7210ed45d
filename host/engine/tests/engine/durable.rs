//! The engine against magento-sim with real plugins: runs wait for approval with nothing in
//! memory, resume by replay, survive being cut off mid-write (each customer written once),
//! plan instead of write in a dry run, refuse gated calls, and fail on divergence.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use mageflow_engine::{Engine, Event, Workflow};
use mageflow_magento::{Auth, Connection, MagentoClient};
use mageflow_runtime::Runtime;
use mageflow_store::{ApprovalStatus, Decision, EntryState, Status};
use mageflow_test_artifacts as built;
use magento_sim::{Server, SimConfig};

pub(crate) fn runtime() -> Arc<Runtime> {
    static RUNTIME: OnceLock<Arc<Runtime>> = OnceLock::new();
    RUNTIME
        .get_or_init(|| {
            let cache = Path::new(env!("CARGO_TARGET_TMPDIR")).join("engine-compile-cache");
            Arc::new(Runtime::with_disk_cache(&cache).expect("the runtime starts"))
        })
        .clone()
}

pub(crate) async fn sim(customers: usize) -> Server {
    magento_sim::start(
        SimConfig {
            seed_customers: customers,
            ..Default::default()
        },
        "127.0.0.1:0",
    )
    .await
    .expect("sim starts")
}

pub(crate) fn client(server: &Server) -> Arc<MagentoClient> {
    Arc::new(
        MagentoClient::new(Connection::new(
            server.url(),
            Auth::Admin {
                username: "admin".into(),
                password: "Admin123!".into(),
            },
        ))
        .unwrap(),
    )
}

pub(crate) fn workflow(name: &str, plugin: &str, extra: &str) -> Workflow {
    let text = format!("name = \"{name}\"\nplugin = \"{plugin}\"\n{extra}");
    Workflow::parse(Path::new("test.toml"), &text).unwrap_or_else(|e| panic!("{e}"))
}

fn engine(server: &Server, wf: Workflow) -> Engine {
    let engine = Engine::new(crate::stores::fresh(), runtime());
    engine.add(wf, client(server)).expect("the workflow loads");
    engine
}

pub(crate) fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

pub(crate) fn writes_per_customer(server: &Server) -> BTreeMap<u64, usize> {
    let mut per = BTreeMap::new();
    for w in &server.sim.read().writes {
        if w.entity == "customer" && w.op == "update" {
            *per.entry(w.id).or_default() += 1;
        }
    }
    per
}

pub(crate) fn in_group(server: &Server, group: u32) -> Vec<u64> {
    server
        .sim
        .read()
        .all_customers()
        .filter(|c| c.group_id == group)
        .map(|c| c.id)
        .collect()
}

/// Starts a move of group 1 to group 2 on `engine` and runs it to its approval: the run as
/// started.
pub(crate) async fn paused_move(engine: &Engine) -> mageflow_store::Run {
    let run = engine
        .start(
            "mover",
            Event::Manual {
                input: "1 2".into(),
            },
            "alice",
            false,
        )
        .unwrap();
    let paused = engine.execute(run.id).await.unwrap();
    assert_eq!(
        paused.status,
        Status::AwaitingApproval,
        "{:?}",
        paused.error
    );
    run
}

pub(crate) const UPDATE_EACH: &str = "grants = [\"customers:read\", \"customers:write\", \"approvals\"]\n\
     [approvals]\napprovers = [\"bob\", \"carol\"]\n";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_waits_for_approval_with_its_plan_then_resumes_by_replay() {
    let server = sim(40).await;
    let movers = in_group(&server, 1);
    assert!(!movers.is_empty());
    let engine = engine(&server, workflow("mover", built::UPDATE_EACH, UPDATE_EACH));
    let run = paused_move(&engine).await;
    assert!(
        writes_per_customer(&server).is_empty(),
        "nothing written before approval"
    );
    let pending = engine
        .store()
        .approvals(Some(ApprovalStatus::Pending))
        .unwrap();
    assert_eq!(pending.len(), 1);
    let approval = &pending[0];
    assert_eq!(
        approval.title,
        format!("Move {} customers from group 1 to group 2", movers.len())
    );
    // The approval carries the planned changes, field before -> after, for each customer.
    let details: serde_json::Value =
        serde_json::from_str(approval.details_json.as_deref().expect("a plan")).unwrap();
    let plan = details["plan"].as_array().unwrap();
    assert_eq!(plan.len(), movers.len());
    assert_eq!(plan[0]["changes"][0]["field"], "group_id");
    assert_eq!(plan[0]["changes"][0]["after"], 2);
    // The requester cannot approve; an outsider neither.
    let own = engine
        .decide(approval.id, "alice", &Decision::Approve(None))
        .await
        .unwrap_err();
    assert!(
        own.to_string().contains("cannot decide its own approval"),
        "{own}"
    );
    let (_, resumed) = engine
        .decide(approval.id, "bob", &Decision::Approve(Some("ok".into())))
        .await
        .unwrap();
    let done = resumed.expect("the run resumed");
    assert_eq!(done.status, Status::Succeeded, "{:?}", done.error);
    assert_eq!(
        done.summary.as_deref(),
        Some(format!("moved {} customers", movers.len()).as_str())
    );
    assert!(in_group(&server, 1).is_empty());
    let writes = writes_per_customer(&server);
    assert_eq!(writes.len(), movers.len());
    assert!(writes.values().all(|&n| n == 1), "{writes:?}");
    // Each write has its audit entry, naming the approver and the change.
    let audit = engine.store().audit_of(run.id).unwrap();
    assert_eq!(audit.len(), movers.len());
    assert_eq!(audit[0].approver.as_deref(), Some("bob"));
    assert_eq!(audit[0].changes[0].before, serde_json::json!(1));
    let late = engine
        .decide(approval.id, "carol", &Decision::Approve(None))
        .await
        .unwrap_err();
    assert!(
        late.to_string().contains("is already approved by bob"),
        "{late}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_cut_off_mid_write_is_replayed_and_writes_each_customer_once() {
    let server = sim(400).await;
    let movers = in_group(&server, 1);
    let engine = engine(&server, workflow("mover", built::UPDATE_EACH, UPDATE_EACH));
    let run = engine
        .start(
            "mover",
            Event::Manual {
                input: "1 3".into(),
            },
            "alice",
            false,
        )
        .unwrap();
    engine.execute(run.id).await.unwrap();
    let approval = engine.store().approvals(None).unwrap()[0].id;
    engine
        .store()
        .decide(approval, "bob", &[], &Decision::Approve(None), now())
        .map(|_| ())
        .unwrap_or_else(|e| panic!("{e}"));
    // Cut the run off again and again mid-way (the future is dropped, as a crash would stop
    // it), then let recovery finish it.
    let mut cuts = 0;
    for ms in [15u64, 25, 40] {
        let cut = tokio::time::timeout(Duration::from_millis(ms), engine.execute(run.id)).await;
        if cut.is_err() {
            cuts += 1;
        }
    }
    assert!(cuts > 0, "at least one cut landed mid-run");
    let in_doubt = engine
        .store()
        .journal(run.id)
        .unwrap()
        .iter()
        .filter(|e| matches!(e.state, EntryState::Intent))
        .count();
    let recovered = engine.recover().await.unwrap();
    let done = recovered
        .iter()
        .find(|r| r.id == run.id)
        .expect("recovered");
    assert_eq!(done.status, Status::Succeeded, "{:?}", done.error);
    let writes = writes_per_customer(&server);
    assert_eq!(writes.len(), movers.len(), "every customer written");
    assert!(
        writes.values().all(|&n| n == 1),
        "each exactly once ({in_doubt} writes were in doubt): {writes:?}"
    );
    assert!(in_group(&server, 1).is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dry_run_plans_and_sends_no_write() {
    let server = sim(30).await;
    let engine = engine(&server, workflow("mover", built::UPDATE_EACH, UPDATE_EACH));
    let run = engine
        .start(
            "mover",
            Event::Manual {
                input: "1 2".into(),
            },
            "alice",
            true,
        )
        .unwrap();
    let done = engine.execute(run.id).await.unwrap();
    assert_eq!(done.status, Status::Succeeded, "{:?}", done.error);
    assert_eq!(done.plan.len(), in_group(&server, 1).len());
    assert!(server.sim.read().writes.is_empty(), "no write sent");
    assert!(
        engine.store().approvals(None).unwrap().is_empty(),
        "no approval opened"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn n_of_m_approvals_resume_only_when_enough_approve() {
    let server = sim(10).await;
    let wf = workflow(
        "mover",
        built::UPDATE_EACH,
        "grants = [\"customers:read\", \"customers:write\", \"approvals\"]\n\
         [approvals]\napprovers = [\"bob\", \"carol\", \"dave\"]\nrequired = 2\n",
    );
    let engine = engine(&server, wf);
    let run = engine
        .start(
            "mover",
            Event::Manual {
                input: "1 2".into(),
            },
            "alice",
            false,
        )
        .unwrap();
    engine.execute(run.id).await.unwrap();
    let id = engine.store().approvals(None).unwrap()[0].id;
    let (one, resumed) = engine
        .decide(id, "bob", &Decision::Approve(None))
        .await
        .unwrap();
    assert_eq!(one.status, ApprovalStatus::Pending);
    assert!(resumed.is_none());
    assert_eq!(
        engine.store().run(run.id).unwrap().status,
        Status::AwaitingApproval
    );
    let twice = engine
        .decide(id, "bob", &Decision::Approve(None))
        .await
        .unwrap_err();
    assert!(twice.to_string().contains("has already decided"), "{twice}");
    let (two, resumed) = engine
        .decide(id, "dave", &Decision::Approve(None))
        .await
        .unwrap();
    assert_eq!(two.status, ApprovalStatus::Approved);
    assert_eq!(resumed.unwrap().status, Status::Succeeded);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expired_approval_resumes_the_run_with_expired() {
    let server = sim(5).await;
    let wf = workflow(
        "mover",
        built::UPDATE_EACH,
        "grants = [\"customers:read\", \"customers:write\", \"approvals\"]\n\
         [approvals]\nexpires-in = \"2s\"\n",
    );
    let engine = engine(&server, wf);
    let run = engine
        .start(
            "mover",
            Event::Manual {
                input: "1 2".into(),
            },
            "alice",
            false,
        )
        .unwrap();
    engine.execute(run.id).await.unwrap();
    // Expiry counts whole seconds: 2 s leaves the run's first attempt (with its dry-run plan,
    // slow in a debug build) a whole second before the approval can lapse.
    assert!(engine.expire_due().await.unwrap().is_empty(), "not yet");
    tokio::time::sleep(Duration::from_millis(3100)).await;
    let resumed = engine.expire_due().await.unwrap();
    assert_eq!(resumed.len(), 1);
    assert_eq!(resumed[0].status, Status::Failed);
    assert_eq!(resumed[0].error.as_deref(), Some("the approval expired"));
    assert!(server.sim.read().writes.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_gated_call_without_approval_is_refused() {
    let server = sim(3).await;
    let c = client(&server);
    let flagged = c
        .create_customer(&mageflow_magento::NewCustomer {
            email: "temp@mailinator.com".into(),
            firstname: "T".into(),
            lastname: "P".into(),
            website_id: Some(1),
            ..Default::default()
        })
        .await
        .unwrap();
    let wf = workflow(
        "watch",
        built::CUSTOMER_WATCH,
        "grants = [\"customers:read\", \"customers:write\"]\n\
         [policy]\nrequire-approval = [\"customers.update\"]\n",
    );
    let engine = engine(&server, wf);
    let run = engine
        .start(
            "watch",
            Event::Manual {
                input: format!("[{}]", flagged.id),
            },
            "cron",
            false,
        )
        .unwrap();
    let done = engine.execute(run.id).await.unwrap();
    assert_eq!(done.status, Status::Failed);
    assert!(
        done.error
            .as_deref()
            .unwrap()
            .contains("customers.update needs an approval granted earlier in this run"),
        "{:?}",
        done.error
    );
    assert!(writes_per_customer(&server).is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replay_that_diverges_fails_the_run_and_sends_nothing() {
    let server = sim(12).await;
    let engine = engine(&server, workflow("mover", built::UPDATE_EACH, UPDATE_EACH));
    let run = engine
        .start(
            "mover",
            Event::Manual {
                input: "1 2".into(),
            },
            "alice",
            false,
        )
        .unwrap();
    engine.execute(run.id).await.unwrap();
    // The run's recorded history no longer matches what the plugin does now.
    engine
        .store()
        .update_run(run.id, |r| {
            r.trigger = serde_json::json!({"kind": "manual", "input": "3 2"});
        })
        .unwrap();
    let id = engine.store().approvals(None).unwrap()[0].id;
    let (_, resumed) = engine
        .decide(id, "bob", &Decision::Approve(None))
        .await
        .unwrap();
    let failed = resumed.unwrap();
    assert_eq!(failed.status, Status::Failed);
    assert_eq!(
        failed.error.as_deref(),
        Some(
            "the plugin diverged from its recorded history at call 0: customers.search was recorded with other arguments"
        )
    );
    assert!(server.sim.read().writes.is_empty());
}

fn delivered(engine: &Engine) -> Vec<u64> {
    engine
        .store()
        .runs(None)
        .unwrap()
        .iter()
        .flat_map(|r| {
            r.trigger["customers"]
                .as_array()
                .unwrap()
                .iter()
                .map(|c| c["id"].as_u64().unwrap())
                .collect::<Vec<_>>()
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_poller_misses_and_doubles_nothing_when_many_change_in_one_second() {
    let server = sim(60).await;
    let wf = workflow(
        "watch",
        built::CUSTOMER_WATCH,
        "grants = [\"customers:read\", \"customers:write\"]\n\
         [trigger]\nkind = \"poll\"\ninterval = \"1s\"\nstart = \"now\"\n",
    );
    let engine = engine(&server, wf);
    let c = client(&server);
    assert!(
        engine.poll("watch", now()).await.unwrap().is_empty(),
        "nothing changed since now"
    );
    let mut changed = Vec::new();
    for round in 0..4u64 {
        // Ten changes, then a poll, all within a second or two: polls land inside the second
        // that later changes share.
        for id in (round * 10 + 1)..=(round * 10 + 10) {
            c.update_customer(
                id,
                &mageflow_magento::Patch::new().set("lastname", format!("R{round}")),
            )
            .await
            .unwrap();
            changed.push(id);
        }
        engine.poll("watch", now()).await.unwrap();
    }
    // Changed again after delivery: a later second, delivered again (a new change).
    tokio::time::sleep(Duration::from_millis(1100)).await;
    c.update_customer(5, &mageflow_magento::Patch::new().set("lastname", "Again"))
        .await
        .unwrap();
    changed.push(5);
    engine.poll("watch", now()).await.unwrap();
    assert!(
        engine.poll("watch", now()).await.unwrap().is_empty(),
        "nothing new"
    );
    let mut got = delivered(&engine);
    got.sort_unstable();
    changed.sort_unstable();
    assert_eq!(got, changed, "each change delivered once");
    let cursor: mageflow_engine::PollCursor = engine.store().cursor("poll/watch").unwrap().unwrap();
    assert_eq!(cursor.seen, [5]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn workflow_state_outlives_runs_and_replays_read_what_they_read() {
    let server = sim(1).await;
    let wf = workflow(
        "counter",
        built::HOST_CALLS,
        "grants = [\"customers:read\"]\n",
    );
    let engine = engine(&server, wf);
    let mut summaries = Vec::new();
    for _ in 0..3 {
        let run = engine
            .start(
                "counter",
                Event::Manual {
                    input: "count".into(),
                },
                "cron",
                false,
            )
            .unwrap();
        summaries.push(engine.execute(run.id).await.unwrap().summary.unwrap());
    }
    assert_eq!(summaries, ["run 1", "run 2", "run 3"]);
    assert_eq!(
        engine.store().state("counter", "count").unwrap().as_deref(),
        Some("3")
    );
    // A dry run reads the state and leaves it alone.
    let dry = engine
        .start(
            "counter",
            Event::Manual {
                input: "count".into(),
            },
            "cron",
            true,
        )
        .unwrap();
    assert_eq!(
        engine.execute(dry.id).await.unwrap().summary.as_deref(),
        Some("run 4")
    );
    assert_eq!(
        engine.store().state("counter", "count").unwrap().as_deref(),
        Some("3")
    );
}

/// Starts update-each (with `retry` lines in its workflow), lets it reach its approval, makes
/// Magento answer 503 to every customer PUT, and approves: the engine, the run's id, and the
/// run as the approval left it.
async fn approved_into_put_503s(
    server: &Server,
    retry: &str,
) -> (Engine, u64, mageflow_store::Run) {
    let wf = workflow(
        "mover",
        built::UPDATE_EACH,
        &format!("grants = [\"customers:read\", \"customers:write\", \"approvals\"]\n{retry}"),
    );
    let engine = engine(server, wf);
    let run = paused_move(&engine).await;
    let approval = engine
        .store()
        .approvals(Some(ApprovalStatus::Pending))
        .unwrap()[0]
        .id;
    server.sim.write().faults.push(
        serde_json::from_value(
            serde_json::json!({"method": "PUT", "path": "/V1/customers/*", "status": 503}),
        )
        .unwrap(),
    );
    let (_, resumed) = engine
        .decide(approval, "bob", &Decision::Approve(None))
        .await
        .unwrap();
    (
        engine,
        run.id,
        resumed.expect("the approval settled and the run resumed"),
    )
}

/// Issue 11: a call that keeps failing with 503 does not fail the run: the run goes
/// `retrying` with the next attempt time and the last error, holds nothing but a wake-up,
/// and finishes by replay once Magento is back, each customer written once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_that_meets_503s_waits_retrying_and_finishes_when_magento_is_back() {
    let server = sim(30).await;
    let movers = in_group(&server, 1);
    let (engine, run, waiting) = approved_into_put_503s(
        &server,
        "[retry]\ninitial-interval = \"1s\"\nmax-interval = \"2s\"\n",
    )
    .await;
    assert_eq!(waiting.status, Status::Retrying, "{:?}", waiting.error);
    let retry = waiting.retry.clone().expect("the retry state is kept");
    assert_eq!(
        (retry.name.as_str(), retry.attempts),
        ("customers.update", 1)
    );
    assert!(retry.last_error.contains("503"), "{}", retry.last_error);
    assert!(
        waiting
            .error
            .as_deref()
            .unwrap()
            .starts_with("retrying at ")
    );
    assert_eq!(engine.retry_queue().0, 1, "one wake-up, no worker");
    assert!(engine.due_retries(now() - 1).is_empty(), "not due yet");
    // Still failing: the next attempt counts on.
    let due = engine.due_retries(retry.next_at);
    assert_eq!(due, vec![run]);
    let again = engine.execute(run).await.unwrap();
    assert_eq!(again.status, Status::Retrying);
    assert_eq!(again.retry.as_ref().unwrap().attempts, 2);
    assert_eq!(
        again.retry.as_ref().unwrap().first_failed_at,
        retry.first_failed_at
    );
    // Magento is back.
    server.sim.write().faults.clear();
    let due = engine.due_retries(again.retry.as_ref().unwrap().next_at);
    assert_eq!(due, vec![run]);
    let done = engine.execute(run).await.unwrap();
    assert_eq!(done.status, Status::Succeeded, "{:?}", done.error);
    assert!(done.retry.is_none());
    let per = writes_per_customer(&server);
    assert_eq!(per.len(), movers.len());
    assert!(per.values().all(|n| *n == 1), "{per:?}");
}

/// Issue 11: with `max-attempts = 1` the plugin receives `unavailable` at once, as before.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_durable_retries_the_plugin_gets_unavailable() {
    let server = sim(5).await;
    let (_engine, _run, ended) =
        approved_into_put_503s(&server, "[retry]\nmax-attempts = 1\n").await;
    assert_eq!(ended.status, Status::Failed);
    assert!(
        ended.error.as_deref().unwrap().contains("Unavailable"),
        "{:?}",
        ended.error
    );
}

/// Issue 11: a Python plugin (componentize-py) that does not catch a host error fails the
/// run, and the run's first error line names the exception, not a wasm backtrace.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_uncaught_python_exception_is_the_first_line_of_the_runs_error() {
    let server = sim(3).await;
    let wf = workflow(
        "py",
        built::PY_UNCAUGHT,
        // componentize-py imports every interface of the world.
        "grants = [\"customers:read\", \"admin-users:read\", \"bulk\", \"approvals\"]\n",
    );
    let engine = engine(&server, wf);
    let run = engine
        .start(
            "py",
            Event::Manual {
                input: String::new(),
            },
            "alice",
            false,
        )
        .unwrap();
    let ended = engine.execute(run.id).await.unwrap();
    assert_eq!(ended.status, Status::Failed);
    let error = ended.error.unwrap();
    let first = error.lines().next().unwrap();
    assert!(
        first.starts_with("the plugin failed: uncaught Python exception "),
        "{error}\n{:?}",
        ended.log
    );
    assert!(
        first.contains("MagentoError_NotFound"),
        "names the host error: {first}"
    );
    assert!(
        !first.contains("wasm backtrace") && !first.contains("libc.so"),
        "{first}"
    );
    assert!(
        ended
            .log
            .iter()
            .any(|(level, line)| level == "stderr" && line.contains("PyErr")),
        "what Python printed is in the log: {:?}",
        ended.log
    );
    assert!(
        ended.log.iter().any(|(level, _)| level == "trap"),
        "the wasm backtrace is in the log"
    );
}
