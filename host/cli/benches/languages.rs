//! Instantiate-and-run of the same trivial plugin (one log line, an outcome) written in Rust,
//! Python (componentize-py, with the Python SDK) and TypeScript (jco on QuickJS, with the
//! TypeScript SDK), pooled, in
//! one run: medians and p99s beside the aims (Python <= 2 ms, TypeScript <= 1 ms), with each
//! component's size. The Python and TypeScript plugins are built here with `mageflow plugin
//! build` (toolchains and compile cache under the target directory).
//!
//! Run: `cargo bench -p mageflow-cli --bench languages`.

use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use mageflow_magento::{Auth, Connection, MagentoClient};
use mageflow_runtime::{Grants, RunOptions, Runtime, Trigger};

const PY_APP: &str = r#"import mageflow_sdk as mf
from wit_world.imports import runtime


def run(trigger):
    runtime.log(runtime.Level.INFO, "no customer id given")
    return mf.outcome("nothing to do")


WitWorld = mf.workflow(run)
"#;

const TS_APP: &str = r#"import { log, outcome, workflow } from '@mageflow/sdk';

export const run = workflow(() => {
  log.info('no customer id given');
  return outcome('nothing to do');
});
"#;

/// Builds `source` (written as `file`) with `mageflow plugin build`: the component's path.
fn build(name: &str, file: &str, source: &str) -> anyhow::Result<std::path::PathBuf> {
    let tmp = Path::new(env!("CARGO_TARGET_TMPDIR"));
    let dir = tmp.join("bench-languages").join(name);
    std::fs::create_dir_all(&dir)?;
    std::fs::write(dir.join(file), source)?;
    let out = dir.join(format!("{name}.wasm"));
    let o = Command::new(env!("CARGO_BIN_EXE_mageflow"))
        .env("MAGEFLOW_TOOLCHAINS", tmp.join("toolchains"))
        .env("MAGEFLOW_CACHE_DIR", tmp.join("bench-compile-cache"))
        .args(["plugin", "build", "--grants", ""])
        .arg(&dir)
        .arg("--out")
        .arg(&out)
        .output()?;
    anyhow::ensure!(
        o.status.success(),
        "building the {name} plugin failed:\n{}",
        String::from_utf8_lossy(&o.stderr)
    );
    Ok(out)
}

struct Figures {
    lang: &'static str,
    size: usize,
    median: Duration,
    p99: Duration,
}

async fn measure(
    runtime: &Runtime,
    lang: &'static str,
    path: &Path,
    grants: &str,
    runs: usize,
    opts: &RunOptions,
) -> anyhow::Result<Figures> {
    let bytes = std::fs::read(path)?;
    let plugin = runtime.load(
        &path.display().to_string(),
        &bytes,
        Grants::parse(grants).map_err(anyhow::Error::msg)?,
    )?;
    let trigger = Trigger::Manual(String::new());
    for _ in 0..runs / 4 + 1 {
        plugin.run(&trigger, opts).await; // warm the pool's slots
    }
    let mut times = Vec::with_capacity(runs);
    for _ in 0..runs {
        let t = Instant::now();
        let report = plugin.run(&trigger, opts).await;
        times.push(t.elapsed());
        anyhow::ensure!(
            matches!(report.outcome, Ok(Ok(_))),
            "the {lang} run failed: {:?}",
            report.outcome
        );
    }
    times.sort();
    Ok(Figures {
        lang,
        size: bytes.len(),
        median: times[times.len() / 2],
        p99: times[times.len() * 99 / 100],
    })
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let python = build("python", "app.py", PY_APP)?;
    let typescript = build("typescript", "app.ts", TS_APP)?;
    // No call reaches Magento: the client is only the gateway the runs are given.
    let client = Arc::new(MagentoClient::new(Connection::new(
        "http://127.0.0.1:9",
        Auth::Admin {
            username: "admin".into(),
            password: "unused".into(),
        },
    ))?);
    let opts = RunOptions::new(client);
    let cache = Path::new(env!("CARGO_TARGET_TMPDIR")).join("bench-compile-cache");
    let runtime = Runtime::with_disk_cache(&cache)?;
    let all = [
        measure(
            &runtime,
            "Rust",
            Path::new(mageflow_test_artifacts::ECHO),
            "customers:read",
            5_000,
            &opts,
        )
        .await?,
        measure(&runtime, "Python", &python, "", 300, &opts).await?,
        measure(&runtime, "TypeScript", &typescript, "", 2_000, &opts).await?,
    ];
    let aim = |lang: &str| match lang {
        "Python" => Some(Duration::from_millis(2)),
        "TypeScript" => Some(Duration::from_millis(1)),
        _ => None,
    };
    println!("instantiate + run a trivial plugin (release, pooling allocator, 2 cores)");
    let rust = all[0].median;
    for f in &all {
        let verdict = match aim(f.lang) {
            Some(a) if f.median <= a => format!("aim <= {} ms: meets", a.as_millis()),
            Some(a) => format!("aim <= {} ms: MISSES", a.as_millis()),
            None => String::new(),
        };
        println!(
            "  {:<10} {:>6.1} MB   median {:>9.1} us   p99 {:>9.1} us   {:>6.0}x Rust   {verdict}",
            f.lang,
            f.size as f64 / 1e6,
            f.median.as_secs_f64() * 1e6,
            f.p99.as_secs_f64() * 1e6,
            f.median.as_secs_f64() / rust.as_secs_f64(),
        );
    }
    Ok(())
}
