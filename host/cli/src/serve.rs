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

use crate::plugin::compile_runtime;
use crate::{Usage, config};

/// Where the workflows and the data live.
#[derive(Debug, Args, Clone)]
pub(crate) struct Places {
    /// The workflows directory (`*.toml`) [default: workflows]
    #[arg(long, env = "MAGEFLOW_WORKFLOWS", value_name = "DIR", global = true)]
    workflows: Option<PathBuf>,
    /// The data directory (runs, journals, approvals; one process at a time)
    /// [default: mageflow-data]
    #[arg(long, env = "MAGEFLOW_DATA_DIR", value_name = "DIR", global = true)]
    data_dir: Option<PathBuf>,
    /// Where compiled plugins are kept (default: $XDG_CACHE_HOME or ~/.cache, then
    /// mageflow/compiled).
    #[arg(long, env = "MAGEFLOW_CACHE_DIR", value_name = "DIR", global = true)]
    cache_dir: Option<PathBuf>,
}

impl Places {
    /// The workflows directory.
    pub(crate) fn workflows(&self) -> PathBuf {
        config::pick(self.workflows.clone(), "MAGEFLOW_WORKFLOWS", "workflows")
    }

    /// The data directory.
    pub(crate) fn data_dir(&self) -> PathBuf {
        config::pick(self.data_dir.clone(), "MAGEFLOW_DATA_DIR", "mageflow-data")
    }

    /// The compile cache directory, if one is set.
    pub(crate) fn cache_dir(&self) -> Option<PathBuf> {
        self.cache_dir
            .clone()
            .or_else(|| config::var("MAGEFLOW_CACHE_DIR").map(PathBuf::from))
    }
}

#[derive(Debug, Args)]
pub(crate) struct ServeArgs {
    #[command(flatten)]
    places: Places,
    /// Address to listen on [default: 127.0.0.1:7878]
    #[arg(long, env = "MAGEFLOW_LISTEN", value_name = "ADDR")]
    listen: Option<String>,
}

/// The approver tokens from `MAGEFLOW_APPROVER_TOKENS` (`name=token,...`).
pub(crate) fn tokens() -> anyhow::Result<Tokens> {
    let text = config::var("MAGEFLOW_APPROVER_TOKENS").unwrap_or_default();
    Ok(Tokens::parse(&text).map_err(|e| Usage(format!("MAGEFLOW_APPROVER_TOKENS: {e}")))?)
}

/// Opens the store and loads every workflow, each with its Magento client.
pub(crate) fn engine(places: &Places) -> anyhow::Result<Arc<Engine>> {
    let workflows = Workflow::load_dir_with(&places.workflows(), &config::get().limits)?;
    let store = Store::open(&places.data_dir())?;
    let engine = Arc::new(Engine::new(
        store,
        Arc::new(compile_runtime(places.cache_dir().as_deref(), false)?),
    ));
    for wf in workflows {
        let name = wf.name.clone();
        let client = client_for(&engine, &wf, &config::var)?;
        engine
            .add(wf, client)
            .with_context(|| format!("workflow {name}"))?;
    }
    Ok(engine)
}

/// The Magento client of a workflow, its settings read through `var`, observed by the
/// engine's metrics.
pub(crate) fn client_for(
    engine: &Engine,
    wf: &Workflow,
    var: &dyn Fn(&str) -> Option<String>,
) -> anyhow::Result<Arc<MagentoClient>> {
    let conn = wf
        .magento
        .connection(var)
        .map_err(|e| Usage(format!("workflow {}: {e}", wf.name)))?;
    let client = MagentoClient::new(conn)
        .with_context(|| format!("workflow {}", wf.name))?
        .with_observer(engine.metrics().clone());
    Ok(Arc::new(client))
}

pub(crate) async fn run(args: ServeArgs) -> anyhow::Result<()> {
    let tokens = tokens()?;
    let engine = engine(&args.places)?;
    let listen: String = config::pick(args.listen, "MAGEFLOW_LISTEN", "127.0.0.1:7878");
    let listener = tokio::net::TcpListener::bind(&listen)
        .await
        .with_context(|| format!("cannot listen on {listen}"))?;
    let addr = listener.local_addr()?;
    println!("listening on http://{addr}");
    let names: Vec<String> = engine
        .workflows()
        .iter()
        .map(|w| w.def.name.clone())
        .collect();
    println!("workflows: {}", names.join(", "));
    mageflow_server::serve(engine, tokens, listener, config::var).await?;
    Ok(())
}
