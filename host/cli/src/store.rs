//! `mageflow store`: the PostgreSQL store's schema by hand (`serve` migrates at start too).

use clap::{Args, Subcommand};

use crate::{Usage, config};

#[derive(Debug, Args)]
pub(crate) struct StoreArgs {
    #[command(subcommand)]
    command: StoreCommand,
}

#[derive(Debug, Subcommand)]
enum StoreCommand {
    /// Apply the schema's migrations to a PostgreSQL database, and say which version it is
    /// at. Refused, changing nothing, when a newer mageflow migrated it. Safe to run while
    /// workers run: migrations take a lock and apply once.
    Migrate {
        /// The database: `postgres://USER:PASSWORD@HOST:PORT/DATABASE` (also
        /// `MAGEFLOW_STORE_URL`, or `store.url` in mageflow.toml).
        #[arg(long = "store", env = "MAGEFLOW_STORE_URL", value_name = "URL")]
        url: Option<String>,
    },
}

pub(crate) async fn run(args: StoreArgs) -> anyhow::Result<()> {
    match args.command {
        StoreCommand::Migrate { url } => {
            let url = url
                .or_else(|| config::var("MAGEFLOW_STORE_URL"))
                .ok_or_else(|| {
                    Usage(
                        "no database named: pass --store postgres://USER@HOST:PORT/DATABASE \
                     (sled, the default store, has no schema to migrate)"
                            .into(),
                    )
                })?;
            let (from, to) =
                tokio::task::spawn_blocking(move || mageflow_store::migrate(&url)).await??;
            if from == to {
                println!("the schema is at version {to}, the newest this mageflow knows");
            } else {
                println!("migrated the schema from version {from} to {to}");
            }
            Ok(())
        }
    }
}
