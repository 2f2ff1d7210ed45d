//! `mageflow plugin new` and `plugin build` for Rust and Python, from an empty folder to a
//! successful `plugin run` against magento-sim: the project's native test passes as written,
//! the component imports only what `workflow.toml` grants, and a Python plugin that imports
//! an interface its grants do not cover is refused at build time, naming the fix.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use magento_sim::{Server, SimConfig};

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
    let server = magento_sim::start(
        SimConfig {
            seed_customers: 350,
            ..SimConfig::default()
        },
        "127.0.0.1:0",
    )
    .await
    .unwrap();
    {
        let mut state = server.sim.write();
        let all: Vec<_> = state.all_customers().cloned().collect();
        for mut c in all {
            c.group_id = 1;
            state.put_customer(c);
        }
    }
    server
}

/// New, native test, build, run: the build's report and the run's output.
fn new_build_run(lang: &str, name: &str, native: &[&str], sim: &Server) -> (String, String) {
    let dir = scratch(name).join(name);
    let d = dir.to_str().unwrap();
    ok(
        &mageflow(&["plugin", "new", name, "--lang", lang, "--dir", d], &[]),
        "plugin new",
    );
    let test = Command::new(native[0])
        .args(&native[1..])
        .current_dir(&dir)
        .env(
            "CARGO_TARGET_DIR",
            Path::new(env!("CARGO_TARGET_TMPDIR")).join("plugins-target"),
        )
        .output()
        .unwrap();
    ok(&test, "the project's own test");
    let built = ok(&mageflow(&["plugin", "build", d], &[]), "plugin build");
    let wasm = dir.join(format!("{}.wasm", name.replace('-', "_")));
    assert!(wasm.is_file(), "{built}");
    let run = ok(
        &mageflow(
            &[
                "plugin",
                "run",
                wasm.to_str().unwrap(),
                "--grants",
                "customers:read",
                "--input",
                "1",
            ],
            &[
                ("MAGEFLOW_MAGENTO_URL", sim.url()),
                ("MAGEFLOW_ADMIN_USER", "admin".into()),
                ("MAGEFLOW_ADMIN_PASSWORD", "Admin123!".into()),
            ],
        ),
        "plugin run",
    );
    (built, run)
}

#[tokio::test(flavor = "multi_thread")]
async fn a_new_python_plugin_builds_with_its_least_grants_and_runs() {
    let sim = sim().await;
    let (built, run) = tokio::task::spawn_blocking(move || {
        let r = new_build_run(
            "python",
            "count-py",
            &["python3", "-m", "unittest", "-q"],
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
}

#[tokio::test(flavor = "multi_thread")]
async fn a_python_import_beyond_the_grants_is_refused_at_build_naming_the_fix() {
    let dir = scratch("greedy").join("greedy");
    let d = dir.to_str().unwrap();
    ok(
        &mageflow(
            &["plugin", "new", "greedy", "--lang", "python", "--dir", d],
            &[],
        ),
        "plugin new",
    );
    let app = std::fs::read_to_string(dir.join("app.py")).unwrap();
    std::fs::write(
        dir.join("app.py"),
        app.replace(
            "from wit_world.imports import customers, runtime, types",
            "from wit_world.imports import bulk, customers, runtime, types",
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
    let (built, run) = tokio::task::spawn_blocking(move || {
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
    assert!(String::from_utf8_lossy(&o.stderr).contains("builds rust and python plugins"));
}
