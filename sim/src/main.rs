//! `magento-sim`: run the Magento 2.4 REST simulator on a socket.

use std::io::Write as _;
use std::time::Instant;

use anyhow::Context as _;
use clap::Parser;
use magento_sim::SimConfig;

/// A faithful, fast HTTP simulator of the Magento 2.4 REST API.
///
/// Serves `/rest/[<store>/][async/bulk/]V1/...` as Magento 2.4.x does (customers, groups, stores,
/// tokens, OAuth 1.0a integrations, async bulk, and the admin-user extension endpoints), plus
/// test controls under `/__sim/` (writes, outbox, faults, clock, consumer, webhooks, reset).
#[derive(Debug, Parser)]
#[command(name = "magento-sim", version)]
struct Cli {
    /// Address to listen on; port 0 picks a free one. The first stdout line names the URL.
    #[arg(long, default_value = "127.0.0.1:8080", value_name = "ADDR")]
    listen: String,

    #[command(flatten)]
    config: SimConfig,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_env("MAGENTO_SIM_LOG"))
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    let seeded = cli.config.seed_customers;
    let started = Instant::now();
    let server = magento_sim::start(cli.config, &cli.listen).await?;
    let mut out = std::io::stdout().lock();
    writeln!(out, "listening on {}", server.url())?;
    if seeded > 0 {
        writeln!(
            out,
            "seeded {seeded} customers in {} ms",
            started.elapsed().as_millis()
        )?;
    }
    for i in server.sim.integrations() {
        writeln!(
            out,
            "integration {:?}: consumer_key={} consumer_secret={} access_token={} access_token_secret={}",
            i.name, i.consumer_key, i.consumer_secret, i.access_token, i.access_token_secret
        )?;
    }
    if server.sim.config.webhook_url.is_some() {
        writeln!(
            out,
            "webhook public key (RSA-SHA256, x-adobe-commerce-webhook-signature):"
        )?;
        write!(out, "{}", server.sim.webhook_key().public_pem)?;
    }
    out.flush()?;
    drop(out);
    tokio::signal::ctrl_c()
        .await
        .context("cannot wait for Ctrl-C")?;
    Ok(())
}
