//! Real components built from `tests/guests/` run against magento-sim: each is served, stopped
//! or refused as it should be, and the host keeps serving afterwards.

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use mageflow_magento::{Auth, Connection, Customer, MagentoClient};
use mageflow_runtime::{
    Call, Error, FixedClock, Gateway, Grants, Hooks, Limits, Pending, Reply, RunOptions, RunReport,
    Runtime, Trigger,
};
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
        limits,
        ..RunOptions::new(Arc::new(MagentoClient::new(conn).expect("client builds")))
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
    // Named by the limiter's typed error, not found in a trap's text.
    assert!(matches!(err, Error::Memory(n) if n == 32 << 20), "{err}");
    assert_eq!(
        err.to_string(),
        "the plugin was stopped: it tried to use more than its memory limit of 33554432 bytes"
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
    // Issue 11: the headline is the panic, in one line; the backtrace is in the log.
    let headline = err.to_string();
    assert!(
        headline.starts_with("the plugin failed: panicked at tests/guests/trap/src/lib.rs")
            && headline.contains("this plugin is broken on purpose")
            && !headline.contains("wasm backtrace")
            && !headline.contains('\n'),
        "{headline}"
    );
    assert!(
        report.log.iter().any(|l| l.level == "trap"),
        "the trap's backtrace is in the log: {:?}",
        report.log
    );
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

/// What the host-calls guest saw of time and randomness in one run.
async fn clock_report(runtime: &Runtime, opts: &RunOptions) -> serde_json::Value {
    let report = run(runtime, guests::HOST_CALLS, "customers:read", "clock", opts).await;
    let outcome = report.outcome.expect("ran").expect("ok");
    serde_json::from_str(&outcome.output_json.expect("clock output")).expect("JSON")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn time_and_randomness_come_from_the_run_hooks() {
    let server = sim().await;
    let runtime = shared();
    let pinned = |seed: u8| RunOptions {
        hooks: Hooks {
            clock: Arc::new(FixedClock(Duration::new(1_700_000_000, 500))),
            seed: Some([seed; 32]),
            ..Hooks::default()
        },
        ..options(&server, Limits::default())
    };
    let first = clock_report(runtime, &pinned(7)).await;
    // WASI's wall clock, runtime.now and the monotonic clock all read the hook's clock.
    assert_eq!(first["wall_secs"], 1_700_000_000);
    assert_eq!(first["wall_nanos"], 500);
    assert_eq!(first["runtime_now"], 1_700_000_000);
    assert_eq!(first["elapsed_nanos"], 0);
    // The same seed gives the same bytes (a replay sees what the first run saw) ...
    let again = clock_report(runtime, &pinned(7)).await;
    assert_eq!(first, again);
    // ... and another seed other bytes.
    let other = clock_report(runtime, &pinned(8)).await;
    assert_ne!(first["random"], other["random"]);
    // By default: the system clock and a fresh seed per run.
    let live = options(&server, Limits::default());
    let a = clock_report(runtime, &live).await;
    let b = clock_report(runtime, &live).await;
    let system = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    assert!(a["wall_secs"].as_u64().unwrap().abs_diff(system) < 60);
    assert_ne!(a["random"], b["random"], "a fresh seed per run");
}

/// Answers `customers.get` from memory; asked for customer 13 it answers the wrong shape.
#[derive(Debug)]
struct Memory(Customer);

impl Gateway for Memory {
    fn call(&self, call: Call) -> Pending<'_> {
        Box::pin(async move {
            Ok(match call {
                Call::GetCustomer(id) if id == self.0.id => {
                    Reply::Customer(Box::new(self.0.clone()))
                }
                Call::GetCustomer(13) => Reply::Done,
                Call::GetCustomer(id) => {
                    return Err(mageflow_runtime::Failure::Invalid {
                        field: "id".into(),
                        message: format!("no customer {id} in memory"),
                    });
                }
                other => unreachable!("echo makes no {other:?}"),
            })
        })
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn host_calls_go_through_the_gateway_and_a_wrong_reply_stops_the_run() {
    let runtime = shared();
    let customer: Customer = serde_json::from_value(serde_json::json!({
        "id": 42, "email": "ada@example.com", "firstname": "Ada", "lastname": "Lovelace",
        "group_id": 1, "website_id": 1, "store_id": 1,
    }))
    .expect("a customer");
    let opts = RunOptions::new(Arc::new(Memory(customer)));
    let report = run(runtime, guests::ECHO, "customers:read", "42", &opts).await;
    assert_eq!(
        report.outcome.expect("ran").expect("ok").summary,
        "ada@example.com"
    );
    let report = run(runtime, guests::ECHO, "customers:read", "7", &opts).await;
    let err = report
        .outcome
        .expect("ran")
        .expect_err("the error reaches the plugin");
    assert!(err.contains("no customer 7 in memory"), "{err}");
    let report = run(runtime, guests::ECHO, "customers:read", "13", &opts).await;
    let err = report.outcome.expect_err("a host fault traps");
    assert!(
        err.to_string()
            .contains("host fault: the gateway answered customers.get with Done"),
        "{err}: {:?}",
        report.log
    );
}

#[test]
fn compiled_components_are_kept_on_disk_across_runtimes() {
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("compile-cache-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let grants = || Grants::parse("customers:read").unwrap();
    let first = Runtime::with_disk_cache(&dir).expect("cache in a fresh directory");
    first
        .load(guests::ECHO, &wasm(guests::ECHO), grants())
        .expect("loads");
    let stats = first.cache_stats().expect("a disk cache");
    assert_eq!((stats.hits, stats.misses), (0, 1), "compiled once");
    drop(first);
    // A restart: a new engine with the same settings finds the compiled artifact.
    let second = Runtime::with_disk_cache(&dir).expect("the same directory");
    second
        .load(guests::ECHO, &wasm(guests::ECHO), grants())
        .expect("loads");
    let stats = second.cache_stats().expect("a disk cache");
    assert_eq!((stats.hits, stats.misses), (1, 0), "not compiled again");
    let relative = Runtime::with_disk_cache(std::path::Path::new("relative/dir")).unwrap_err();
    assert!(
        relative
            .to_string()
            .contains("give an absolute, writable directory"),
        "{relative}"
    );
    let _ = std::fs::remove_dir_all(&dir);
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
    // The example plugins are tested in tests/runtime/plugins.rs, UPDATE_EACH in host/engine,
    // CREATE_EACH in host/cli/tests/serve.rs, PY_UNCAUGHT in host/engine, SCIM_ADMIN and
    // SCIM_CUSTOMERS in host/cli/tests/server/scim.rs.
    let tested = [
        "ALLOC_UNBOUNDED",
        "CREATE_EACH",
        "CUSTOMER_WATCH",
        "ECHO",
        "GROUP_REASSIGN",
        "HOST_CALLS",
        "LOOP_FOREVER",
        "OFFBOARD_ADMIN",
        "ONBOARD_CUSTOMER",
        "PY_UNCAUGHT",
        "SCIM_ADMIN",
        "SCIM_CUSTOMERS",
        "TRAP",
        "UNGRANTED",
        "UPDATE_EACH",
        "WASI_FILE",
        "WASI_SOCKET",
    ];
    built.sort_unstable();
    assert_eq!(built, tested, "a guest was added without a test here");
}
