//! The store's promises, checked on both backends with the same tests: sled in a directory,
//! and a real PostgreSQL server (see tests/support/postgres.rs).

#[path = "../../../tests/support/postgres.rs"]
mod postgres;

use std::sync::{Arc, Barrier};

use mageflow_store::{
    AccessEvent, Approval, ApprovalStatus, CursorGuard, CursorMove, Decision, Entry, EntryState,
    Error, Expiry, Hold, NewRun, Queued, SCHEMA_VERSION, Status, Store, TokenRecord,
};
use serde_json::{Value, json};

fn sled() -> Store {
    Store::temporary().unwrap()
}

fn pg() -> Store {
    Store::postgres(&postgres::server().fresh()).unwrap()
}

/// Runs a check on each backend, naming the one that failed.
fn on_both(check: impl Fn(&Store)) {
    for (name, store) in [("sled", sled()), ("postgres", pg())] {
        eprintln!("-- on {name}");
        check(&store);
    }
}

fn new_run(n: u8) -> NewRun {
    NewRun {
        workflow: "hooked".into(),
        plugin_hash: "ab".repeat(32),
        trigger: json!({"webhook": {"name": "customer_save_after", "n": n}}),
        requester: "webhook".into(),
        dry_run: false,
        seed: [n; 32],
        now: 1_000,
    }
}

fn runs_of(q: Queued) -> Vec<mageflow_store::Run> {
    match q {
        Queued::Runs(r) => r,
        Queued::Duplicate(id) => panic!("a duplicate of run {id}"),
        Queued::Moved => panic!("the cursor's guard failed"),
    }
}

#[test]
fn a_dedupe_key_queues_once_and_names_its_run_after() {
    on_both(|s| {
        let first = runs_of(s.queue(vec![new_run(1)], Some("hooked/1"), None).unwrap());
        assert_eq!(first[0].status, Status::Queued);
        assert_eq!(first[0].dedupe.as_deref(), Some("hooked/1"));
        assert_eq!(
            s.queue(vec![new_run(2)], Some("hooked/1"), None).unwrap(),
            Queued::Duplicate(first[0].id)
        );
        assert_eq!(s.dedupe_run("hooked/1").unwrap(), Some(first[0].id));
        assert_eq!(s.dedupe_run("hooked/2").unwrap(), None);
        assert_eq!(s.runs(None).unwrap().len(), 1);
        assert_eq!(s.run(first[0].id).unwrap(), first[0]);
        assert!(matches!(s.run(9_999_999), Err(Error::NoRun(9_999_999))));
    });
}

#[test]
fn runs_and_their_cursor_move_land_together() {
    on_both(|s| {
        let cursor = json!({"next": 60});
        let runs = runs_of(
            s.queue(
                vec![new_run(1), new_run(2)],
                None,
                Some(CursorMove::set("cron/tick", &cursor)),
            )
            .unwrap(),
        );
        assert_eq!(runs.len(), 2);
        assert!(runs[0].id < runs[1].id);
        assert_eq!(s.cursor::<Value>("cron/tick").unwrap(), Some(cursor));
        // A cursor move alone.
        let later = json!({"next": 120});
        assert!(
            runs_of(
                s.queue(Vec::new(), None, Some(CursorMove::set("cron/tick", &later)))
                    .unwrap()
            )
            .is_empty()
        );
        assert_eq!(s.cursor::<Value>("cron/tick").unwrap(), Some(later));
        let ids: Vec<u64> = s.runs(None).unwrap().iter().map(|r| r.id).collect();
        assert_eq!(ids, vec![runs[0].id, runs[1].id], "oldest first");
        assert_eq!(s.runs(Some(Status::Running)).unwrap().len(), 0);
    });
}

#[test]
fn an_attempt_is_begun_once_and_its_end_mends_a_record_changed_meanwhile() {
    on_both(|s| {
        let id = runs_of(s.queue(vec![new_run(1)], None, None).unwrap())[0].id;
        let begun = s.begin_attempt(id, 2_000).unwrap().unwrap();
        assert_eq!(
            (begun.run.status, begun.run.attempts, begun.run.updated_at),
            (Status::Running, 1, 2_000)
        );
        // Someone else changes the record after the start: the end must not overwrite it.
        s.update_run(id, |r| r.error = Some("noted".into()))
            .unwrap();
        let ended = s
            .end_attempt(&begun, |r| r.status = Status::Succeeded)
            .unwrap();
        assert_eq!(ended.status, Status::Succeeded);
        assert_eq!(ended.error.as_deref(), Some("noted"));
        assert_eq!(s.run(id).unwrap(), ended);
        // An ended run is left alone.
        let again = s.begin_attempt(id, 3_000).unwrap().unwrap().run;
        assert_eq!((again.status, again.attempts), (Status::Succeeded, 1));
        assert_eq!(s.runs(Some(Status::Succeeded)).unwrap().len(), 1);
    });
}

#[test]
fn journals_clock_readings_and_state_reads_come_back_in_order_after_a_flush() {
    on_both(|s| {
        let entry = |seq, done: bool| Entry {
            seq,
            call: "customers.update".into(),
            digest: format!("d{seq}"),
            state: if done {
                EntryState::Done {
                    result: serde_json::value::RawValue::from_string(
                        r#"{"ok": {"id": 7,  "b": 1, "a": 2}}"#.into(),
                    )
                    .unwrap(),
                }
            } else {
                EntryState::Intent
            },
        };
        s.record(5, &entry(0, false)).unwrap();
        s.flush().unwrap();
        s.record_all(5, &[entry(0, true), entry(1, false)]).unwrap();
        s.record_clock(5, 0, 1_795_737_600_123_456_789).unwrap();
        s.record_clock(5, 1, u128::from(u64::MAX) + 1).unwrap();
        s.record_state_read(5, 0, Some("cursor")).unwrap();
        s.record_state_read(5, 1, None).unwrap();
        let journal = s.journal(5).unwrap();
        assert_eq!(journal.len(), 2);
        match &journal[0].state {
            EntryState::Done { result } => assert_eq!(
                result.get(),
                r#"{"ok": {"id": 7,  "b": 1, "a": 2}}"#,
                "an answer is replayed as it was written"
            ),
            EntryState::Intent => panic!("entry 0 was completed"),
        }
        assert!(matches!(journal[1].state, EntryState::Intent));
        assert_eq!(
            s.clock_readings(5).unwrap(),
            vec![1_795_737_600_123_456_789, u128::from(u64::MAX) + 1]
        );
        assert_eq!(
            s.state_reads(5).unwrap(),
            vec![Some("cursor".to_owned()), None]
        );
        // Read up to the first gap.
        s.record(6, &entry(1, false)).unwrap();
        assert!(s.journal(6).unwrap().is_empty());
        assert!(s.journal(7).unwrap().is_empty());
    });
}

fn approval(run: u64, index: u32) -> Approval {
    Approval {
        id: 0,
        run,
        index,
        workflow: "hooked".into(),
        requester: "webhook".into(),
        title: "Onboard".into(),
        summary: "create customer".into(),
        details_json: None,
        approvers: vec!["alice".into(), "group:secops".into()],
        required: 2,
        created_at: 1_000,
        expires_at: Some(2_000),
        on_expiry: Expiry::Expire,
        status: ApprovalStatus::Pending,
        decisions: Vec::new(),
    }
}

#[test]
fn approvals_open_once_and_settle_by_their_rule() {
    on_both(|s| {
        let a = s.open_approval(approval(3, 0)).unwrap();
        assert!(a.id > 0);
        assert_eq!(s.open_approval(approval(3, 0)).unwrap().id, a.id, "once");
        assert_eq!(s.approval_for(3, 0).unwrap().unwrap().id, a.id);
        assert_eq!(s.approval_for(3, 1).unwrap(), None);
        let refused = |r: mageflow_store::Result<Approval>| match r {
            Err(Error::Refused(why)) => why,
            other => panic!("expected a refusal, got {other:?}"),
        };
        let approve = Decision::Approve(None);
        assert!(refused(s.decide(a.id, "webhook", &[], &approve, 1_100)).contains("own approval"));
        assert!(
            refused(s.decide(a.id, "mallory", &[], &approve, 1_100)).contains("not an approver")
        );
        let one = s.decide(a.id, "alice", &[], &approve, 1_100).unwrap();
        assert_eq!(one.status, ApprovalStatus::Pending, "two are required");
        assert!(refused(s.decide(a.id, "alice", &[], &approve, 1_101)).contains("already decided"));
        let two = s
            .decide(a.id, "bob", &["secops".into()], &approve, 1_102)
            .unwrap();
        assert_eq!(two.status, ApprovalStatus::Approved);
        assert_eq!(two.approved_by(), "alice, bob");
        assert_eq!(
            s.approvals(Some(ApprovalStatus::Approved)).unwrap().len(),
            1
        );
        let with = s.set_approval_details(a.id, r#"{"plan": []}"#).unwrap();
        assert_eq!(with.details_json.as_deref(), Some(r#"{"plan": []}"#));
        assert_eq!(s.approval(a.id).unwrap(), with);
        // Expiry: a decision after it is refused, and the lapse is kept.
        let b = s.open_approval(approval(4, 0)).unwrap();
        assert_eq!(s.expire(b.id, 1_999).unwrap(), None);
        assert!(refused(s.decide(b.id, "alice", &[], &approve, 2_000)).contains("expired"));
        assert_eq!(s.approval(b.id).unwrap().status, ApprovalStatus::Expired);
        assert_eq!(s.expire(b.id, 3_000).unwrap(), None, "settled once");
        assert!(matches!(s.approval(77_777_777), Err(Error::NoApproval(_))));
    });
}

#[test]
fn of_racing_decisions_exactly_one_settles_an_approval() {
    on_both(|s| {
        let mut one = approval(8, 0);
        one.required = 1;
        one.approvers.clear();
        let a = s.open_approval(one).unwrap();
        let start = Arc::new(Barrier::new(8));
        let outcomes: Vec<bool> = std::thread::scope(|scope| {
            let handles: Vec<_> = (0..8)
                .map(|i| {
                    let start = start.clone();
                    scope.spawn(move || {
                        start.wait();
                        let decision = if i % 2 == 0 {
                            Decision::Approve(None)
                        } else {
                            Decision::Reject("no".into())
                        };
                        s.decide(a.id, &format!("p{i}"), &[], &decision, 1_500)
                            .is_ok()
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        assert_eq!(outcomes.iter().filter(|ok| **ok).count(), 1, "{outcomes:?}");
        assert_eq!(s.approval(a.id).unwrap().decisions.len(), 1);
    });
}

fn token(id: &str) -> TokenRecord {
    TokenRecord {
        id: id.into(),
        name: "alice@example.com".into(),
        roles: vec!["approver".into()],
        workflows: Vec::new(),
        groups: Vec::new(),
        hash: "00".repeat(32),
        created_by: "admin".into(),
        created_at: 1_000,
        expires_at: None,
        revoked_at: None,
        last_used_at: None,
    }
}

#[test]
fn tokens_events_plugins_state_and_scim_records_are_kept() {
    on_both(|s| {
        s.put_token(&token("b1")).unwrap();
        s.put_token(&token("a1")).unwrap();
        assert!(matches!(s.put_token(&token("a1")), Err(Error::Refused(_))));
        let revoked = s
            .update_token("a1", |t| t.revoked_at = Some(1_060))
            .unwrap();
        assert_eq!(s.token("a1").unwrap(), Some(revoked));
        let ids: Vec<String> = s.tokens().unwrap().into_iter().map(|t| t.id).collect();
        assert_eq!(ids, ["a1", "b1"]);
        assert!(matches!(
            s.update_token("zz", |_| ()),
            Err(Error::Refused(_))
        ));
        let event = |action: &str| AccessEvent {
            seq: 0,
            at: 1_000,
            principal: "alice".into(),
            action: action.into(),
            target: "run 1".into(),
            detail: json!({}),
        };
        let first = s.record_event(event("run.start")).unwrap();
        let second = s.record_event(event("approval.approve")).unwrap();
        assert!(second.seq > first.seq);
        assert_eq!(s.events(first.seq).unwrap(), vec![second]);
        s.put_plugin("h1", b"\0asm").unwrap();
        s.put_plugin("h1", b"other").unwrap();
        assert_eq!(s.plugin("h1").unwrap().as_deref(), Some(&b"\0asm"[..]));
        assert_eq!(s.plugin("h2").unwrap(), None);
        s.set_state("wf", "since", "10").unwrap();
        s.set_state("wf", "since", "11").unwrap();
        assert_eq!(s.state("wf", "since").unwrap().as_deref(), Some("11"));
        assert_eq!(s.state("other", "since").unwrap(), None);

        s.scim_put("admin/User", "a1", "Ann", None, &json!({"userName": "Ann"}))
            .unwrap();
        s.scim_put("admin/User", "b2", "bob", None, &json!({"userName": "bob"}))
            .unwrap();
        s.scim_put("customers/User", "c3", "ann", None, &json!({}))
            .unwrap();
        assert_eq!(
            s.scim_named("admin/User", "ANN").unwrap().as_deref(),
            Some("a1")
        );
        assert_eq!(s.scim_list("admin/User").unwrap().len(), 2);
        s.scim_put(
            "admin/User",
            "a1",
            "anne",
            Some("Ann"),
            &json!({"userName": "anne"}),
        )
        .unwrap();
        assert_eq!(s.scim_named("admin/User", "ann").unwrap(), None);
        assert_eq!(
            s.scim_get("admin/User", "a1").unwrap().unwrap()["userName"],
            "anne"
        );
        s.scim_remove("admin/User", "a1", "anne").unwrap();
        assert_eq!(s.scim_get("admin/User", "a1").unwrap(), None);
        assert_eq!(s.scim_named("admin/User", "anne").unwrap(), None);
        assert!(s.check().is_ok());
    });
}

#[test]
fn a_postgres_store_keeps_everything_across_a_reconnect_and_refuses_a_newer_schema() {
    let url = postgres::server().fresh();
    let id = {
        let s = Store::postgres(&url).unwrap();
        let id = runs_of(s.queue(vec![new_run(1)], Some("k"), None).unwrap())[0].id;
        s.record_clock(id, 0, 42).unwrap();
        s.flush().unwrap();
        id
    };
    let s = Store::postgres(&url).unwrap();
    assert_eq!(s.run(id).unwrap().status, Status::Queued);
    assert_eq!(s.clock_readings(id).unwrap(), vec![42]);
    assert_eq!(
        mageflow_store::migrate(&url).unwrap(),
        (SCHEMA_VERSION, SCHEMA_VERSION),
        "nothing left to apply"
    );
    let schema = url.rsplit("%3D").next().unwrap();
    postgres::server().sql(&format!(
        "INSERT INTO {schema}.mageflow_schema (version, applied_by) VALUES ({}, 'mageflow 99')",
        SCHEMA_VERSION + 1
    ));
    let refused = Store::postgres(&url).unwrap_err();
    assert!(matches!(refused, Error::SchemaTooNew { .. }), "{refused}");
    assert!(
        refused.to_string().contains("newer than this mageflow's"),
        "{refused}"
    );
}

#[test]
fn an_unreachable_server_and_a_wrong_url_are_named() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let gone = Store::postgres(&format!("postgres://postgres@127.0.0.1:{port}/x")).unwrap_err();
    assert!(matches!(gone, Error::Unavailable(_)), "{gone}");
    assert!(gone.to_string().contains("nothing is lost"), "{gone}");
    let bad = Store::postgres("mysql://nope").unwrap_err();
    assert!(
        bad.to_string()
            .contains("postgres://USER@HOST:PORT/DATABASE"),
        "{bad}"
    );
}

/// Two workers on one database (handles of their own, as two `serve` processes have), and
/// the database's schema.
fn two_workers() -> (Store, Store, String) {
    let url = postgres::server().fresh();
    let schema = url.rsplit("%3D").next().unwrap().to_owned();
    (
        Store::postgres(&url).unwrap(),
        Store::postgres(&url).unwrap(),
        schema,
    )
}

/// Ends a lease as if its worker had stalled past it (and its grace).
fn run_out(schema: &str, run: u64) {
    postgres::server().sql(&format!(
        "UPDATE {schema}.runs SET lease_until = now() - interval '1 second' WHERE id = {run}"
    ));
}

#[test]
fn a_run_is_claimed_by_one_worker_and_a_worker_whose_lease_was_taken_writes_nothing() {
    let (a, b, schema) = two_workers();
    assert!(a.shared() && a.worker() != b.worker());
    let id = runs_of(a.queue(vec![new_run(1)], None, None).unwrap())[0].id;
    let started = a.begin_attempt(id, 2_000).unwrap().expect("free");
    assert!(matches!(a.hold(id), Hold::Held(left) if left > std::time::Duration::from_secs(50)));
    assert!(b.begin_attempt(id, 2_000).unwrap().is_none(), "a holds it");
    assert!(b.claim_due(10, 2_000).unwrap().is_empty(), "a holds it");
    assert_eq!(b.hold(id), Hold::Unleased);

    // a stalls past its lease; b takes the run over.
    a.record(id, &entry(0, "customers.get")).unwrap();
    run_out(&schema, id);
    let taken = b.claim_due(10, 2_000).unwrap();
    assert_eq!(taken.len(), 1);
    assert_eq!(taken[0].run.attempts, 2);
    // a wakes: what it journaled is dropped, its end and its approval are refused.
    a.record(id, &entry(1, "customers.update")).unwrap();
    a.flush().unwrap();
    assert_eq!(a.hold(id), Hold::Lost);
    assert!(b.journal(id).unwrap().is_empty(), "nothing of a's is kept");
    let end = a.end_attempt(&started, |r| r.status = Status::Succeeded);
    assert!(
        matches!(end, Err(Error::LeaseLost(run)) if run == id),
        "{end:?}"
    );
    assert!(matches!(
        a.open_approval(approval(id, 0)),
        Err(Error::LeaseLost(_))
    ));
    assert_eq!(a.hold(id), Hold::Lost, "lost until the engine lets go");
    a.release(id);
    assert_eq!(a.hold(id), Hold::Unleased);

    // b's writes land, and its end lets the run go for good.
    b.record(id, &entry(0, "customers.get")).unwrap();
    let ended = b
        .end_attempt(&taken[0], |r| r.status = Status::Succeeded)
        .unwrap();
    assert_eq!(ended.attempts, 2);
    assert_eq!(b.journal(id).unwrap().len(), 1);
    assert_eq!(b.run(id).unwrap().status, Status::Succeeded);
    assert!(
        a.claim_due(10, 9_999).unwrap().is_empty(),
        "an ended run is never due"
    );
}

fn entry(seq: u64, call: &str) -> Entry {
    Entry {
        seq,
        call: call.into(),
        digest: format!("d{seq}"),
        state: EntryState::Intent,
    }
}

#[test]
fn of_workers_claiming_at_once_each_run_goes_to_exactly_one() {
    let url = postgres::server().fresh();
    let queuer = Store::postgres(&url).unwrap();
    let runs: Vec<NewRun> = (0..200).map(|n| new_run(n as u8)).collect();
    let queued = runs_of(queuer.queue(runs, None, None).unwrap());
    let workers: Vec<Store> = (0..4).map(|_| Store::postgres(&url).unwrap()).collect();
    let barrier = Arc::new(Barrier::new(workers.len()));
    let claimed: Vec<Vec<u64>> = std::thread::scope(|scope| {
        let handles: Vec<_> = workers
            .iter()
            .map(|w| {
                let barrier = barrier.clone();
                scope.spawn(move || {
                    barrier.wait();
                    let mut mine = Vec::new();
                    loop {
                        let batch = w.claim_due(7, 1_000).unwrap();
                        if batch.is_empty() {
                            return mine;
                        }
                        mine.extend(batch.iter().map(|s| s.run.id));
                    }
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let mut all: Vec<u64> = claimed.iter().flatten().copied().collect();
    all.sort_unstable();
    let mut expected: Vec<u64> = queued.iter().map(|r| r.id).collect();
    expected.sort_unstable();
    assert_eq!(all, expected, "every run claimed once, none twice");
    assert!(
        claimed.iter().filter(|c| !c.is_empty()).count() > 1,
        "the work was shared: {:?}",
        claimed.iter().map(Vec::len).collect::<Vec<_>>()
    );
    let stats = queuer.queue_stats(1_000).unwrap();
    assert_eq!(stats.depth, 0, "all held");
}

/// Alice rejects the approval on `worker`: a rejection settles it at once.
fn reject(worker: &Store, approval: u64) {
    worker
        .decide(
            approval,
            "alice",
            &[],
            &Decision::Reject("no".into()),
            1_500,
        )
        .unwrap();
}

#[test]
fn a_decision_on_any_worker_makes_its_run_due_for_whichever_claims_it() {
    let (a, b, _) = two_workers();
    let id = runs_of(a.queue(vec![new_run(1)], None, None).unwrap())[0].id;
    assert_eq!(
        b.queue_stats(1_000).unwrap(),
        mageflow_store::QueueStats {
            depth: 1,
            oldest_created_at: Some(1_000)
        }
    );
    let started = a.begin_attempt(id, 1_000).unwrap().unwrap();
    let opened = a.open_approval(approval(id, 0)).unwrap();
    a.end_attempt(&started, |r| r.status = Status::AwaitingApproval)
        .unwrap();
    assert!(
        b.claim_due(10, 2_000).unwrap().is_empty(),
        "it waits for people"
    );
    assert_eq!(b.queue_stats(2_000).unwrap().depth, 0);
    reject(&b, opened.id);
    let resumed = b.claim_due(10, 2_000).unwrap();
    assert_eq!(resumed.len(), 1, "b resumes what a suspended");
    assert_eq!(
        b.approvals_of(id).unwrap()[0].status,
        ApprovalStatus::Rejected
    );
    // A decision that lands while the run is still suspending is not lost: its end finds
    // the approval settled and leaves it due.
    let id = runs_of(a.queue(vec![new_run(2)], None, None).unwrap())[0].id;
    let started = a.begin_attempt(id, 1_000).unwrap().unwrap();
    let opened = a.open_approval(approval(id, 0)).unwrap();
    reject(&b, opened.id);
    a.end_attempt(&started, |r| r.status = Status::AwaitingApproval)
        .unwrap();
    assert_eq!(b.claim_due(10, 2_000).unwrap().len(), 1);
}

#[test]
fn of_two_workers_firing_one_trigger_one_moves_its_cursor() {
    on_both(|s| {
        let before = json!({"next": 60});
        let after = json!({"next": 120});
        let first = CursorMove {
            key: "cron/tick",
            to: &before,
            guard: CursorGuard::Was(None),
        };
        assert_eq!(runs_of(s.queue(vec![], None, Some(first)).unwrap()), vec![]);
        assert_eq!(
            s.queue(vec![], None, Some(first)).unwrap(),
            Queued::Moved,
            "set once"
        );
        let tick = CursorMove {
            key: "cron/tick",
            to: &after,
            guard: CursorGuard::Was(Some(&before)),
        };
        assert_eq!(
            runs_of(s.queue(vec![new_run(1)], None, Some(tick)).unwrap()).len(),
            1
        );
        // The other worker read the same cursor: its tick is refused, and queues nothing.
        assert_eq!(
            s.queue(vec![new_run(2)], None, Some(tick)).unwrap(),
            Queued::Moved
        );
        assert_eq!(s.runs(None).unwrap().len(), 1);
        assert_eq!(s.cursor::<Value>("cron/tick").unwrap(), Some(after.clone()));
    });
    // A poll's lease: one worker at a time, and a move under a fence the lease lost is refused.
    let (a, b, schema) = two_workers();
    let ttl = std::time::Duration::from_secs(60);
    let lease = a.lease_cursor("poll/watch", ttl).unwrap().expect("free");
    assert_eq!(lease.value, None);
    assert!(
        b.lease_cursor("poll/watch", ttl).unwrap().is_none(),
        "a holds it"
    );
    let at = json!({"at": "2026-01-01 00:00:00"});
    let under = |fence| CursorMove {
        key: "poll/watch",
        to: &at,
        guard: CursorGuard::Fence(fence),
    };
    postgres::server().sql(&format!(
        "UPDATE {schema}.cursors SET lease_until = now() - interval '1 second'"
    ));
    let taken = b.lease_cursor("poll/watch", ttl).unwrap().expect("ran out");
    assert_eq!(
        a.queue(vec![new_run(1)], None, Some(under(lease.fence)))
            .unwrap(),
        Queued::Moved,
        "a's fence moved on"
    );
    assert_eq!(
        runs_of(
            b.queue(vec![new_run(1)], None, Some(under(taken.fence)))
                .unwrap()
        )
        .len(),
        1
    );
    assert_eq!(b.runs(None).unwrap().len(), 1);
    // The move let the lease go.
    let again = a
        .lease_cursor("poll/watch", ttl)
        .unwrap()
        .expect("free again");
    assert_eq!(again.value, Some(at));
}

#[test]
fn state_a_run_sets_is_written_with_its_journal_while_its_lease_holds() {
    let (a, b, schema) = two_workers();
    let id = runs_of(a.queue(vec![new_run(1)], None, None).unwrap())[0].id;
    a.begin_attempt(id, 1_000).unwrap().unwrap();
    a.record_state(id, "hooked", "since", "10").unwrap();
    assert_eq!(
        a.states("hooked").unwrap(),
        vec![],
        "written at the next durable point"
    );
    a.flush().unwrap();
    assert_eq!(
        a.states("hooked").unwrap(),
        vec![("since".into(), "10".into())]
    );
    a.record_state(id, "hooked", "since", "11").unwrap();
    run_out(&schema, id);
    b.claim_due(1, 1_000).unwrap();
    a.flush().unwrap();
    assert_eq!(
        b.states("hooked").unwrap(),
        vec![("since".into(), "10".into())],
        "the value set after the lease was lost is dropped"
    );
}

#[test]
fn a_worker_is_woken_when_another_queues_a_run() {
    let (a, b, _) = two_workers();
    let woken = b.wakeups().expect("PostgreSQL notifies");
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        // The listener's first look wakes it once it listens.
        tokio::time::timeout(std::time::Duration::from_secs(10), woken.notified())
            .await
            .expect("listening");
        a.queue(vec![new_run(1)], None, None).unwrap();
        tokio::time::timeout(std::time::Duration::from_secs(10), woken.notified())
            .await
            .expect("b is told of a's run");
    });
    assert!(
        Store::temporary().unwrap().wakeups().is_none(),
        "sled queues in one process"
    );
}
