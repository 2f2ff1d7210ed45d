//! The example plugins, built from `plugins/`, run against magento-sim and leave the expected
//! Magento state.

use std::sync::{Arc, OnceLock};

use mageflow_magento::{Auth, Connection, MagentoClient};
use mageflow_runtime::{
    ApprovalAsk, Approver, Grants, Preset, RunOptions, RunReport, Runtime, Trigger, Verdict,
};
use mageflow_test_artifacts as built;
use magento_sim::{Server, SimConfig};
use serde_json::json;

/// One runtime for every test here: compiled components are cached by hash, so each guest is
/// compiled once per test binary.
fn shared() -> &'static Runtime {
    static RUNTIME: OnceLock<Runtime> = OnceLock::new();
    RUNTIME.get_or_init(|| Runtime::new().expect("the runtime starts"))
}

async fn sim(n: usize) -> Server {
    magento_sim::start(
        SimConfig {
            seed_customers: n,
            ..Default::default()
        },
        "127.0.0.1:0",
    )
    .await
    .expect("sim starts")
}

fn client(server: &Server) -> Arc<MagentoClient> {
    let conn = Connection::new(
        server.url(),
        Auth::Admin {
            username: "admin".into(),
            password: "Admin123!".into(),
        },
    );
    Arc::new(MagentoClient::new(conn).unwrap())
}

fn options(server: &Server, decision: Option<Preset>) -> RunOptions {
    RunOptions {
        approver: Arc::new(decision.unwrap_or(Preset::Undecided)),
        ..RunOptions::new(client(server))
    }
}

/// Decides nothing yet.
#[derive(Debug)]
struct Waiting;

impl Approver for Waiting {
    fn decide(&self, _index: u32, _ask: &ApprovalAsk) -> Verdict {
        Verdict::Suspend
    }
}

async fn run(
    runtime: &Runtime,
    path: &str,
    grants: &str,
    input: serde_json::Value,
    opts: &RunOptions,
) -> RunReport {
    let wasm = std::fs::read(path).unwrap();
    let plugin = runtime
        .load(path, &wasm, Grants::parse(grants).unwrap())
        .expect("loads");
    plugin.run(&Trigger::Manual(input.to_string()), opts).await
}

fn approve() -> Option<Preset> {
    Some(Preset::Approve("alice".into()))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn onboard_customer_creates_and_gates_privileged_groups() {
    let server = sim(0).await;
    let runtime = shared();
    let grants = "customers:read,customers:write,approvals";
    let plain =
        json!({"email": "new@example.com", "firstname": "New", "lastname": "One", "website_id": 1});
    let report = run(
        runtime,
        built::ONBOARD_CUSTOMER,
        grants,
        plain.clone(),
        &options(&server, None),
    )
    .await;
    let outcome = report.outcome.unwrap().unwrap();
    assert!(
        outcome
            .summary
            .starts_with("created customer 1 <new@example.com>"),
        "{}",
        outcome.summary
    );
    assert!(
        report.approvals.is_empty(),
        "the General group needs no approval"
    );
    let again = run(
        runtime,
        built::ONBOARD_CUSTOMER,
        grants,
        plain,
        &options(&server, None),
    )
    .await;
    assert_eq!(
        again.outcome.unwrap().unwrap().summary,
        "new@example.com already exists as customer 1"
    );

    let vip = json!({"email": "vip@example.com", "firstname": "V", "lastname": "Ip", "group": "Wholesale"});
    let rejected = run(
        runtime,
        built::ONBOARD_CUSTOMER,
        grants,
        vip.clone(),
        &options(
            &server,
            Some(Preset::Reject("bob".into(), "not a reseller".into())),
        ),
    )
    .await;
    assert_eq!(
        rejected.outcome.unwrap().unwrap_err(),
        "onboarding vip@example.com was rejected by bob: not a reseller"
    );
    assert_eq!(
        rejected.approvals,
        vec!["Onboard vip@example.com into Wholesale".to_owned()]
    );
    let approved = run(
        runtime,
        built::ONBOARD_CUSTOMER,
        grants,
        vip,
        &options(&server, approve()),
    )
    .await;
    assert!(approved.outcome.unwrap().is_ok());
    let state = server.sim.read();
    let vip = state
        .all_customers()
        .find(|c| c.email == "vip@example.com")
        .unwrap();
    assert_eq!(vip.group_id, 2, "Wholesale");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn offboard_admin_deactivates_after_approval() {
    let server = sim(0).await;
    let opts = options(&server, approve());
    let client = client(&server);
    client
        .create_admin_user(&mageflow_magento::NewAdminUser {
            username: "leaver".into(),
            firstname: "Lea".into(),
            lastname: "Ver".into(),
            email: "leaver@example.com".into(),
            password: "leaver123".into(),
            role_id: 2,
            is_active: true,
        })
        .await
        .unwrap();
    let runtime = shared();
    let report = run(
        runtime,
        built::OFFBOARD_ADMIN,
        "admin-users:write,approvals",
        json!({"email": "leaver@example.com", "reason": "left"}),
        &opts,
    )
    .await;
    assert_eq!(
        report.outcome.unwrap().unwrap().summary,
        "deactivated admin user leaver"
    );
    assert!(!server.sim.read().admin_users[&2].is_active);

    // No decision yet: the run stops at the request (the engine resumes it by replay).
    client
        .update_admin_user(
            2,
            &mageflow_magento::Patch::new().set("is_active", json!(true)),
        )
        .await
        .unwrap();
    let waiting = RunOptions {
        approver: Arc::new(Waiting),
        ..options(&server, None)
    };
    let report = run(
        runtime,
        built::OFFBOARD_ADMIN,
        "admin-users:write,approvals",
        json!({"email": "leaver@example.com"}),
        &waiting,
    )
    .await;
    let err = report.outcome.expect_err("suspended");
    assert!(
        matches!(err, mageflow_runtime::Error::Suspended(_)),
        "{err}"
    );
    assert_eq!(
        err.to_string(),
        "the run is waiting for approval \"Deactivate admin user leaver\""
    );
    assert!(
        server.sim.read().admin_users[&2].is_active,
        "nothing written"
    );

    // A gated call is refused unless an approval was granted earlier in the same run: echo
    // never asks, so its customers.get is denied ...
    let gated = RunOptions {
        gated: ["customers.get".to_owned()].into(),
        ..options(&server, approve())
    };
    let report = run(runtime, built::ECHO, "customers:read", json!(1), &gated).await;
    let err = report.outcome.unwrap().unwrap_err();
    assert!(
        err.contains("customers.get needs an approval granted earlier in this run"),
        "{err}"
    );
    // ... while offboard-admin asks first, so its gated deactivate goes through.
    let gated_approved = RunOptions {
        gated: ["admin-users.deactivate".to_owned()].into(),
        ..options(&server, approve())
    };
    let report = run(
        runtime,
        built::OFFBOARD_ADMIN,
        "admin-users:write,approvals",
        json!({"email": "leaver@example.com"}),
        &gated_approved,
    )
    .await;
    assert!(report.outcome.unwrap().is_ok());
    assert!(!server.sim.read().admin_users[&2].is_active);

    let none = run(
        runtime,
        built::OFFBOARD_ADMIN,
        "admin-users:write,approvals",
        json!({"email": "ghost@example.com"}),
        &opts,
    )
    .await;
    assert_eq!(
        none.outcome.unwrap().unwrap().summary,
        "no admin user has the email ghost@example.com; nothing to do"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn group_reassign_moves_every_match_by_bulk() {
    let server = sim(60).await;
    let before: Vec<u64> = server
        .sim
        .read()
        .all_customers()
        .filter(|c| c.group_id == 1)
        .map(|c| c.id)
        .collect();
    assert!(!before.is_empty());
    let runtime = shared();
    let report = run(
        runtime,
        built::GROUP_REASSIGN,
        "customers:read,bulk,approvals",
        json!({"from_group": 1, "to_group": 3}),
        &options(&server, approve()),
    )
    .await;
    let outcome = report.outcome.unwrap().unwrap();
    assert_eq!(
        outcome.summary,
        format!("moved {} customers from group 1 to group 3", before.len())
    );
    assert_eq!(
        report.approvals,
        vec![format!(
            "Move {} customers from group 1 to group 3",
            before.len()
        )]
    );
    let state = server.sim.read();
    assert!(
        before
            .iter()
            .all(|id| state.customer(*id).unwrap().group_id == 3)
    );
    assert!(state.all_customers().all(|c| c.group_id != 1));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn customer_watch_flags_disposable_domains() {
    let server = sim(3).await;
    let opts = options(&server, None);
    let c = client(&server)
        .create_customer(&mageflow_magento::NewCustomer {
            email: "temp@mailinator.com".into(),
            firstname: "Tem".into(),
            lastname: "P".into(),
            website_id: Some(1),
            ..Default::default()
        })
        .await
        .unwrap();
    let runtime = shared();
    let report = run(
        runtime,
        built::CUSTOMER_WATCH,
        "customers:read,customers:write",
        json!([1, 2, c.id]),
        &opts,
    )
    .await;
    assert_eq!(
        report.outcome.unwrap().unwrap().summary,
        "flagged 1 of 3 changed customers"
    );
    let state = server.sim.read();
    let flagged = state.customer(c.id).unwrap();
    assert!(
        flagged
            .custom_attributes
            .iter()
            .any(|a| a.attribute_code == "flagged_disposable" && a.value == "1")
    );
    assert!(state.customer(1).unwrap().custom_attributes.is_empty());
}
