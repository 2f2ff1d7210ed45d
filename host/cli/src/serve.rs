//! `mageflow serve`, and the engine it (or a command with no server to talk to) builds from
//! the workflows directory and the data directory.

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context as _;
use clap::Args;
use mageflow_engine::{Engine, Workflow};
use mageflow_magento::MagentoClient;
use mageflow_server::{AccessConfig, EnvTokens, SessionTimeouts};
use mageflow_store::{LeaseTerms, Store};

use crate::plugin::compile_runtime;
use crate::{Usage, config};

/// Where the workflows and the data live.
#[derive(Debug, Args, Clone)]
pub(crate) struct Places {
    /// The workflows directory (`*.toml`) [default: workflows]
    #[arg(long, env = "MAGEFLOW_WORKFLOWS", value_name = "DIR", global = true)]
    workflows: Option<PathBuf>,
    #[command(flatten)]
    pub(crate) data: DataPlaces,
}

/// Where the data lives.
#[derive(Debug, Args, Clone)]
pub(crate) struct DataPlaces {
    /// The data directory (runs, journals, approvals, tokens; one process at a time)
    /// [default: mageflow-data]
    #[arg(long, env = "MAGEFLOW_DATA_DIR", value_name = "DIR", global = true)]
    data_dir: Option<PathBuf>,
    /// Keep the data in PostgreSQL instead: `postgres://USER:PASSWORD@HOST:PORT/DATABASE`
    /// (also `store = { url = { env = "VAR" } }` in mageflow.toml). Its schema is migrated
    /// at start; several `serve` workers may share it. [default: sled in the data directory]
    #[arg(
        long = "store",
        env = "MAGEFLOW_STORE_URL",
        value_name = "URL",
        global = true
    )]
    store_url: Option<String>,
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

    /// The compile cache directory, if one is set.
    pub(crate) fn cache_dir(&self) -> Option<PathBuf> {
        self.data.cache_dir()
    }
}

impl DataPlaces {
    /// The data directory.
    pub(crate) fn data_dir(&self) -> PathBuf {
        config::pick(self.data_dir.clone(), "MAGEFLOW_DATA_DIR", "mageflow-data")
    }

    /// The PostgreSQL URL, when the data lives there.
    pub(crate) fn store_url(&self) -> Option<String> {
        self.store_url
            .clone()
            .or_else(|| config::var("MAGEFLOW_STORE_URL"))
    }

    /// Opens the store: PostgreSQL when a URL is given, else sled in the data directory.
    pub(crate) fn open_store(&self) -> anyhow::Result<Store> {
        Ok(match self.store_url() {
            Some(url) => Store::postgres(&url)?,
            None => Store::open(&self.data_dir())?,
        })
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
    /// Answer `/metrics` without a token (otherwise it needs one, as the API does); also
    /// `MAGEFLOW_METRICS=open`.
    #[arg(long)]
    metrics_open: bool,
    /// With a PostgreSQL store shared by several workers: how long this worker's claim on a
    /// run lasts unrenewed (heartbeats renew it every quarter). A worker that stalls longer
    /// loses its runs to the others, which take them over once this and the longest Magento
    /// timeout have passed. At least twice the longest `[magento] timeout`. Also
    /// `store = { lease = "60s" }` in mageflow.toml. [default: 60s]
    #[arg(long, env = "MAGEFLOW_LEASE", value_name = "DURATION")]
    lease: Option<String>,
}

/// The lease terms of a worker whose workflows' longest Magento timeout is `timeout`: the
/// lease as given (60 s by default), refused when heartbeats every quarter of it could not
/// keep it longer than a request may take.
fn lease_terms(
    lease: Option<&str>,
    timeout: std::time::Duration,
    slowest: &str,
) -> anyhow::Result<LeaseTerms> {
    let ttl = match lease {
        None => LeaseTerms::default().ttl,
        Some(text) => mageflow_engine::workflow::parse_duration(text)
            .filter(|d| !d.is_zero())
            .ok_or_else(|| {
                Usage(format!(
                    "--lease {text:?}: write a duration such as 60s or 2m"
                ))
            })?,
    };
    if ttl < timeout * 2 {
        return Err(Usage(format!(
            "--lease {}s is too short for workflow {slowest}, whose Magento requests may take {}s: a write is sent only while the lease has longer left, so make the lease at least twice that ({}s), or lower its [magento] timeout",
            ttl.as_secs(),
            timeout.as_secs(),
            (timeout * 2).as_secs()
        ))
        .into());
    }
    Ok(LeaseTerms {
        ttl,
        grace: timeout,
    })
}

/// How the server authenticates, from the environment and `mageflow.toml`:
/// `MAGEFLOW_APPROVER_TOKENS` (`name=token,name:role+role=token`; for the demo and tests),
/// `MAGEFLOW_METRICS` (`open` or `token`), `MAGEFLOW_SECURE_COOKIES`, and
/// `MAGEFLOW_SESSION_IDLE` / `MAGEFLOW_SESSION_MAX` (`30m`, `12h`).
pub(crate) fn access(metrics_open: bool) -> anyhow::Result<AccessConfig> {
    let text = config::var("MAGEFLOW_APPROVER_TOKENS").unwrap_or_default();
    let env_tokens =
        EnvTokens::parse(&text).map_err(|e| Usage(format!("MAGEFLOW_APPROVER_TOKENS: {e}")))?;
    let metrics_open = metrics_open
        || match config::var("MAGEFLOW_METRICS").as_deref() {
            None | Some("token") => false,
            Some("open") => true,
            Some(other) => {
                return Err(Usage(format!(
                    "MAGEFLOW_METRICS is {other:?}: write open (anyone may read /metrics) or token"
                ))
                .into());
            }
        };
    let secure_cookies = match config::var("MAGEFLOW_SECURE_COOKIES").as_deref() {
        None | Some("0" | "false" | "no") => false,
        Some("1" | "true" | "yes") => true,
        Some(other) => {
            return Err(Usage(format!(
                "MAGEFLOW_SECURE_COOKIES is {other:?}: write true (served over https) or false"
            ))
            .into());
        }
    };
    let mut sessions = SessionTimeouts::default();
    for (name, slot) in [
        ("MAGEFLOW_SESSION_IDLE", &mut sessions.idle),
        ("MAGEFLOW_SESSION_MAX", &mut sessions.absolute),
    ] {
        if let Some(text) = config::var(name) {
            *slot = mageflow_engine::workflow::parse_duration(&text)
                .filter(|d| !d.is_zero())
                .ok_or_else(|| {
                    Usage(format!(
                        "{name} is {text:?}: write a duration such as 30m or 12h"
                    ))
                })?;
        }
    }
    Ok(AccessConfig {
        env_tokens,
        sessions,
        metrics_open,
        secure_cookies,
        sso: config::get().sso.clone(),
        scim: config::get().scim.clone(),
    })
}

/// Opens the store and loads every workflow, each with its Magento client.
pub(crate) fn engine(places: &Places) -> anyhow::Result<Arc<Engine>> {
    let workflows = Workflow::load_dir_with(&places.workflows(), &config::get().limits)?;
    let engine = store_engine(&places.data)?;
    for wf in workflows {
        let name = wf.name.clone();
        let client = client_for(&engine, &wf, &config::var)?;
        engine
            .add(wf, client)
            .with_context(|| format!("workflow {name}"))?;
    }
    Ok(engine)
}

/// Opens the store, with no workflow loaded: for what reads and writes the store alone
/// (tokens, the audit).
pub(crate) fn store_engine(data: &DataPlaces) -> anyhow::Result<Arc<Engine>> {
    let store = data.open_store()?;
    Ok(Arc::new(Engine::new(
        store,
        Arc::new(compile_runtime(data.cache_dir().as_deref(), false)?),
    )))
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
    let access = access(args.metrics_open)?;
    let engine = engine(&args.places)?;
    let store = engine.store();
    if store.shared() {
        let slowest = engine
            .workflows()
            .into_iter()
            .max_by_key(|w| w.client().connection().timeout);
        let (timeout, name) = slowest
            .as_ref()
            .map_or((LeaseTerms::default().grace, "(none)"), |w| {
                (w.client().connection().timeout, w.def.name.as_str())
            });
        let lease = args.lease.or_else(|| config::var("MAGEFLOW_LEASE"));
        store.set_lease_terms(lease_terms(lease.as_deref(), timeout, name)?);
        engine.metrics().set_worker(&store.worker());
    }
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
    if store.shared() {
        println!("worker {} on {}", store.worker(), store.describe());
    }
    if access.env_tokens.is_empty() && engine.store().tokens()?.is_empty() {
        let sso = if access.sso.is_some() {
            "; the pages also take sign-ins through [sso]"
        } else {
            ""
        };
        println!(
            "no tokens yet: stop the server and run `mageflow tokens create NAME --role admin` \
             (it opens this data directory), then admins make the rest through the API{sso}"
        );
    }
    mageflow_server::serve(engine, access, listener, config::var).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::lease_terms;

    #[test]
    fn a_lease_too_short_for_the_slowest_magento_request_is_refused_naming_both() {
        let thirty = Duration::from_secs(30);
        let terms = lease_terms(None, thirty, "onboard").unwrap();
        assert_eq!((terms.ttl, terms.grace), (Duration::from_secs(60), thirty));
        let terms = lease_terms(Some("2m"), thirty, "onboard").unwrap();
        assert_eq!(terms.ttl, Duration::from_secs(120));
        let short = lease_terms(Some("45s"), thirty, "onboard")
            .unwrap_err()
            .to_string();
        assert!(
            short.contains("--lease 45s is too short for workflow onboard")
                && short.contains("at least twice that (60s)"),
            "{short}"
        );
        let bad = lease_terms(Some("soon"), thirty, "onboard")
            .unwrap_err()
            .to_string();
        assert!(bad.contains("write a duration such as 60s"), "{bad}");
    }
}
