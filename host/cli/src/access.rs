//! `mageflow tokens` and `mageflow audit`: who may act, and what they did. Both talk to the
//! running server with an admin token, or open the data directory when no server answers.

use clap::{Args, Subcommand};
use mageflow_server::{NewToken, Role};
use serde_json::{Value, json};

use crate::Usage;
use crate::serve::{DataPlaces, store_engine};
use crate::work::{Caller, Target, reach};

#[derive(Debug, Args)]
pub(crate) struct TokensArgs {
    #[command(subcommand)]
    command: TokensCommand,
    #[command(flatten)]
    caller: Caller,
    #[command(flatten)]
    data: DataPlaces,
}

#[derive(Debug, Subcommand)]
enum TokensCommand {
    /// Create a token and print it once: only its hash is kept.
    #[command(after_help = "Examples:\n  \
        mageflow tokens create root --role admin\n  \
        mageflow tokens create alice@example.com --role approver,viewer --expires 30d\n  \
        mageflow tokens create ci --role operator --workflows 'group-*' --expires never\n  \
        mageflow tokens create okta-admin --role scim --workflows scim-admin --expires 365d")]
    Create {
        /// The person or client it acts as: runs and decisions are recorded under this name,
        /// and two tokens of one name are one person (no approving their own run).
        name: String,
        /// Its roles, comma-separated: viewer (read runs and approvals), operator (start
        /// runs), approver (decide approvals), admin (tokens and the audit), scim (an identity
        /// provider provisioning through the SCIM root of the workflows it covers).
        #[arg(long, value_name = "ROLES", required = true)]
        role: String,
        /// The workflows its roles cover, by name or glob, comma-separated [default: all].
        #[arg(long, value_name = "GLOBS")]
        workflows: Option<String>,
        /// Groups the principal is in, for approvals that name `group:NAME`.
        #[arg(long, value_name = "GROUPS")]
        group: Option<String>,
        /// When it stops working: `90d`, `12h`, or `never`.
        #[arg(long, default_value = "90d", value_name = "DURATION")]
        expires: String,
        /// Print the token and its record as one JSON object.
        #[arg(long)]
        json: bool,
    },
    /// List tokens (never their secrets).
    Ls {
        /// One JSON object per line.
        #[arg(long)]
        json: bool,
    },
    /// Revoke a token: it stops working at once.
    Revoke {
        /// The token's id (as `tokens ls` shows it).
        id: String,
    },
}

#[derive(Debug, Args)]
pub(crate) struct AuditArgs {
    #[command(subcommand)]
    command: AuditCommand,
    #[command(flatten)]
    caller: Caller,
    #[command(flatten)]
    data: DataPlaces,
}

#[derive(Debug, Subcommand)]
enum AuditCommand {
    /// The audit, oldest first: sign-ins, run starts, decisions, token changes and Magento
    /// writes, each with its principal.
    Ls {
        /// One JSON object per line (for a SIEM).
        #[arg(long)]
        json: bool,
    },
}

fn list(text: Option<&str>) -> Vec<String> {
    text.into_iter()
        .flat_map(|t| t.split(','))
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(str::to_owned)
        .collect()
}

fn expiry(text: &str) -> Result<Option<u64>, Usage> {
    if text == "never" {
        return Ok(None);
    }
    mageflow_engine::workflow::parse_duration(text)
        .filter(|d| !d.is_zero())
        .map(|d| Some(d.as_secs()))
        .ok_or_else(|| {
            Usage(format!(
                "--expires {text:?}: write a duration such as 90d or 12h, or never"
            ))
        })
}

fn when(v: &Value) -> String {
    v.as_u64()
        .map_or_else(|| "-".to_owned(), mageflow_engine::utc_text)
}

pub(crate) async fn tokens(args: TokensArgs) -> anyhow::Result<()> {
    let target = reach(&args.caller, || store_engine(&args.data)).await?;
    match args.command {
        TokensCommand::Create {
            name,
            role,
            workflows,
            group,
            expires,
            json,
        } => {
            let roles = Role::parse_list(&role).map_err(Usage)?;
            let new = NewToken {
                name,
                roles: roles.iter().map(|r| r.name().to_owned()).collect(),
                workflows: list(workflows.as_deref()),
                groups: list(group.as_deref()),
                expires_in_secs: expiry(&expires)?,
            };
            let made = match &target {
                Target::Http(..) => {
                    target
                        .post("/api/tokens", serde_json::to_value(&new)?)
                        .await?
                }
                Target::Local(api, who) => api.create_token(&new, who)?,
            };
            if json {
                println!("{made}");
            } else {
                println!(
                    "token {} for {} ({}), expires {}:",
                    made["id"].as_str().unwrap_or("?"),
                    made["name"].as_str().unwrap_or("?"),
                    roles
                        .iter()
                        .map(|r| r.name())
                        .collect::<Vec<_>>()
                        .join(", "),
                    made["expires_at"]
                        .as_u64()
                        .map_or_else(|| "never".to_owned(), mageflow_engine::utc_text)
                );
                println!("{}", made["token"].as_str().unwrap_or("?"));
                println!("It is shown this once: only its hash is kept.");
            }
        }
        TokensCommand::Ls { json } => {
            let all = match &target {
                Target::Http(..) => target.get("/api/tokens").await?,
                Target::Local(api, who) => api.tokens(who)?,
            };
            for t in all.as_array().into_iter().flatten() {
                if json {
                    println!("{t}");
                    continue;
                }
                let state = if !t["revoked_at"].is_null() {
                    format!("revoked {}", when(&t["revoked_at"]))
                } else if t["expires_at"].is_null() {
                    "never expires".to_owned()
                } else {
                    format!("expires {}", when(&t["expires_at"]))
                };
                println!(
                    "{}  {:<24} {:<28} {:<16} {state}",
                    t["id"].as_str().unwrap_or("?"),
                    t["name"].as_str().unwrap_or("?"),
                    t["roles"]
                        .as_array()
                        .map(|r| r
                            .iter()
                            .filter_map(Value::as_str)
                            .collect::<Vec<_>>()
                            .join(","))
                        .unwrap_or_default(),
                    t["workflows"]
                        .as_array()
                        .filter(|w| !w.is_empty())
                        .map_or_else(
                            || "all workflows".to_owned(),
                            |w| w
                                .iter()
                                .filter_map(Value::as_str)
                                .collect::<Vec<_>>()
                                .join(",")
                        ),
                );
            }
        }
        TokensCommand::Revoke { id } => {
            let t = match &target {
                Target::Http(..) => {
                    target
                        .post(&format!("/api/tokens/{id}/revoke"), json!({}))
                        .await?
                }
                Target::Local(api, who) => api.revoke_token(&id, who)?,
            };
            println!(
                "token {id} of {} is revoked",
                t["name"].as_str().unwrap_or("?")
            );
        }
    }
    Ok(())
}

pub(crate) async fn audit(args: AuditArgs) -> anyhow::Result<()> {
    let target = reach(&args.caller, || store_engine(&args.data)).await?;
    let AuditCommand::Ls { json } = args.command;
    let all = match &target {
        Target::Http(..) => target.get("/api/audit").await?,
        Target::Local(api, who) => Value::Array(api.audit(who)?),
    };
    for e in all.as_array().into_iter().flatten() {
        if json {
            println!("{e}");
        } else {
            println!(
                "{}  {:<24} {:<18} {:<20} {}",
                when(&e["at"]),
                e["principal"].as_str().unwrap_or("?"),
                e["action"].as_str().unwrap_or("?"),
                e["target"].as_str().unwrap_or("?"),
                e["detail"]
            );
        }
    }
    Ok(())
}
