//! `mageflow`: the command line. `mageflow serve` runs workflows; `run`, `runs`, `approvals`,
//! `workflows`, `tokens` and `audit` talk to it; `magento` does ad hoc Magento work (customers, bulk, admin
//! users, roles); `plugin` checks and tries a plugin.
//!
//! Exit codes: 0 success, 1 Magento refused or could not be reached (the message says which),
//! 2 usage error.

mod access;
mod config;
mod connect;
#[cfg(feature = "demo")]
mod demo;
mod magento;
mod output;
mod plugin;
mod plugin_build;
mod plugin_new;
mod provenance;
mod sdks;
mod serve;
mod store;
mod work;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// mimalloc, not glibc's malloc: webhook intake is a quarter faster with it (see
/// `cargo bench -p mageflow-cli --bench engine`, which uses the same allocator).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Automation for Magento identity work: customers and admin users.
#[derive(Debug, Parser)]
#[command(name = "mageflow", version, propagate_version = true)]
struct Cli {
    #[command(subcommand)]
    command: Command,
    /// Log lines on stderr: `text` for people, `json` (one object per line, with the run id
    /// of every span) for log collectors. Which lines: `RUST_LOG` or `MAGEFLOW_LOG`, e.g.
    /// `info` or `warn,mageflow_engine=debug`.
    #[arg(
        long,
        global = true,
        value_enum,
        default_value = "text",
        env = "MAGEFLOW_LOG_FORMAT",
        value_name = "text|json"
    )]
    log_format: LogFormat,
    /// The configuration file [default: ./mageflow.toml when it exists]. Flags and
    /// `MAGEFLOW_*` variables override it.
    #[arg(long, global = true, env = "MAGEFLOW_CONFIG", value_name = "FILE")]
    config: Option<std::path::PathBuf>,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum LogFormat {
    Text,
    Json,
}

/// Logs to stderr, filtered by `MAGEFLOW_LOG` or `RUST_LOG` (default: `default`).
fn init_logs(format: LogFormat, default: &str) {
    use std::io::IsTerminal as _;
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_env("MAGEFLOW_LOG")
        .or_else(|_| EnvFilter::try_from_default_env())
        .unwrap_or_else(|_| EnvFilter::new(default));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match format {
        LogFormat::Text => builder.with_ansi(std::io::stderr().is_terminal()).init(),
        LogFormat::Json => builder
            .json()
            .with_current_span(true)
            .with_span_list(true)
            .init(),
    }
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Try everything on an embedded simulator: workflows fire and wait for your approval.
    #[cfg(feature = "demo")]
    Demo(demo::DemoArgs),
    /// Work with a Magento directly: customers, bulk, admin users, roles.
    Magento(magento::MagentoArgs),
    /// Make, build, check and run workflow plugins (Rust, Python, TypeScript).
    Plugin(plugin::PluginArgs),
    /// Own the data directory: run workflows on their triggers, serve the API, the pages and
    /// the SCIM roots that mageflow.toml turns on.
    Serve(serve::ServeArgs),
    /// Start a run of a workflow.
    Run(work::RunArgs),
    /// List and show runs.
    Runs(work::RunsArgs),
    /// List, show and decide approvals.
    Approvals(work::ApprovalsArgs),
    /// List and validate workflows.
    Workflows(work::WorkflowsArgs),
    /// Create, list and revoke API tokens (admins).
    Tokens(access::TokensArgs),
    /// Read the audit: sign-ins, run starts, decisions, token changes, Magento writes.
    Audit(access::AuditArgs),
    /// The PostgreSQL store: apply its schema's migrations.
    Store(store::StoreArgs),
}

/// A usage problem found after parsing (exit code 2).
#[derive(Debug)]
struct Usage(String);

impl std::fmt::Display for Usage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Usage {}

fn main() -> ExitCode {
    let cli = Cli::parse();
    // A server logs what it does; a command says only what went wrong.
    let default = match cli.command {
        Command::Serve(_) => "info",
        _ => "warn",
    };
    init_logs(cli.log_format, default);
    if let Err(e) = config::init(cli.config.as_deref()) {
        eprintln!("error: {e}");
        return ExitCode::from(2);
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::from(1);
        }
    };
    let result = runtime.block_on(async {
        match cli.command {
            #[cfg(feature = "demo")]
            Command::Demo(args) => demo::run(args).await,
            Command::Magento(args) => magento::run(args).await,
            Command::Plugin(args) => plugin::run(args).await,
            Command::Serve(args) => serve::run(args).await,
            Command::Run(args) => work::run(args).await,
            Command::Runs(args) => work::runs(args).await,
            Command::Approvals(args) => work::approvals(args).await,
            Command::Workflows(args) => work::workflows(args).await,
            Command::Tokens(args) => access::tokens(args).await,
            Command::Audit(args) => access::audit(args).await,
            Command::Store(args) => store::run(args).await,
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) if e.downcast_ref::<Usage>().is_some() => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(1)
        }
    }
}
