//! `mageflow plugin new` and `plugin build` for Rust, Python and TypeScript, from an empty
//! folder to a successful `plugin run` against magento-sim: the project's native test passes
//! as written, the component imports only what `workflow.toml` grants, an uncaught exception
//! fails the run with its message first, and a plugin that imports an interface its grants do
//! not cover is refused at build time, naming the fix. Also the Python SDK's own tests.

#[path = "support/sim.rs"]
mod sim_support;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use magento_sim::Server;

fn scratch(name: &str) -> PathBuf {
    let d = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("plugins-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// `mageflow` with the toolchains and compile cache kept in the target directory.
fn mageflow(args: &[&str], extra: &[(&str, String)]) -> Output {
    let tmp = Path::new(env!("CARGO_TARGET_TMPDIR"));
    Command::new(env!("CARGO_BIN_EXE_mageflow"))
        .env("MAGEFLOW_TOOLCHAINS", tmp.join("toolchains"))
        .env("MAGEFLOW_CACHE_DIR", tmp.join("plugins-compile-cache"))
        .env("CARGO_TARGET_DIR", tmp.join("plugins-target"))
        .envs(extra.iter().map(|(k, v)| (*k, v.clone())))
        .args(args)
        .output()
        .expect("mageflow runs")
}

fn ok(o: &Output, what: &str) -> String {
    let out = String::from_utf8_lossy(&o.stdout).into_owned();
    assert!(
        o.status.success(),
        "{what} failed:\n{out}\n{}",
        String::from_utf8_lossy(&o.stderr)
    );
    out
}

/// A sim with 350 customers, all in group 1 (two search pages).
async fn sim() -> Server {
    sim_support::in_group_1(350).await
}

/// The Python SDK's folder (for PYTHONPATH).
fn sdk_python() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../plugins/sdk-python")
}

/// A Python with pytest (pinned), in a venv under the target directory.
fn pytest_python() -> PathBuf {
    static ONCE: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _once = ONCE.lock().unwrap_or_else(|e| e.into_inner());
    let venv = Path::new(env!("CARGO_TARGET_TMPDIR")).join("pytest-venv");
    let python = venv.join("bin").join("python");
    if !venv.join("bin").join("pytest").is_file() {
        let made = Command::new("python3")
            .arg("-m")
            .arg("venv")
            .arg(&venv)
            .status()
            .unwrap();
        assert!(made.success(), "python3 -m venv failed");
        let pip = Command::new(&python)
            .args([
                "-m",
                "pip",
                "install",
                "--quiet",
                "--disable-pip-version-check",
                "pytest==8.3.5",
            ])
            .status()
            .unwrap();
        assert!(pip.success(), "pip could not install pytest");
    }
    python
}

/// Runs a project's native tests in `dir`: `native` is the command, its first word
/// `python` for the pytest venv; the Python SDK is on the path, and cargo builds into the
/// shared target.
fn native_test(dir: &Path, native: &[&str], what: &str) {
    let program = if native[0] == "python" {
        pytest_python()
    } else {
        PathBuf::from(native[0])
    };
    let o = Command::new(program)
        .args(&native[1..])
        .current_dir(dir)
        .env("PYTHONPATH", sdk_python())
        .env(
            "CARGO_TARGET_DIR",
            Path::new(env!("CARGO_TARGET_TMPDIR")).join("plugins-target"),
        )
        .output()
        .unwrap();
    ok(&o, what);
}

/// A TypeScript project's native tests: `npm install` (its only package is the SDK, from a
/// folder) and `npm test` (node --test against the SDK's fake host).
const NPM_TEST: &[&str] = &[
    "sh",
    "-c",
    "npm install --no-audit --no-fund --loglevel=error && npm test",
];

/// `plugin run` of `wasm` with `input`, granted customers:read, against `sim`.
fn run_plugin(wasm: &Path, input: &str, sim: &Server) -> Output {
    mageflow(
        &[
            "plugin",
            "run",
            wasm.to_str().unwrap(),
            "--grants",
            "customers:read",
            "--input",
            input,
        ],
        &[
            ("MAGEFLOW_MAGENTO_URL", sim.url()),
            ("MAGEFLOW_ADMIN_USER", "admin".into()),
            ("MAGEFLOW_ADMIN_PASSWORD", "Admin123!".into()),
        ],
    )
}

/// `plugin new name --lang lang` in a scratch folder: the project's folder.
fn new_project(name: &str, lang: &str) -> PathBuf {
    let dir = scratch(name).join(name);
    let d = dir.to_str().unwrap();
    ok(
        &mageflow(&["plugin", "new", name, "--lang", lang, "--dir", d], &[]),
        "plugin new",
    );
    dir
}

/// New, native test, build, run with input 1 and with a bad input: the build's report, the
/// run's output, and the first line of the failed run's error.
fn new_build_run(
    lang: &str,
    name: &str,
    native: &[&str],
    sim: &Server,
) -> (String, String, String) {
    let dir = new_project(name, lang);
    let d = dir.to_str().unwrap();
    native_test(&dir, native, "the project's own test");
    let built = ok(&mageflow(&["plugin", "build", d], &[]), "plugin build");
    let wasm = dir.join(format!("{}.wasm", name.replace('-', "_")));
    assert!(wasm.is_file(), "{built}");
    let run = ok(&run_plugin(&wasm, "1", sim), "plugin run");
    let failed = run_plugin(&wasm, "one", sim);
    assert_eq!(failed.status.code(), Some(1));
    let first = String::from_utf8_lossy(&failed.stderr)
        .lines()
        .next()
        .unwrap_or_default()
        .to_owned();
    (built, run, first)
}

#[tokio::test(flavor = "multi_thread")]
async fn a_new_python_plugin_builds_with_its_least_grants_and_runs() {
    let sim = sim().await;
    let (built, run, failed) = tokio::task::spawn_blocking(move || {
        let r = new_build_run(
            "python",
            "count-py",
            &["python", "-m", "pytest", "-q", "-p", "no:cacheprovider"],
            &sim,
        );
        drop(sim);
        r
    })
    .await
    .unwrap();
    // componentize-py imports its whole world: narrowed to customers:read, that is the
    // customers and groups interfaces (and runtime and types, which need no grant).
    assert!(
        built.contains("mageflow:workflow/customers@0.1.0") && built.contains("(Python"),
        "{built}"
    );
    for absent in ["admin-users", "bulk", "approvals"] {
        assert!(!built.contains(absent), "{absent} imported:\n{built}");
    }
    assert!(
        built.contains("ok: the grants cover every import"),
        "{built}"
    );
    assert!(run.contains("ok: 350 customers in group 1"), "{run}");
    assert!(run.contains("page 2: 50 customers"), "{run}");
    // An uncaught exception fails the run, its message first.
    assert_eq!(
        failed,
        "error: the plugin failed: ValueError: invalid literal for int() with base 10: 'one'"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_python_import_beyond_the_grants_is_refused_at_build_naming_the_fix() {
    let dir = new_project("greedy", "python");
    let d = dir.to_str().unwrap();
    let app = std::fs::read_to_string(dir.join("app.py")).unwrap();
    std::fs::write(
        dir.join("app.py"),
        app.replace(
            "import mageflow_sdk as mf\n",
            "import mageflow_sdk as mf\nfrom wit_world.imports import bulk\n",
        ),
    )
    .unwrap();
    let o = mageflow(&["plugin", "build", d], &[]);
    assert_eq!(o.status.code(), Some(1));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("bulk") && err.contains("add the grant to workflow.toml or --grants"),
        "{err}"
    );
    // With the grant, it builds and imports bulk.
    let o = mageflow(
        &["plugin", "build", d, "--grants", "customers:read,bulk"],
        &[],
    );
    let built = ok(&o, "plugin build --grants");
    assert!(built.contains("mageflow:workflow/bulk@0.1.0"), "{built}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_new_rust_plugin_builds_and_runs() {
    let sim = sim().await;
    let (built, run, failed) = tokio::task::spawn_blocking(move || {
        let r = new_build_run("rust", "count-rs", &["cargo", "test", "-q"], &sim);
        drop(sim);
        r
    })
    .await
    .unwrap();
    assert!(built.contains("(Rust"), "{built}");
    assert!(
        built.contains("ok: the grants cover every import"),
        "{built}"
    );
    assert!(run.contains("ok: 350 customers in group 1"), "{run}");
    assert_eq!(
        failed,
        "error: the plugin failed: the input must be a group id, not \"one\""
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_new_typescript_plugin_builds_with_its_least_grants_and_runs() {
    let sim = sim().await;
    let (built, run, failed) = tokio::task::spawn_blocking(move || {
        let r = new_build_run("typescript", "count-ts", NPM_TEST, &sim);
        drop(sim);
        r
    })
    .await
    .unwrap();
    // jco imports its whole world too: narrowed, like Python's.
    assert!(
        built.contains("mageflow:workflow/customers@0.1.0") && built.contains("(TypeScript"),
        "{built}"
    );
    // The toolchain is named, and its own `init` export is shown as ignored.
    assert!(
        built.contains("language: JavaScript or TypeScript (built with jco on QuickJS)")
            && built.contains("added by componentize-qjs; mageflow ignores it"),
        "{built}"
    );
    for absent in ["admin-users", "bulk", "approvals", "wasi:"] {
        assert!(!built.contains(absent), "{absent} imported:\n{built}");
    }
    assert!(run.contains("ok: 350 customers in group 1"), "{run}");
    // A thrown Error fails the run, its message first.
    assert_eq!(
        failed,
        "error: the plugin failed: Error: the input must be a group id, not one"
    );
}

#[test]
fn a_typescript_import_beyond_the_grants_is_refused_at_build_naming_the_fix() {
    let dir = new_project("greedy-ts", "typescript");
    let d = dir.to_str().unwrap();
    let app = std::fs::read_to_string(dir.join("app.ts")).unwrap();
    std::fs::write(
        dir.join("app.ts"),
        format!(
            "import {{ status }} from 'mageflow:workflow/bulk@0.1.0';\nexport const probe = status;\n{app}"
        ),
    )
    .unwrap();
    let o = mageflow(&["plugin", "build", d], &[]);
    assert_eq!(o.status.code(), Some(1));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("mageflow:workflow/bulk@0.1.0")
            && err.contains("add the grant to workflow.toml or --grants"),
        "{err}"
    );
}

#[test]
fn a_typescript_type_error_fails_the_build_and_the_sdk_types_are_those_of_wit() {
    let dir = new_project("typo-ts", "typescript");
    let d = dir.to_str().unwrap();
    // With no `npm install`: the template's tsconfig finds the SDK's types by itself.
    let logic = std::fs::read_to_string(dir.join("count.js")).unwrap();
    std::fs::write(
        dir.join("count.js"),
        logic.replace("n += customers.length;", "n += customers.lenght;"),
    )
    .unwrap();
    let o = mageflow(&["plugin", "build", d], &[]);
    assert_eq!(o.status.code(), Some(1));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("does not type-check (tsc -p tsconfig.json)")
            && err.contains("count.js")
            && err.contains("'lenght' does not exist"),
        "{err}"
    );
    // The SDK's types/ are what `jco guest-types` makes of wit/ today, fitted to QuickJS.
    let jco = Path::new(env!("CARGO_TARGET_TMPDIR")).join("toolchains/jco-1.35.0");
    let fresh = scratch("ts-types");
    let sdk = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../plugins/sdk-js");
    let o = Command::new("node")
        .arg("--import")
        .arg(jco.join("preopen.mjs"))
        .arg(sdk.join("scripts/types.mjs"))
        .arg(jco.join("node_modules/@bytecodealliance/jco/dist/jco.js"))
        .arg(&fresh)
        .output()
        .unwrap();
    ok(&o, "scripts/types.mjs");
    for file in [
        "workflow.d.ts",
        "interfaces/mageflow-workflow-types.d.ts",
        "interfaces/mageflow-workflow-customers.d.ts",
        "interfaces/mageflow-workflow-groups.d.ts",
        "interfaces/mageflow-workflow-admin-users.d.ts",
        "interfaces/mageflow-workflow-bulk.d.ts",
        "interfaces/mageflow-workflow-approvals.d.ts",
        "interfaces/mageflow-workflow-runtime.d.ts",
    ] {
        assert_eq!(
            std::fs::read_to_string(sdk.join("types").join(file)).unwrap(),
            std::fs::read_to_string(fresh.join(file)).unwrap(),
            "{file} is stale: regenerate plugins/sdk-js/types with `node --import \
             <jco toolchain>/preopen.mjs plugins/sdk-js/scripts/types.mjs <jco.js>`"
        );
    }
}

#[test]
fn the_python_sdk_ships_the_bindings_componentize_py_makes_of_wit() {
    // (The SDK's own pytest is run by plugins/test-sdks, a step of .ci/run.) The stubs the
    // fake runs against are what componentize-py generates from wit/ today.
    let sdk = sdk_python();
    let fresh = scratch("bindings");
    let tool = Path::new(env!("CARGO_TARGET_TMPDIR")).join("../python/bin/componentize-py");
    let o = Command::new(&tool)
        .arg("-d")
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("../../wit"))
        .args(["-w", "workflow", "bindings"])
        .arg(&fresh)
        .output()
        .unwrap();
    ok(&o, "componentize-py bindings");
    let shipped = sdk.join("mageflow_sdk/_stubs");
    for file in [
        "componentize_py_types.py",
        "wit_world/__init__.py",
        "wit_world/imports/types.py",
        "wit_world/imports/customers.py",
        "wit_world/imports/groups.py",
        "wit_world/imports/admin_users.py",
        "wit_world/imports/bulk.py",
        "wit_world/imports/approvals.py",
        "wit_world/imports/runtime.py",
    ] {
        assert_eq!(
            std::fs::read_to_string(shipped.join(file)).unwrap(),
            std::fs::read_to_string(fresh.join(file)).unwrap(),
            "{file} is stale: regenerate plugins/sdk-python/mageflow_sdk/_stubs with \
             `componentize-py -d wit -w workflow bindings`"
        );
    }
}

#[test]
fn plugin_new_refuses_a_bad_name_and_a_folder_in_use() {
    let dir = scratch("refusals");
    let o = mageflow(
        &[
            "plugin",
            "new",
            "Bad_Name",
            "--lang",
            "python",
            "--dir",
            dir.join("x").to_str().unwrap(),
        ],
        &[],
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("lowercase letters, digits and dashes"));
    std::fs::write(dir.join("keep.txt"), "mine").unwrap();
    let o = mageflow(
        &[
            "plugin",
            "new",
            "fine",
            "--lang",
            "python",
            "--dir",
            dir.to_str().unwrap(),
        ],
        &[],
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("is not empty"));
    let o = mageflow(&["plugin", "new", "fine", "--lang", "cobol"], &[]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("builds rust, python and typescript plugins")
    );
}

/// `mageflow serve` on `workflows` against `sim`, with alice and bob as env tokens: the child
/// and its URL.
fn serve(dir: &Path, sim: &Server) -> (std::process::Child, String) {
    use std::io::{BufRead, BufReader};
    let tmp = Path::new(env!("CARGO_TARGET_TMPDIR"));
    let mut child = Command::new(env!("CARGO_BIN_EXE_mageflow"))
        .env_clear()
        .env("MAGEFLOW_MAGENTO_URL", sim.url())
        .env("MAGEFLOW_ADMIN_USER", "admin")
        .env("MAGEFLOW_ADMIN_PASSWORD", "Admin123!")
        .env(
            "MAGEFLOW_APPROVER_TOKENS",
            format!("alice={ALICE},bob={BOB}"),
        )
        .env("MAGEFLOW_CACHE_DIR", tmp.join("plugins-compile-cache"))
        .args(["serve", "--listen", "127.0.0.1:0", "--workflows"])
        .arg(dir.join("workflows"))
        .arg("--data-dir")
        .arg(dir.join("data"))
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let url = loop {
        let line = lines.next().expect("serve printed its address").unwrap();
        if let Some(url) = line.strip_prefix("listening on ") {
            break url.to_owned();
        }
    };
    std::thread::spawn(move || for _ in lines {});
    (child, url)
}

const ALICE: &str = "alice-token-0123456789";
const BOB: &str = "bob-token-0123456789abc";

fn api(method: &str, url: &str, token: &str, body: &serde_json::Value) -> serde_json::Value {
    let client = reqwest::blocking::Client::new();
    let req = match method {
        "GET" => client.get(url),
        _ => client.post(url).json(body),
    };
    let resp = req.bearer_auth(token).send().unwrap();
    let status = resp.status();
    let v: serde_json::Value = resp.json().unwrap();
    assert!(status.is_success(), "{method} {url}: {status} {v}");
    v
}

fn wait_status(url: &str, id: u64, want: &str) -> serde_json::Value {
    let start = std::time::Instant::now();
    loop {
        let run = api(
            "GET",
            &format!("{url}/api/runs/{id}"),
            ALICE,
            &serde_json::Value::Null,
        );
        if run["status"] == want {
            return run;
        }
        assert!(
            run["status"] != "failed" && start.elapsed() < std::time::Duration::from_secs(180),
            "run {id} did not reach {want}: {run}"
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
}

/// An example plugin of `plugins/`, end to end (its native tests are plugins/test-sdks's): `plugin build` for its
/// workflow's grants, then `mageflow serve` against `sim`: alice starts a run with `input`,
/// bob approves it, and it succeeds. Answers the build's report and the run.
async fn example_under_serve(
    example: &'static str,
    input: serde_json::Value,
    sim: &Server,
) -> (String, serde_json::Value) {
    let source = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../plugins")
        .join(example);
    let dir = scratch(example);
    let built = {
        let dir = dir.clone();
        tokio::task::spawn_blocking(move || {
            let wasm = dir.join(format!("{}.wasm", example.replace('-', "_")));
            let built = ok(
                &mageflow(
                    &[
                        "plugin",
                        "build",
                        source.to_str().unwrap(),
                        "--out",
                        wasm.to_str().unwrap(),
                    ],
                    &[],
                ),
                "plugin build",
            );
            let workflow = std::fs::read_to_string(source.join("workflow.toml")).unwrap();
            let plugin = workflow
                .lines()
                .find(|l| l.starts_with("plugin = "))
                .unwrap()
                .to_owned();
            let text = workflow.replace(&plugin, &format!("plugin = {:?}", wasm.to_str().unwrap()));
            std::fs::create_dir_all(dir.join("workflows")).unwrap();
            std::fs::write(dir.join("workflows").join(format!("{example}.toml")), text).unwrap();
            built
        })
        .await
        .unwrap()
    };
    let (mut child, base) = serve(&dir, sim);
    let done = tokio::task::spawn_blocking(move || {
        let run = api(
            "POST",
            &format!("{base}/api/workflows/{example}/runs"),
            ALICE,
            &serde_json::json!({ "input": input.to_string() }),
        );
        let id = run["id"].as_u64().unwrap();
        wait_status(&base, id, "awaiting-approval");
        let pending = api(
            "GET",
            &format!("{base}/api/approvals?status=pending"),
            ALICE,
            &serde_json::Value::Null,
        );
        let approval = pending[0]["id"].as_u64().unwrap();
        api(
            "POST",
            &format!("{base}/api/approvals/{approval}/approve"),
            BOB,
            &serde_json::json!({"comment": "checked"}),
        );
        wait_status(&base, id, "succeeded")
    })
    .await
    .unwrap();
    let _ = child.kill();
    let _ = child.wait();
    (built, done)
}

#[tokio::test(flavor = "multi_thread")]
async fn the_python_onboarding_example_runs_under_serve_with_its_least_grants() {
    let sim = sim().await;
    let (built, run) = example_under_serve(
        "onboard-customer-py",
        serde_json::json!({"email": "nia@example.com", "firstname": "Nia", "lastname": "Ng", "group": "Wholesale"}),
        &sim,
    )
    .await;
    for absent in ["bulk", "admin-users"] {
        assert!(!built.contains(absent), "{absent} imported:\n{built}");
    }
    assert!(
        run["summary"]
            .as_str()
            .unwrap()
            .ends_with("<nia@example.com> in Wholesale"),
        "{run}"
    );
    let made: Vec<_> = sim
        .sim
        .read()
        .all_customers()
        .filter(|c| c.email == "nia@example.com")
        .map(|c| c.group_id)
        .collect();
    assert_eq!(made, vec![2], "created exactly once, in Wholesale");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_typescript_offboarding_example_runs_under_serve_with_its_least_grants() {
    let sim = sim().await;
    let client = mageflow_magento::MagentoClient::new(mageflow_magento::Connection::new(
        sim.url(),
        mageflow_magento::Auth::Admin {
            username: "admin".into(),
            password: "Admin123!".into(),
        },
    ))
    .unwrap();
    let leaver = client
        .create_admin_user(&mageflow_magento::NewAdminUser {
            username: "leaver".into(),
            firstname: "Lea".into(),
            lastname: "Ver".into(),
            email: "leaver@example.com".into(),
            password: "leaver123".into(),
            role_id: 1,
            is_active: true,
        })
        .await
        .unwrap();
    let (built, run) = example_under_serve(
        "offboard-admin-ts",
        serde_json::json!({"email": "leaver@example.com", "reason": "left the company"}),
        &sim,
    )
    .await;
    for absent in ["customers@", "bulk", "wasi:"] {
        assert!(!built.contains(absent), "{absent} imported:\n{built}");
    }
    assert_eq!(run["summary"], "deactivated admin user leaver", "{run}");
    assert!(!sim.sim.read().admin_users[&leaver.id].is_active);
}
