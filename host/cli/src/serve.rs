//! `mageflow serve`, and the engine it (or a command with no server to talk to) builds from
//! the workflows directory and the data directory.

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context as _;
use clap::Args;
use mageflow_engine::{Engine, Workflow};
use mageflow_magento::MagentoClient;
use mageflow_server::Tokens;
use mageflow_store::Store;

use crate::Usage;
use crate::plugin::compile_runtime;

/// Where the workflows and the data live.
#[derive(Debug, Args, Clone)]
pub(crate) struct Places {
    /// The workflows directory (`*.toml`).
    #[arg(
        long,
        env = "MAGEFLOW_WORKFLOWS",
        default_value = "workflows",
        value_name = "DIR",
        global = true
    )]
    pub(crate) workflows: PathBuf,
    /// The data directory (runs, journals, approvals; one process at a time).
    #[arg(
        long,
        env = "MAGEFLOW_DATA_DIR",
        default_value = "mageflow-data",
        value_name = "DIR",
        global = true
    )]
    pub(crate) data_dir: PathBuf,
    /// Where compiled plugins are kept (default: $XDG_CACHE_HOME or ~/.cache, then
    /// mageflow/compiled).
    #[arg(long, env = "MAGEFLOW_CACHE_DIR", value_name = "DIR", global = true)]
    pub(crate) cache_dir: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub(crate) struct ServeArgs {
    #[command(flatten)]
    places: Places,
    /// Address to listen on.
    #[arg(
        long,
        env = "MAGEFLOW_LISTEN",
        default_value = "127.0.0.1:7878",
        value_name = "ADDR"
    )]
    listen: String,
}

/// The approver tokens from `MAGEFLOW_APPROVER_TOKENS` (`name=token,...`).
pub(crate) fn tokens() -> anyhow::Result<Tokens> {
    let text = std::env::var("MAGEFLOW_APPROVER_TOKENS").unwrap_or_default();
    Ok(Tokens::parse(&text).map_err(|e| Usage(format!("MAGEFLOW_APPROVER_TOKENS: {e}")))?)
}

/// Opens the store and loads every workflow, each with its Magento client.
pub(crate) fn engine(places: &Places) -> anyhow::Result<Arc<Engine>> {
    let workflows = Workflow::load_dir(&places.workflows)?;
    let store = Store::open(&places.data_dir)?;
    let engine = Arc::new(Engine::new(
        store,
        Arc::new(compile_runtime(places.cache_dir.as_deref(), false)?),
    ));
    for wf in workflows {
        let name = wf.name.clone();
        let conn = wf
            .magento
            .connection(|k| std::env::var(k).ok())
            .map_err(|e| Usage(format!("workflow {name}: {e}")))?;
        let client =
            Arc::new(MagentoClient::new(conn).with_context(|| format!("workflow {name}"))?);
        engine
            .add(wf, client)
            .with_context(|| format!("workflow {name}"))?;
    }
    Ok(engine)
}

pub(crate) async fn run(args: ServeArgs) -> anyhow::Result<()> {
    let tokens = tokens()?;
    let engine = engine(&args.places)?;
    let listener = tokio::net::TcpListener::bind(&args.listen)
        .await
        .with_context(|| format!("cannot listen on {}", args.listen))?;
    let addr = listener.local_addr()?;
    println!("listening on http://{addr}");
    let names: Vec<String> = engine
        .workflows()
        .iter()
        .map(|w| w.def.name.clone())
        .collect();
    println!("workflows: {}", names.join(", "));
    mageflow_server::serve(engine, tokens, listener, |k| std::env::var(k).ok()).await?;
    Ok(())
}
