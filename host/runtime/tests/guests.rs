//! Real components built from `tests/guests/` run against magento-sim: each is served, stopped
//! or refused as it should be, and the host keeps serving afterwards.

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use mageflow_magento::{Auth, Connection, MagentoClient};
use mageflow_runtime::{Error, Grants, Limits, RunOptions, RunReport, Runtime, Trigger};
use mageflow_test_artifacts as guests;
use magento_sim::{Server, SimConfig};

/// One runtime for every test here: compiled components are cached by hash, so each guest is
/// compiled once per test binary.
fn shared() -> &'static Runtime {
    static RUNTIME: OnceLock<Runtime> = OnceLock::new();
    RUNTIME.get_or_init(|| Runtime::new().expect("the runtime starts"))
}

async fn sim() -> Server {
    magento_sim::start(
        SimConfig {
            seed_customers: 5,
            ..Default::default()
        },
        "127.0.0.1:0",
    )
    .await
    .expect("sim starts")
}

fn options(server: &Server, limits: Limits) -> RunOptions {
    let conn = Connection::new(
        server.url(),
        Auth::Admin {
            username: "admin".into(),
            password: "Admin123!".into(),
        },
    );
    RunOptions {
        client: Arc::new(MagentoClient::new(conn).expect("client builds")),
        limits,
        decision: None,
        config: Default::default(),
    }
}

fn wasm(path: &str) -> Vec<u8> {
    std::fs::read(path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

async fn run(
    runtime: &Runtime,
    path: &str,
    grants: &str,
    input: &str,
    opts: &RunOptions,
) -> RunReport {
    let plugin = runtime
        .load(path, &wasm(path), Grants::parse(grants).unwrap())
        .expect("the guest loads");
    plugin.run(&Trigger::Manual(input.into()), opts).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn echo_reads_a_customer_through_the_host() {
    let server = sim().await;
    let runtime = shared();
    let opts = options(&server, Limits::default());
    let report = run(runtime, guests::ECHO, "customers:read", "3", &opts).await;
    let outcome = report.outcome.expect("ran").expect("the plugin succeeded");
    let expected = server.sim.read().customer(3).unwrap().email.clone();
    assert_eq!(outcome.summary, expected);
    assert!(
        report
            .log
            .iter()
            .any(|l| l.level == "info" && l.message == format!("customer 3 is {expected}")),
        "{:?}",
        report.log
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_call_outside_the_grants_is_denied_not_trapped() {
    let server = sim().await;
    let runtime = shared();
    let opts = options(&server, Limits::default());
    // customers:write covers the import, but not the read the plugin makes.
    let report = run(runtime, guests::ECHO, "customers:write", "3", &opts).await;
    let err = report
        .outcome
        .expect("ran")
        .expect_err("the plugin reports the denial");
    assert!(
        err.contains("customers.get needs the customers:read grant"),
        "{err}"
    );
}

#[test]
fn a_plugin_importing_an_ungranted_interface_is_refused_at_load() {
    let runtime = shared();
    let err = runtime
        .load(
            guests::UNGRANTED,
            &wasm(guests::UNGRANTED),
            Grants::parse("customers:read").unwrap(),
        )
        .unwrap_err();
    assert!(matches!(err, Error::MissingGrants { .. }));
    assert_eq!(
        err.to_string(),
        "the plugin imports mageflow:workflow/bulk@0.1.0, which the workflow's grants do not cover: add bulk"
    );
    let err = runtime
        .load(guests::ECHO, &wasm(guests::ECHO), Grants::default())
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("mageflow:workflow/customers@0.1.0"),
        "{err}"
    );
}

#[test]
fn bytes_that_are_not_a_component_are_named() {
    let runtime = shared();
    let err = runtime
        .load("notes.txt", b"hello", Grants::default())
        .unwrap_err();
    assert!(
        err.to_string()
            .starts_with("notes.txt is not a WebAssembly component of the mageflow workflow world"),
        "{err}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_plugin_that_loops_forever_is_stopped_at_its_wall_time_and_the_host_carries_on() {
    let server = sim().await;
    let runtime = shared();
    let opts = options(
        &server,
        Limits {
            wall_time: Duration::from_millis(300),
            ..Limits::default()
        },
    );
    let report = run(runtime, guests::LOOP_FOREVER, "", "", &opts).await;
    let err = report.outcome.expect_err("stopped");
    assert!(matches!(err, Error::WallTime(_)), "{err}");
    assert_eq!(
        err.to_string(),
        "the plugin was stopped: it ran past its wall-time limit of 300ms"
    );
    let again = run(
        runtime,
        guests::ECHO,
        "customers:read",
        "1",
        &options(&server, Limits::default()),
    )
    .await;
    assert!(again.outcome.expect("ran").is_ok(), "the host still serves");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_plugin_that_allocates_without_bound_is_stopped_at_its_memory_limit() {
    let server = sim().await;
    let runtime = shared();
    let opts = options(
        &server,
        Limits {
            memory_bytes: 32 << 20,
            ..Limits::default()
        },
    );
    let report = run(runtime, guests::ALLOC_UNBOUNDED, "", "", &opts).await;
    let err = report.outcome.expect_err("stopped");
    assert!(
        matches!(err, Error::Memory(_)) || err.to_string().contains("memory"),
        "{err}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_plugin_that_traps_is_reported_with_its_panic() {
    let server = sim().await;
    let runtime = shared();
    let report = run(
        runtime,
        guests::TRAP,
        "",
        "",
        &options(&server, Limits::default()),
    )
    .await;
    let err = report.outcome.expect_err("trapped");
    assert!(matches!(err, Error::Trap(_)), "{err}");
    assert!(
        report
            .log
            .iter()
            .any(|l| l.level == "stderr" && l.message.contains("this plugin is broken on purpose")),
        "{:?}",
        report.log
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wasi_gives_no_files_and_no_sockets() {
    let server = sim().await;
    let runtime = shared();
    let opts = options(&server, Limits::default());
    let file = run(runtime, guests::WASI_FILE, "", "", &opts).await;
    let err = file.outcome.expect("ran").expect_err("no file");
    assert!(err.starts_with("cannot open /etc/passwd"), "{err}");
    let socket = run(runtime, guests::WASI_SOCKET, "", "", &opts).await;
    let err = socket.outcome.expect("ran").expect_err("no socket");
    assert!(err.starts_with("cannot connect"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn host_calls_counts_what_it_makes() {
    let server = sim().await;
    let runtime = shared();
    let opts = options(&server, Limits::default());
    let gets = run(
        runtime,
        guests::HOST_CALLS,
        "customers:read",
        "get 2 5",
        &opts,
    )
    .await;
    assert_eq!(gets.outcome.expect("ran").expect("ok").summary, "5 calls");
    let now = run(
        runtime,
        guests::HOST_CALLS,
        "customers:read",
        "now 100",
        &opts,
    )
    .await;
    assert_eq!(now.outcome.expect("ran").expect("ok").summary, "100 calls");
    let bad = run(runtime, guests::HOST_CALLS, "customers:read", "fly", &opts).await;
    assert!(
        bad.outcome
            .expect("ran")
            .unwrap_err()
            .starts_with("input must be")
    );
}

#[test]
fn every_guest_has_a_test() {
    let mut built = Vec::new();
    macro_rules! collect {
        ($name:ident) => {
            built.push(stringify!($name));
        };
    }
    mageflow_test_artifacts::foreach_guest!(collect);
    // The example plugins are tested in tests/plugins.rs.
    let tested = [
        "ALLOC_UNBOUNDED",
        "CUSTOMER_WATCH",
        "ECHO",
        "GROUP_REASSIGN",
        "HOST_CALLS",
        "LOOP_FOREVER",
        "OFFBOARD_ADMIN",
        "ONBOARD_CUSTOMER",
        "TRAP",
        "UNGRANTED",
        "WASI_FILE",
        "WASI_SOCKET",
    ];
    built.sort_unstable();
    assert_eq!(built, tested, "a guest was added without a test here");
}
