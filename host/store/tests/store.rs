//! The store on a real sled directory: queueing is atomic with dedupe keys and cursors,
//! records survive reopening, approvals settle exactly once.

use mageflow_store::{
    Approval, ApprovalStatus, CursorMove, Decision, Entry, EntryState, Expiry, NewRun, Queued,
    Status, Store,
};
use serde_json::json;

fn dir(name: &str) -> std::path::PathBuf {
    let d = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("store-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    d
}

fn new_run(workflow: &str) -> NewRun {
    NewRun {
        workflow: workflow.into(),
        plugin_hash: "ab".repeat(32),
        trigger: json!({"manual": "{}"}),
        requester: "alice".into(),
        dry_run: false,
        seed: [7; 32],
        now: 1_000,
    }
}

fn approval(run: u64, index: u32, required: u32) -> Approval {
    Approval {
        id: 0,
        run,
        index,
        workflow: "wf".into(),
        requester: "alice".into(),
        title: "Move 3 customers".into(),
        summary: "c1, c2, c3".into(),
        details_json: None,
        approvers: vec!["bob".into(), "carol".into(), "dave".into()],
        required,
        created_at: 1_000,
        expires_at: Some(2_000),
        on_expiry: Expiry::Expire,
        status: ApprovalStatus::Pending,
        decisions: Vec::new(),
    }
}

#[test]
fn runs_queue_with_their_dedupe_key_and_cursor_atomically_and_survive_reopening() {
    let path = dir("queue");
    let id = {
        let store = Store::open(&path).unwrap();
        let cursor = json!({"updated_at": "2026-01-01 00:00:00", "ids": [4]});
        let Queued::Runs(runs) = store
            .queue(
                vec![new_run("watch"), new_run("watch")],
                Some("watch/delivery-1"),
                Some(CursorMove::set("poll/watch", &cursor)),
            )
            .unwrap()
        else {
            panic!("queued")
        };
        assert_eq!(runs.len(), 2);
        assert!(runs[0].id < runs[1].id);
        // The same delivery again: nothing is written, the first run is named.
        let again = store
            .queue(vec![new_run("watch")], Some("watch/delivery-1"), None)
            .unwrap();
        assert_eq!(again, Queued::Duplicate(runs[0].id));
        assert_eq!(store.runs(None).unwrap().len(), 2);
        // A second process cannot open the same directory.
        let busy = Store::open(&path).unwrap_err();
        assert!(
            busy.to_string()
                .contains("in use by another mageflow process"),
            "{busy}"
        );
        store.flush().unwrap();
        runs[0].id
    };
    let store = Store::open(&path).unwrap();
    let run = store.run(id).unwrap();
    assert_eq!(
        (run.status, run.workflow.as_str()),
        (Status::Queued, "watch")
    );
    assert_eq!(
        store
            .cursor::<serde_json::Value>("poll/watch")
            .unwrap()
            .unwrap()["ids"],
        json!([4])
    );
    let done = store
        .update_run(id, |r| {
            r.status = Status::Succeeded;
            r.summary = Some("ok".into());
        })
        .unwrap();
    assert_eq!(done.status, Status::Succeeded);
    assert_eq!(store.runs(Some(Status::Succeeded)).unwrap().len(), 1);
    assert_eq!(store.runs(Some(Status::Queued)).unwrap().len(), 1);
    let _ = std::fs::remove_dir_all(&path);
}

#[test]
fn journals_keep_calls_in_order_per_run() {
    let store = Store::temporary().unwrap();
    for (run, n) in [(1u64, 3u64), (2, 2)] {
        for seq in 0..n {
            let entry = Entry {
                seq,
                call: "customers.get".into(),
                digest: format!("d{seq}"),
                state: EntryState::Intent,
            };
            store.record(run, &entry).unwrap();
        }
    }
    store
        .record(
            1,
            &Entry {
                seq: 1,
                call: "customers.get".into(),
                digest: "d1".into(),
                state: EntryState::Done {
                    result: serde_json::value::to_raw_value(&json!({"ok": 1})).unwrap(),
                },
            },
        )
        .unwrap();
    let j = store.journal(1).unwrap();
    assert_eq!(j.len(), 3);
    assert_eq!(j.iter().map(|e| e.seq).collect::<Vec<_>>(), [0, 1, 2]);
    assert!(matches!(j[1].state, EntryState::Done { .. }));
    assert_eq!(store.journal(2).unwrap().len(), 2);
    store.record_clock(1, 0, 5).unwrap();
    store.record_clock(1, 1, 1u128 << 70).unwrap();
    assert_eq!(store.clock_readings(1).unwrap(), [5, 1u128 << 70]);
}

#[test]
fn approvals_need_n_of_m_and_refuse_self_repeat_late_and_outside_decisions() {
    let store = Store::temporary().unwrap();
    let a = store.open_approval(approval(9, 0, 2)).unwrap();
    assert!(a.id > 0);
    // Opening the same request again (a replay) finds the same approval.
    assert_eq!(store.open_approval(approval(9, 0, 2)).unwrap().id, a.id);
    let refused = |by: &str| {
        store
            .decide(a.id, by, &[], &Decision::Approve(None), 1_100)
            .unwrap_err()
            .to_string()
    };
    assert_eq!(
        refused("alice"),
        "alice started run 9 and cannot decide its own approval"
    );
    assert_eq!(
        refused("mallory"),
        format!(
            "mallory is not an approver of approval {}; its approvers are bob, carol, dave",
            a.id
        )
    );
    let one = store
        .decide(
            a.id,
            "bob",
            &[],
            &Decision::Approve(Some("fine".into())),
            1_100,
        )
        .unwrap();
    assert_eq!(one.status, ApprovalStatus::Pending, "1 of 2");
    assert_eq!(
        refused("bob"),
        format!("bob has already decided approval {}", a.id)
    );
    let two = store
        .decide(a.id, "carol", &[], &Decision::Approve(None), 1_200)
        .unwrap();
    assert_eq!(two.status, ApprovalStatus::Approved);
    assert_eq!(two.approved_by(), "bob, carol");
    assert_eq!(
        refused("dave"),
        format!(
            "approval {} is already approved by carol: a late decision changes nothing",
            a.id
        )
    );
    // A rejection settles at once.
    let b = store.open_approval(approval(9, 1, 2)).unwrap();
    let r = store
        .decide(
            b.id,
            "dave",
            &[],
            &Decision::Reject("wrong group".into()),
            1_100,
        )
        .unwrap();
    assert_eq!(r.status, ApprovalStatus::Rejected);
    assert_eq!(r.decisions[0].comment.as_deref(), Some("wrong group"));
}

#[test]
fn approvals_expire_as_their_policy_says() {
    let store = Store::temporary().unwrap();
    let a = store.open_approval(approval(3, 0, 1)).unwrap();
    assert_eq!(store.expire(a.id, 1_999).unwrap(), None);
    let late = store
        .decide(a.id, "bob", &[], &Decision::Approve(None), 2_000)
        .unwrap_err();
    assert_eq!(
        late.to_string(),
        format!(
            "approval {} expired at 2000: a decision now changes nothing",
            a.id
        )
    );
    assert_eq!(
        store.approval(a.id).unwrap().status,
        ApprovalStatus::Expired
    );
    let mut rejecting = approval(3, 1, 1);
    rejecting.on_expiry = Expiry::Reject;
    let b = store.open_approval(rejecting).unwrap();
    let settled = store.expire(b.id, 5_000).unwrap().expect("it lapsed");
    assert_eq!(settled.status, ApprovalStatus::Rejected);
    assert_eq!(store.expire(b.id, 5_001).unwrap(), None, "once");
    assert_eq!(
        store.approval(b.id).unwrap().status,
        ApprovalStatus::Rejected
    );
    assert_eq!(
        store
            .approvals(Some(ApprovalStatus::Pending))
            .unwrap()
            .len(),
        0
    );
}

#[test]
fn racing_decisions_settle_once() {
    let store = Store::temporary().unwrap();
    let a = store.open_approval(approval(4, 0, 1)).unwrap();
    let handles: Vec<_> = ["bob", "carol", "dave"]
        .into_iter()
        .map(|by| {
            let store = store.clone();
            std::thread::spawn(move || store.decide(a.id, by, &[], &Decision::Approve(None), 1_500))
        })
        .collect();
    let wins = handles
        .into_iter()
        .map(|h| h.join().unwrap())
        .filter(Result::is_ok)
        .count();
    assert_eq!(wins, 1, "the first decision that settles it wins");
    let settled = store.approval(a.id).unwrap();
    assert_eq!(settled.decisions.len(), 1);
    assert_eq!(settled.status, ApprovalStatus::Approved);
}

#[test]
fn plugins_and_state_are_kept() {
    let store = Store::temporary().unwrap();
    store.put_plugin("h1", b"\0asm").unwrap();
    assert_eq!(store.plugin("h1").unwrap().unwrap(), b"\0asm");
    assert!(store.plugin("h2").unwrap().is_none());
    store.set_state("wf", "last", "42").unwrap();
    assert_eq!(store.state("wf", "last").unwrap().as_deref(), Some("42"));
    assert_eq!(store.state("other", "last").unwrap(), None);
}

#[test]
fn a_directory_that_cannot_be_opened_is_named_with_its_cause_kept() {
    // A regular file where the data directory should be.
    let path = dir("not-a-directory");
    std::fs::write(&path, b"not a store").unwrap();
    let err = Store::open(&path).unwrap_err();
    assert!(
        matches!(&err, mageflow_store::Error::Open { dir, .. } if dir == &path.display().to_string()),
        "{err:?}"
    );
    assert!(
        std::error::Error::source(&err).is_some(),
        "the cause is kept: {err:?}"
    );
    let _ = std::fs::remove_file(&path);
}
