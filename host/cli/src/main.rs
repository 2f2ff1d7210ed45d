//! `mageflow`: the command line. `mageflow serve` runs workflows; `run`, `runs`, `approvals`
//! and `workflows` talk to it; `magento` does ad hoc Magento work (customers, bulk, admin
//! users, roles); `plugin` checks and tries a plugin.
//!
//! Exit codes: 0 success, 1 Magento refused or could not be reached (the message says which),
//! 2 usage error.

mod connect;
mod magento;
mod output;
mod plugin;
mod serve;
mod work;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Automation for Magento identity work: customers and admin users.
#[derive(Debug, Parser)]
#[command(name = "mageflow", version, propagate_version = true)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Work with a Magento directly: customers, bulk, admin users, roles.
    Magento(magento::MagentoArgs),
    /// Check a workflow plugin against grants, or run it once.
    Plugin(plugin::PluginArgs),
    /// Own the data directory: run workflows on their triggers, serve the API.
    Serve(serve::ServeArgs),
    /// Start a run of a workflow.
    Run(work::RunArgs),
    /// List and show runs.
    Runs(work::RunsArgs),
    /// List, show and decide approvals.
    Approvals(work::ApprovalsArgs),
    /// List and validate workflows.
    Workflows(work::WorkflowsArgs),
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
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_env("MAGEFLOW_LOG"))
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
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
            Command::Magento(args) => magento::run(args).await,
            Command::Plugin(args) => plugin::run(args).await,
            Command::Serve(args) => serve::run(args).await,
            Command::Run(args) => work::run(args).await,
            Command::Runs(args) => work::runs(args).await,
            Command::Approvals(args) => work::approvals(args).await,
            Command::Workflows(args) => work::workflows(args).await,
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
