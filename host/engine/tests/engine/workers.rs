//! Several workers on one PostgreSQL database, each an engine with a store handle of its own
//! (as each `mageflow serve` has): a worker whose lease is taken sends nothing more and the
//! new owner writes each customer once, a decision taken on one worker resumes the run on
//! another, a cron tick fires once whichever workers look, and a run queued on one worker
//! is claimed by another.

use std::sync::Arc;
use std::time::Duration;

use mageflow_engine::Engine;
use mageflow_store::{ApprovalStatus, Decision, Error, Status};
use mageflow_test_artifacts as built;

use crate::durable::{
    UPDATE_EACH, client, in_group, now, paused_move, runtime, sim, workflow, writes_per_customer,
};
use crate::stores::Place;

/// A worker on `place`, with `wf` loaded against `server`.
fn worker(
    place: &Place,
    server: &magento_sim::Server,
    wf: mageflow_engine::Workflow,
) -> Arc<Engine> {
    let engine = Engine::new(place.open(), runtime());
    engine.add(wf, client(server)).expect("the workflow loads");
    Arc::new(engine)
}

/// Starts a move of group 1 to group 2 on `a` and approves it: the run is ready to write.
async fn approved_move(a: &Engine) -> u64 {
    let run = paused_move(a).await.id;
    let approval = a.store().approvals(Some(ApprovalStatus::Pending)).unwrap()[0].id;
    a.store()
        .decide(approval, "bob", &[], &Decision::Approve(None), now())
        .unwrap();
    run
}

fn update_count(server: &magento_sim::Server) -> usize {
    writes_per_customer(server).values().sum()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_whose_lease_is_taken_sends_nothing_more_and_the_new_owner_writes_each_once() {
    let server = sim(300).await;
    let movers = in_group(&server, 1);
    // Slow writes, so the takeover lands in the middle of them.
    server.sim.write().faults.push(
        serde_json::from_value(
            serde_json::json!({"method": "PUT", "path": "/V1/customers/*", "latency_ms": 15}),
        )
        .unwrap(),
    );
    let place = Place::new("workers");
    let wf = || workflow("mover", built::UPDATE_EACH, UPDATE_EACH);
    let (a, b) = (worker(&place, &server, wf()), worker(&place, &server, wf()));
    let run = approved_move(&a).await;
    let running = tokio::spawn({
        let a = a.clone();
        async move { a.execute(run).await }
    });
    while update_count(&server) < 10 {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    // a stalls past its lease and grace (as a frozen process would); b takes the run over.
    place.sql(&format!(
        "UPDATE {{schema}}.runs SET lease_until = now() - interval '1 second' WHERE id = {run}"
    ));
    assert_eq!(b.claim_due(now()).await, vec![run], "b claims it");
    let lost = running.await.unwrap();
    assert!(
        matches!(&lost, Err(e) if matches!(e, mageflow_engine::EngineError::Store(Error::LeaseLost(r)) if *r == run)),
        "a is told it lost the run: {lost:?}"
    );
    let at_takeover = update_count(&server);
    assert!(at_takeover < movers.len(), "taken over in the middle");
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(update_count(&server), at_takeover, "a sends nothing more");
    let done = b.execute(run).await.unwrap();
    assert_eq!(done.status, Status::Succeeded, "{:?}", done.error);
    assert_eq!(done.attempts, 3, "a's two attempts, and b's");
    let writes = writes_per_customer(&server);
    assert_eq!(writes.len(), movers.len(), "every customer written");
    assert!(
        writes.values().all(|&n| n == 1),
        "each exactly once: {writes:?}"
    );
    assert!(
        a.metrics()
            .render()
            .contains("mageflow_leases_lost_total 1"),
        "counted"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_decision_taken_on_one_worker_resumes_the_run_another_suspended() {
    let server = sim(20).await;
    let movers = in_group(&server, 1);
    let place = Place::new("workers");
    let wf = || workflow("mover", built::UPDATE_EACH, UPDATE_EACH);
    let (a, b) = (worker(&place, &server, wf()), worker(&place, &server, wf()));
    paused_move(&a).await;
    let approval = b.store().approvals(Some(ApprovalStatus::Pending)).unwrap()[0].id;
    let (settled, resumed) = b
        .decide(approval, "bob", &Decision::Approve(None))
        .await
        .unwrap();
    assert_eq!(settled.status, ApprovalStatus::Approved);
    let resumed = resumed.expect("resumed where it was decided");
    assert_eq!(resumed.status, Status::Succeeded, "{:?}", resumed.error);
    assert_eq!(writes_per_customer(&server).len(), movers.len());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cron_tick_fires_once_whichever_workers_look_and_any_worker_claims_its_run() {
    let server = sim(0).await;
    let place = Place::new("workers");
    let wf = || {
        workflow(
            "tick",
            built::ECHO,
            "grants = [\"customers:read\"]\n[trigger]\nkind = \"cron\"\nschedule = \"* * * * * *\"\noverlap = \"allow\"\n",
        )
    };
    let workers: Vec<Arc<Engine>> = (0..3).map(|_| worker(&place, &server, wf())).collect();
    let start = now();
    // The first to look sets the schedule going.
    for w in &workers {
        assert!(w.cron_tick("tick", start).unwrap().is_empty());
    }
    // Ten seconds of ticks, every worker looking at each at once.
    let mut fired = Vec::new();
    for t in 1..=10 {
        let looks: Vec<_> = workers
            .iter()
            .map(|w| {
                let w = w.clone();
                tokio::task::spawn_blocking(move || w.cron_tick("tick", start + t).unwrap())
            })
            .collect();
        for look in looks {
            fired.extend(look.await.unwrap());
        }
    }
    assert_eq!(fired.len(), 10, "one run a tick: {fired:?}");
    let mut ticks: Vec<u64> = workers[0]
        .store()
        .runs(None)
        .unwrap()
        .iter()
        .map(|r| r.trigger["at"].as_u64().unwrap_or_default())
        .collect();
    ticks.sort_unstable();
    ticks.dedup();
    assert_eq!(ticks.len(), 10, "no tick twice");
    // Nobody dispatched them: any worker claims them, each run once, and runs them.
    let mut claimed = Vec::new();
    for (i, w) in workers.iter().enumerate() {
        for id in w.claim_due(now() + 20).await {
            let run = w.execute(id).await.unwrap();
            assert_eq!(run.status, Status::Succeeded, "worker {i}: {:?}", run.error);
            assert_eq!(run.attempts, 1, "worker {i}");
            claimed.push(id);
        }
    }
    claimed.sort_unstable();
    fired.sort_unstable();
    assert_eq!(claimed, fired);
}

/// PostgreSQL stops in the middle of a run's writes: the worker stops the run where it stood
/// and sends nothing more, claims nothing while the database is down, and once it is back
/// (and the run's lease has run out) claims the run again, which writes each customer once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn when_postgres_stops_mid_run_nothing_is_lost_and_the_run_carries_on_when_it_is_back() {
    let pg = crate::postgres::Server::private();
    let server = sim(200).await;
    let movers = in_group(&server, 1);
    server.sim.write().faults.push(
        serde_json::from_value(
            serde_json::json!({"method": "PUT", "path": "/V1/customers/*", "latency_ms": 10}),
        )
        .unwrap(),
    );
    let store = mageflow_store::Store::postgres(&pg.fresh()).unwrap();
    // Short leases, and requests short enough for them.
    store.set_lease_terms(mageflow_store::LeaseTerms {
        ttl: Duration::from_secs(2),
        grace: Duration::from_millis(500),
    });
    let mut conn = mageflow_magento::Connection::new(
        server.url(),
        mageflow_magento::Auth::Admin {
            username: "admin".into(),
            password: "Admin123!".into(),
        },
    );
    conn.timeout = Duration::from_millis(500);
    let engine = Arc::new(Engine::new(store, runtime()));
    engine
        .add(
            workflow("mover", built::UPDATE_EACH, UPDATE_EACH),
            Arc::new(mageflow_magento::MagentoClient::new(conn).unwrap()),
        )
        .unwrap();
    let run = approved_move(&engine).await;
    let running = tokio::spawn({
        let engine = engine.clone();
        async move { engine.execute(run).await }
    });
    while update_count(&server) < 20 {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    pg.stop();
    let halted = running.await.unwrap();
    assert!(
        matches!(
            &halted,
            Err(mageflow_engine::EngineError::Store(Error::Unavailable(_)))
        ),
        "the run stops where it stood: {halted:?}"
    );
    let at_stop = update_count(&server);
    assert!(at_stop < movers.len());
    assert!(
        engine.claim_due(now()).await.is_empty(),
        "nothing to claim from"
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(update_count(&server), at_stop, "nothing more sent");

    pg.start();
    let mut claimed = Vec::new();
    for _ in 0..100 {
        claimed = engine.claim_due(now()).await;
        if !claimed.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(claimed, vec![run], "claimed again once its lease ran out");
    let done = engine.execute(run).await.unwrap();
    assert_eq!(done.status, Status::Succeeded, "{:?}", done.error);
    let writes = writes_per_customer(&server);
    assert_eq!(writes.len(), movers.len(), "every customer written");
    assert!(
        writes.values().all(|&n| n == 1),
        "each exactly once: {writes:?}"
    );
}
