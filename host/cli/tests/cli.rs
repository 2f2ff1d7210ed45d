//! `mageflow magento ...` end to end: the real binary against magento-sim on 127.0.0.1:0.

use std::process::{Command, Output};

use magento_sim::config::{Consumer, Switch};
use magento_sim::{Server, SimConfig};
use serde_json::Value;

async fn sim(config: SimConfig) -> Server {
    magento_sim::start(config, "127.0.0.1:0")
        .await
        .expect("sim starts")
}

/// Runs `mageflow` with a clean environment plus `env`, off the async runtime.
async fn mageflow(env: &[(&str, String)], args: &[&str]) -> Output {
    let env: Vec<(String, String)> = env
        .iter()
        .map(|(k, v)| ((*k).to_owned(), v.clone()))
        .collect();
    let args: Vec<String> = args.iter().map(|a| (*a).to_owned()).collect();
    tokio::task::spawn_blocking(move || {
        Command::new(env!("CARGO_BIN_EXE_mageflow"))
            .env_clear()
            .envs(env)
            .args(&args)
            .output()
            .expect("mageflow runs")
    })
    .await
    .expect("the command thread finishes")
}

fn admin_env(server: &Server) -> Vec<(&'static str, String)> {
    vec![
        ("MAGEFLOW_MAGENTO_URL", server.url()),
        ("MAGEFLOW_ADMIN_USER", "admin".into()),
        ("MAGEFLOW_ADMIN_PASSWORD", "Admin123!".into()),
    ]
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// The uuid `bulk-update` printed as `submitted bulk <uuid>`.
fn submitted_bulk(o: &Output) -> String {
    stderr(o)
        .lines()
        .find_map(|l| l.strip_prefix("submitted bulk "))
        .unwrap_or_else(|| panic!("no bulk uuid in:\n{}", stderr(o)))
        .to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ping_says_who_and_how_for_each_auth_mode() {
    let server = sim(SimConfig {
        seed_customers: 12,
        integrations: vec!["crm".into()],
        ..Default::default()
    })
    .await;
    let o = mageflow(&admin_env(&server), &["magento", "ping"]).await;
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(
        stdout(&o),
        "ok: admin via admin token, store default; 12 customers visible\n"
    );
    let i = server.sim.integrations().remove(0);
    let oauth = vec![
        ("MAGEFLOW_MAGENTO_URL", server.url()),
        ("MAGEFLOW_STORE", "b2b_en".to_owned()),
        ("MAGEFLOW_CONSUMER_KEY", i.consumer_key.clone()),
        ("MAGEFLOW_CONSUMER_SECRET", i.consumer_secret.clone()),
        ("MAGEFLOW_ACCESS_TOKEN", i.access_token.clone()),
        (
            "MAGEFLOW_ACCESS_TOKEN_SECRET",
            i.access_token_secret.clone(),
        ),
    ];
    let o = mageflow(&oauth, &["magento", "ping"]).await;
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stdout(&o).contains("via integration OAuth 1.0a, store b2b_en"),
        "{}",
        stdout(&o)
    );
    assert!(
        !stdout(&o).contains(&i.consumer_secret) && !stderr(&o).contains(&i.access_token_secret)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn usage_errors_exit_2_and_magento_refusals_exit_1() {
    let server = sim(SimConfig {
        seed_customers: 1,
        ..Default::default()
    })
    .await;
    let o = mageflow(
        &[("MAGEFLOW_MAGENTO_URL", server.url())],
        &["magento", "ping"],
    )
    .await;
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("no credentials: set MAGEFLOW_ADMIN_USER"),
        "{}",
        stderr(&o)
    );
    let partial = [
        ("MAGEFLOW_MAGENTO_URL", server.url()),
        ("MAGEFLOW_CONSUMER_KEY", "k".to_owned()),
    ];
    let o = mageflow(&partial, &["magento", "ping"]).await;
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains(
        "missing MAGEFLOW_CONSUMER_SECRET, MAGEFLOW_ACCESS_TOKEN, MAGEFLOW_ACCESS_TOKEN_SECRET"
    ));
    let o = mageflow(
        &admin_env(&server),
        &[
            "magento",
            "customers",
            "search",
            "--filter",
            "group_id is 2",
        ],
    )
    .await;
    assert_eq!(o.status.code(), Some(2));
    let o = mageflow(&admin_env(&server), &["magento", "customers", "get", "999"]).await;
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(
        stderr(&o),
        "error: GET /V1/customers/999 answered 404: No such entity with customerId = 999\n"
    );
    let o = mageflow(&admin_env(&server), &["magento", "nonsense"]).await;
    assert_eq!(o.status.code(), Some(2));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_factor_is_explained() {
    let server = sim(SimConfig {
        two_factor: Switch::On,
        ..Default::default()
    })
    .await;
    let o = mageflow(&admin_env(&server), &["magento", "ping"]).await;
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(
        stderr(&o),
        "error: admin token login is blocked by two-factor authentication: use an integration token\n"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn search_filters_sorts_and_prints_json_lines() {
    let server = sim(SimConfig {
        seed_customers: 80,
        ..Default::default()
    })
    .await;
    let args = [
        "magento",
        "customers",
        "search",
        "--filter",
        "website_id eq 2",
        "--any",
        "id <= 20",
        "--any",
        "id >= 70",
        "--sort",
        "id:desc",
        "--all",
        "--json",
    ];
    let o = mageflow(&admin_env(&server), &args).await;
    assert!(o.status.success(), "{}", stderr(&o));
    let ids: Vec<u64> = stdout(&o)
        .lines()
        .map(|l| {
            serde_json::from_str::<Value>(l).unwrap()["id"]
                .as_u64()
                .unwrap()
        })
        .collect();
    assert_eq!(ids, vec![80, 75, 70, 20, 15, 10, 5]);
    let o = mageflow(
        &admin_env(&server),
        &["magento", "customers", "search", "--page-size", "5"],
    )
    .await;
    assert_eq!(stdout(&o).lines().count(), 6, "a header and 5 rows");
    assert_eq!(stderr(&o), "5 of 80 customers (--all for every match)\n");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn create_update_and_delete_a_customer() {
    let server = sim(SimConfig {
        seed_customers: 3,
        ..Default::default()
    })
    .await;
    let env = admin_env(&server);
    let o = mageflow(
        &env,
        &[
            "magento",
            "customers",
            "create",
            "--email",
            "new@example.com",
            "--firstname",
            "New",
            "--lastname",
            "One",
            "--website-id",
            "1",
            "--password",
            "weak",
        ],
    )
    .await;
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("password: The password needs at least 8 characters"),
        "{}",
        stderr(&o)
    );
    let mut with_pw = env.clone();
    with_pw.push(("MAGEFLOW_NEW_PASSWORD", "Str0ng!Pass".into()));
    let o = mageflow(
        &with_pw,
        &[
            "magento",
            "customers",
            "create",
            "--email",
            "new@example.com",
            "--firstname",
            "New",
            "--lastname",
            "One",
            "--website-id",
            "1",
        ],
    )
    .await;
    assert_eq!(
        stdout(&o),
        "created customer 4 <new@example.com> in website 1, group 1\n",
        "{}",
        stderr(&o)
    );
    let group = server.sim.read().customer(2).unwrap().group_id;
    let target = if group == 3 { 2 } else { 3 };
    let set = format!("group_id={target}");
    let o = mageflow(
        &env,
        &[
            "magento",
            "customers",
            "update",
            "2",
            "--set",
            &set,
            "--set",
            "custom_attributes.crm_id=A9",
            "--dry-run",
        ],
    )
    .await;
    assert_eq!(
        stdout(&o),
        format!(
            "customer 2: group_id: {group} -> {target}\ncustomer 2: custom_attributes.crm_id: null -> \"A9\"\ndry run: nothing sent\n"
        )
    );
    assert!(
        server.sim.read().writes.iter().all(|w| w.id != 2),
        "a dry run sends nothing"
    );
    let before = server.sim.read().customer(2).unwrap().addresses.len();
    let o = mageflow(
        &env,
        &["magento", "customers", "update", "2", "--set", &set],
    )
    .await;
    assert!(o.status.success(), "{}", stderr(&o));
    let after = server.sim.read().customer(2).unwrap().clone();
    assert_eq!(
        (after.group_id, after.addresses.len()),
        (target, before),
        "addresses survive"
    );
    let o = mageflow(&env, &["magento", "customers", "delete", "4"]).await;
    assert_eq!(stdout(&o), "deleted customer 4\n");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bulk_update_changes_every_match_and_reports() {
    let server = sim(SimConfig {
        seed_customers: 120,
        ..Default::default()
    })
    .await;
    let o = mageflow(
        &admin_env(&server),
        &[
            "magento",
            "customers",
            "bulk-update",
            "--filter",
            "website_id eq 1",
            "--set",
            "group_id=2",
            "--chunk",
            "25",
        ],
    )
    .await;
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(stdout(&o), "96 customers updated, 0 failed\n");
    assert_eq!(stderr(&o).matches("submitted bulk").count(), 4);
    let state = server.sim.read();
    assert!(
        state
            .all_customers()
            .filter(|c| c.website_id == 1)
            .all(|c| c.group_id == 2)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stalled_consumer_is_named_by_bulk_update() {
    let server = sim(SimConfig {
        seed_customers: 5,
        consumer: Consumer::Stopped,
        ..Default::default()
    })
    .await;
    let o = mageflow(
        &admin_env(&server),
        &[
            "magento",
            "customers",
            "bulk-update",
            "--set",
            "group_id=2",
            "--stall-after",
            "1",
        ],
    )
    .await;
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains(
            "5 operations still open after 1 s: is the async.operations.all consumer running?"
        ),
        "{}",
        stderr(&o)
    );
    let uuid = submitted_bulk(&o);
    let o = mageflow(&admin_env(&server), &["magento", "bulk", "status", &uuid]).await;
    assert!(
        stdout(&o).ends_with("5 operations, 5 open\n"),
        "{}",
        stdout(&o)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admin_users_and_roles() {
    let server = sim(SimConfig::default()).await;
    let env = admin_env(&server);
    let o = mageflow(&env, &["magento", "roles"]).await;
    assert_eq!(stdout(&o), "   1  Administrators\n   2  Customer Support\n");
    let mut with_pw = env.clone();
    with_pw.push(("MAGEFLOW_NEW_PASSWORD", "supp0rtpass".into()));
    let o = mageflow(
        &with_pw,
        &[
            "magento",
            "users",
            "create",
            "--username",
            "sup",
            "--firstname",
            "S",
            "--lastname",
            "Up",
            "--email",
            "sup@example.com",
            "--role-id",
            "2",
        ],
    )
    .await;
    assert_eq!(
        stdout(&o),
        "created admin user 2 (sup) with role 2\n",
        "{}",
        stderr(&o)
    );
    let o = mageflow(&env, &["magento", "users", "deactivate", "2"]).await;
    assert_eq!(stdout(&o), "deactivated admin user 2 (sup)\n");
    let o = mageflow(
        &env,
        &[
            "magento",
            "users",
            "search",
            "--filter",
            "is_active eq 0",
            "--json",
        ],
    )
    .await;
    let users: Vec<Value> = stdout(&o)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(users.len(), 1);
    assert_eq!(users[0]["username"], "sup");
    let off = sim(SimConfig {
        admin_users_api: Switch::Off,
        ..Default::default()
    })
    .await;
    let o = mageflow(&admin_env(&off), &["magento", "roles"]).await;
    assert_eq!(
        stderr(&o),
        "error: the admin-user REST endpoints are not installed on this Magento (they come from an extension)\n"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plugin_check_names_missing_grants_and_plugin_run_runs_against_magento() {
    let o = mageflow(
        &[],
        &[
            "plugin",
            "check",
            mageflow_test_artifacts::UNGRANTED,
            "--grants",
            "customers:read",
        ],
    )
    .await;
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stdout(&o).contains("mageflow:workflow/bulk@0.1.0")
            && stdout(&o).contains("NOT GRANTED: needs bulk"),
        "{}",
        stdout(&o)
    );
    assert!(
        stderr(&o).starts_with("error: the grants do not cover every import: add bulk ("),
        "{}",
        stderr(&o)
    );
    let o = mageflow(
        &[],
        &[
            "plugin",
            "check",
            mageflow_test_artifacts::UNGRANTED,
            "--grants",
            "bulk",
        ],
    )
    .await;
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).ends_with("ok: the grants cover every import\n"));
    let o = mageflow(&[], &["plugin", "check", "Cargo.toml"]).await;
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("is not a WebAssembly component of the mageflow workflow world"),
        "{}",
        stderr(&o)
    );

    let server = sim(SimConfig {
        seed_customers: 4,
        ..Default::default()
    })
    .await;
    let email = server.sim.read().customer(2).unwrap().email.clone();
    let o = mageflow(
        &admin_env(&server),
        &[
            "plugin",
            "run",
            mageflow_test_artifacts::ECHO,
            "--grants",
            "customers:read",
            "--input",
            "2",
        ],
    )
    .await;
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(
        stdout(&o),
        format!("[info] customer 2 is {email}\nok: {email}\n")
    );
    let o = mageflow(
        &admin_env(&server),
        &[
            "plugin",
            "run",
            mageflow_test_artifacts::LOOP_FOREVER,
            "--grants",
            "",
            "--wall-time",
            "1",
        ],
    )
    .await;
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(
        stderr(&o),
        "error: the plugin was stopped: it ran past its wall-time limit of 1s\n"
    );
    // Issue 11: a trap is one headline line naming the panic; the backtrace is in the log.
    let o = mageflow(
        &admin_env(&server),
        &[
            "plugin",
            "run",
            mageflow_test_artifacts::TRAP,
            "--grants",
            "",
        ],
    )
    .await;
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).starts_with(
            "error: the plugin failed: panicked at tests/guests/trap/src/lib.rs:9:9: this plugin is broken on purpose ("
        ) && stderr(&o).lines().count() == 1,
        "{}",
        stderr(&o)
    );
    assert!(stdout(&o).contains("[trap] "), "{}", stdout(&o));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plugin_commands_keep_compiled_plugins_in_the_cache_dir() {
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("cli-compile-cache-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let files = |d: &std::path::Path| -> usize {
        fn walk(d: &std::path::Path) -> usize {
            std::fs::read_dir(d).map_or(0, |rd| {
                rd.flatten()
                    .map(|e| {
                        if e.path().is_dir() {
                            walk(&e.path())
                        } else {
                            1
                        }
                    })
                    .sum()
            })
        }
        walk(d)
    };
    let check = [
        "plugin",
        "check",
        mageflow_test_artifacts::ECHO,
        "--grants",
        "customers:read",
    ];
    let o = mageflow(&[("MAGEFLOW_CACHE_DIR", dir.display().to_string())], &check).await;
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(files(&dir) >= 1, "the compiled plugin is on disk");
    let no_cache = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("cli-no-cache-{}", std::process::id()));
    let o = mageflow(
        &[("XDG_CACHE_HOME", no_cache.display().to_string())],
        &[&check[..], &["--no-cache"]].concat(),
    )
    .await;
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(files(&no_cache), 0, "--no-cache writes nothing");
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_config_file_connects_and_a_secret_file_others_can_read_is_refused() {
    use std::os::unix::fs::PermissionsExt as _;
    let server = sim(SimConfig {
        seed_customers: 3,
        ..Default::default()
    })
    .await;
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("cli-config-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let secret = dir.join("admin-password");
    std::fs::write(&secret, "Admin123!\n").unwrap();
    std::fs::set_permissions(&secret, std::fs::Permissions::from_mode(0o600)).unwrap();
    let config = dir.join("mageflow.toml");
    std::fs::write(
        &config,
        format!(
            "[magento]\nurl = {:?}\nadmin-user = \"admin\"\nadmin-password = {{ file = \"admin-password\" }}\n",
            server.url()
        ),
    )
    .unwrap();
    let path = config.display().to_string();
    let o = mageflow(&[], &["--config", &path, "magento", "ping"]).await;
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).contains("3 customers visible"), "{}", stdout(&o));
    // The environment overrides the file: a wrong URL there wins and fails.
    let o = mageflow(
        &[("MAGEFLOW_MAGENTO_URL", "http://127.0.0.1:1".to_owned())],
        &["--config", &path, "magento", "ping"],
    )
    .await;
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    std::fs::set_permissions(&secret, std::fs::Permissions::from_mode(0o644)).unwrap();
    let o = mageflow(&[], &["--config", &path, "magento", "ping"]).await;
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("can be read by others (mode 0644)")
            && stderr(&o).contains("chmod 600"),
        "{}",
        stderr(&o)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_logs_are_one_object_per_line_and_never_carry_the_password() {
    let server = sim(SimConfig::default()).await;
    let mut env = admin_env(&server);
    env.push(("RUST_LOG", "trace".into()));
    let o = mageflow(
        &env,
        &["--log-format", "json", "magento", "customers", "search"],
    )
    .await;
    assert!(o.status.success(), "{}", stderr(&o));
    let err = stderr(&o);
    let mut requests = 0;
    // Log lines are JSON; the command's own messages (the search's footer) are text.
    for line in err.lines().filter(|l| !l.ends_with("customers")) {
        let v: Value = serde_json::from_str(line).unwrap_or_else(|e| panic!("{line:?}: {e}"));
        if v["span"]["name"] == "magento.request" {
            requests += 1;
        }
    }
    assert!(requests > 0, "no magento.request span in:\n{err}");
    assert!(!err.contains("Admin123!"), "the password reached the log");
    let o = mageflow(&env, &["--log-format", "yaml", "magento", "ping"]).await;
    assert_eq!(o.status.code(), Some(2));
}

/// Every `magento` listing command's `--json` prints one JSON object per line (the workflow
/// listings are checked against a running server in `demo.rs`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_magento_listing_prints_json_lines() {
    let server = sim(SimConfig {
        seed_customers: 40,
        ..Default::default()
    })
    .await;
    let env = admin_env(&server);
    let o = mageflow(
        &env,
        &[
            "magento",
            "customers",
            "bulk-update",
            "--filter",
            "website_id eq 1",
            "--set",
            "group_id=2",
        ],
    )
    .await;
    assert!(o.status.success(), "{}", stderr(&o));
    let uuid = submitted_bulk(&o);
    for args in [
        vec!["magento", "customers", "search", "--json"],
        vec![
            "magento",
            "customers",
            "search",
            "--all",
            "--page-size",
            "7",
            "--json",
        ],
        vec!["magento", "users", "search", "--json"],
        vec!["magento", "roles", "--json"],
        vec!["magento", "groups", "--json"],
        vec!["magento", "bulk", "status", &uuid, "--json"],
    ] {
        let o = mageflow(&env, &args).await;
        assert!(o.status.success(), "{args:?}: {}", stderr(&o));
        let out = stdout(&o);
        assert!(!out.is_empty(), "{args:?} printed nothing");
        for line in out.lines() {
            let v: Value = serde_json::from_str(line)
                .unwrap_or_else(|e| panic!("{args:?}: {line:?} is not JSON: {e}"));
            assert!(v.is_object(), "{args:?}: {line}");
        }
    }
    let o = mageflow(&env, &["magento", "customers", "search", "--all", "--json"]).await;
    assert_eq!(stdout(&o).lines().count(), 40);
}
