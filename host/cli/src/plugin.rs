//! `mageflow plugin ...`: check a plugin against grants, and run it once against Magento.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use clap::{Args, Subcommand};
use mageflow_magento::MagentoClient;
use mageflow_runtime::{
    Grants, ImportCheck, Inspection, Limits, Preset, RunOptions, Runtime, Trigger,
};

use crate::Usage;
use crate::connect::ConnArgs;

#[derive(Debug, Args)]
pub(crate) struct PluginArgs {
    #[command(subcommand)]
    command: PluginCommand,
    /// Where compiled plugins are kept between runs (keyed by the plugin's hash and the
    /// engine's settings). Default: $XDG_CACHE_HOME/mageflow/compiled or
    /// ~/.cache/mageflow/compiled.
    #[arg(long, global = true, env = "MAGEFLOW_CACHE_DIR", value_name = "DIR")]
    cache_dir: Option<PathBuf>,
    /// Compile in memory only; write nothing to disk.
    #[arg(long, global = true, conflicts_with = "cache_dir")]
    no_cache: bool,
}

/// The runtime for one command: with the on-disk compile cache unless `no_cache`. A cache
/// the user named must work; the default one ($XDG_CACHE_HOME or ~/.cache, then
/// mageflow/compiled) is skipped, with a warning, when unusable.
pub(crate) fn compile_runtime(cache_dir: Option<&Path>, no_cache: bool) -> anyhow::Result<Runtime> {
    if no_cache {
        return Ok(Runtime::new()?);
    }
    if let Some(dir) = cache_dir {
        let dir = std::path::absolute(dir)
            .with_context(|| format!("cannot resolve --cache-dir {}", dir.display()))?;
        return Ok(Runtime::with_disk_cache(&dir)?);
    }
    let base = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .filter(|p| p.is_absolute())
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")));
    if let Some(dir) = base.map(|b| b.join("mageflow").join("compiled")) {
        match Runtime::with_disk_cache(&dir) {
            Ok(r) => return Ok(r),
            Err(e) => eprintln!("warning: compiling in memory only: {e}"),
        }
    }
    Ok(Runtime::new()?)
}

#[derive(Debug, Subcommand)]
#[expect(clippy::large_enum_variant, reason = "parsed once per process")]
enum PluginCommand {
    /// Write a new plugin project: a `run` that searches with paging, logs and reports, a
    /// native unit test, and a workflow file with the least grants.
    New {
        /// The plugin's name (and its folder's).
        name: String,
        /// rust, python or typescript.
        #[arg(long, value_name = "LANG")]
        lang: String,
        /// Where to write it [default: ./NAME].
        #[arg(long, value_name = "DIR")]
        dir: Option<PathBuf>,
    },
    /// Build a plugin project (Rust, Python or TypeScript) into a component that imports only what its
    /// grants allow, compile it into the cache, and print its size, imports and build time.
    Build {
        /// The project [default: .].
        #[arg(default_value = ".")]
        dir: PathBuf,
        /// The grants to build for, comma-separated [default: the project's workflow.toml].
        #[arg(long, value_name = "LIST")]
        grants: Option<String>,
        /// The component to write [default: DIR/NAME.wasm].
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
    },
    /// List a plugin's imports and exports and whether the grants cover them.
    Check {
        /// The plugin component (`.wasm`).
        plugin: PathBuf,
        /// Grants, comma-separated: customers:read, customers:write, customers:delete,
        /// admin-users:read, admin-users:write, bulk, approvals.
        #[arg(long, default_value = "", value_name = "LIST")]
        grants: String,
    },
    /// Run a plugin once against the configured Magento, printing its log and outcome.
    Run {
        /// The plugin component (`.wasm`).
        plugin: PathBuf,
        /// Grants, comma-separated (see `plugin check --help`).
        #[arg(long, value_name = "LIST")]
        grants: String,
        /// The manual trigger's input (JSON).
        #[arg(long, default_value = "{}", value_name = "JSON")]
        input: String,
        /// Answer every approval request with "approved" (by NAME, default: you).
        #[arg(long, value_name = "NAME", num_args = 0..=1, default_missing_value = "cli", conflicts_with = "reject")]
        approve: Option<String>,
        /// Answer every approval request with "rejected", for this reason.
        #[arg(long, value_name = "REASON")]
        reject: Option<String>,
        /// Wall-time limit in seconds.
        #[arg(long, default_value_t = 30, value_name = "SECS")]
        wall_time: u64,
        /// Memory limit in MiB.
        #[arg(long, default_value_t = 128, value_name = "MIB")]
        memory: usize,
        /// A configuration value for the plugin, KEY=VALUE (repeatable).
        #[arg(long = "config", value_name = "KEY=VALUE")]
        config: Vec<String>,
        #[command(flatten)]
        conn: ConnArgs,
    },
}

/// Prints a component's imports (with what the grants say of each) and exports; refuses one
/// that imports what mageflow lacks or the grants do not cover, or that exports no `run`.
pub(crate) fn report(inspection: &Inspection, bytes: &[u8]) -> anyhow::Result<()> {
    let toolchain = crate::provenance::detect(bytes, &inspection.exports);
    match toolchain {
        Some(t) => println!("language: {} (built with {})", t.language, t.name),
        None => println!("language: not recognised (any toolchain that targets the world works)"),
    }
    println!("imports:");
    for (name, check) in &inspection.imports {
        let verdict = match check {
            ImportCheck::Wasi => {
                "wasi (sandboxed: no files, no network, no environment)".to_owned()
            }
            ImportCheck::Granted => "granted".to_owned(),
            ImportCheck::Missing(any) => format!(
                "NOT GRANTED: needs {}",
                any.iter()
                    .map(|g| g.name())
                    .collect::<Vec<_>>()
                    .join(" or ")
            ),
            ImportCheck::Unknown => "UNKNOWN: mageflow does not provide it".to_owned(),
        };
        println!("  {name:<44} {verdict}");
    }
    println!("exports:");
    for e in &inspection.exports {
        match toolchain.filter(|t| t.owns(e)) {
            Some(t) => println!("  {e:<44} added by {}; mageflow ignores it", t.adder),
            None => println!("  {e}"),
        }
    }
    let unknown = inspection.unknown();
    if !unknown.is_empty() {
        anyhow::bail!(
            "the plugin imports {}, which mageflow does not provide",
            unknown.join(", ")
        );
    }
    let missing = inspection.missing();
    if !missing.is_empty() {
        anyhow::bail!(
            "the grants do not cover every import: add {} (a Python plugin imports its whole \
             world: build it with `mageflow plugin build --grants ...` to narrow it)",
            missing
                .iter()
                .map(|g| g.name())
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    if !inspection.exports.iter().any(|e| e.starts_with("run")) {
        anyhow::bail!(
            "the plugin exports no `run`: it is not a component of the mageflow:workflow/workflow world"
        );
    }
    println!("ok: the grants cover every import");
    Ok(())
}

fn read(path: &PathBuf) -> anyhow::Result<Vec<u8>> {
    std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))
}

pub(crate) async fn run(args: PluginArgs) -> anyhow::Result<()> {
    let runtime = compile_runtime(args.cache_dir.as_deref(), args.no_cache)?;
    match args.command {
        PluginCommand::New { name, lang, dir } => {
            let lang = crate::plugin_build::Lang::parse(&lang)?;
            let dir = dir.unwrap_or_else(|| PathBuf::from(&name));
            crate::plugin_new::write(&name, lang, &dir)?;
        }
        PluginCommand::Build { dir, grants, out } => {
            crate::plugin_build::build(&runtime, &dir, grants.as_deref(), out.as_deref())?;
        }
        PluginCommand::Check { plugin, grants } => {
            let grants = Grants::parse(&grants).map_err(Usage)?;
            let bytes = read(&plugin)?;
            let inspection = runtime.inspect(&plugin.display().to_string(), &bytes, &grants)?;
            report(&inspection, &bytes)?;
        }
        PluginCommand::Run {
            plugin,
            grants,
            input,
            approve,
            reject,
            wall_time,
            memory,
            config,
            conn,
        } => {
            let grants = Grants::parse(&grants).map_err(Usage)?;
            let mut values = BTreeMap::new();
            for kv in &config {
                let (k, v) = kv
                    .split_once('=')
                    .ok_or_else(|| Usage(format!("--config {kv:?} must be KEY=VALUE")))?;
                values.insert(k.to_owned(), v.to_owned());
            }
            let client = Arc::new(MagentoClient::new(conn.connection()?)?);
            let decision = match (approve, reject) {
                (Some(by), _) => Preset::Approve(by),
                (None, Some(why)) => Preset::Reject("cli".into(), why),
                (None, None) => Preset::Undecided,
            };
            let loaded = runtime.load(&plugin.display().to_string(), &read(&plugin)?, grants)?;
            let limits = Limits {
                wall_time: Duration::from_secs(wall_time),
                memory_bytes: memory << 20,
            };
            let report = loaded
                .run(
                    &Trigger::Manual(input),
                    &RunOptions {
                        limits,
                        approver: Arc::new(decision),
                        config: values,
                        ..RunOptions::new(client)
                    },
                )
                .await;
            for line in &report.log {
                println!("[{}] {}", line.level, line.message);
            }
            match report.outcome? {
                Ok(outcome) => {
                    println!("ok: {}", outcome.summary);
                    if let Some(json) = outcome.output_json {
                        println!("{json}");
                    }
                }
                Err(message) => anyhow::bail!("the plugin failed: {message}"),
            }
        }
    }
    Ok(())
}
