//! `mageflow magento ...`: the Magento client for people.

use std::time::Duration;

use anyhow::Context as _;
use clap::{Args, Subcommand};
use mageflow_magento::{
    Direction, Filter, MagentoClient, NewAdminUser, NewCustomer, OpStatus, Patch, Patched,
    SearchCriteria, Wait,
};
use serde_json::{Value, json};

use crate::Usage;
use crate::connect::ConnArgs;
use crate::output::{self, Progress};

#[derive(Debug, Args)]
pub(crate) struct MagentoArgs {
    #[command(flatten)]
    conn: ConnArgs,
    #[command(subcommand)]
    command: MagentoCommand,
}

#[derive(Debug, Subcommand)]
enum MagentoCommand {
    /// Authenticate and say as whom, with which auth mode, against which store.
    Ping,
    /// Storefront customers.
    #[command(subcommand)]
    Customers(CustomersCommand),
    /// Asynchronous bulk operations.
    #[command(subcommand)]
    Bulk(BulkCommand),
    /// Admin users (needs the /V1/users extension).
    #[command(subcommand)]
    Users(UsersCommand),
    /// Admin roles (needs the /V1/roles extension).
    Roles {
        /// One JSON object per line.
        #[arg(long)]
        json: bool,
    },
    /// Customer groups.
    Groups {
        /// One JSON object per line.
        #[arg(long)]
        json: bool,
    },
}

/// Filters shared by the search-like commands.
#[derive(Debug, Args)]
struct SearchArgs {
    /// `FIELD OP VALUE`, e.g. 'group_id eq 2' or 'email like %@example.com'; repeated filters are ANDed.
    #[arg(long = "filter", value_name = "'FIELD OP VALUE'")]
    filters: Vec<String>,
    /// `FIELD OP VALUE` added to one OR group (the group is ANDed with the filters).
    #[arg(long = "any", value_name = "'FIELD OP VALUE'")]
    any: Vec<String>,
    /// Sort by FIELD, ascending, or FIELD:desc; repeatable.
    #[arg(long = "sort", value_name = "FIELD[:desc]")]
    sort: Vec<String>,
}

impl SearchArgs {
    fn criteria(&self) -> Result<SearchCriteria, Usage> {
        let mut c = SearchCriteria::new();
        for f in &self.filters {
            let f = Filter::parse(f).map_err(Usage)?;
            c = c.filter(&f.field, f.condition, f.value);
        }
        let any = self
            .any
            .iter()
            .map(|f| Filter::parse(f))
            .collect::<Result<Vec<_>, _>>()
            .map_err(Usage)?;
        c = c.any(any);
        for s in &self.sort {
            let (field, dir) = match s.rsplit_once(':') {
                Some((f, d)) if d.eq_ignore_ascii_case("desc") => (f, Direction::Desc),
                Some((f, d)) if d.eq_ignore_ascii_case("asc") => (f, Direction::Asc),
                Some((_, d)) => {
                    return Err(Usage(format!(
                        "sort direction {d:?} in {s:?} must be asc or desc"
                    )));
                }
                None => (s.as_str(), Direction::Asc),
            };
            c = c.sort(field, dir);
        }
        Ok(c)
    }
}

#[derive(Debug, Subcommand)]
enum CustomersCommand {
    /// Search customers; the first page unless --all.
    Search {
        #[command(flatten)]
        search: SearchArgs,
        /// Stream every match, page after page.
        #[arg(long)]
        all: bool,
        /// Rows per page (at most 300 are asked of Magento at a time).
        #[arg(long, default_value_t = 20, value_name = "N")]
        page_size: u32,
        /// One JSON object per line.
        #[arg(long)]
        json: bool,
    },
    /// Show one customer as JSON.
    Get {
        /// Customer id.
        id: u64,
    },
    /// Create a customer (password rules and website checked before sending).
    Create {
        #[arg(long)]
        email: String,
        #[arg(long)]
        firstname: String,
        #[arg(long)]
        lastname: String,
        #[arg(long, value_name = "ID")]
        website_id: Option<u32>,
        #[arg(long, value_name = "ID")]
        group_id: Option<u32>,
        /// Password; without one Magento mails a link to set it. Prefer MAGEFLOW_NEW_PASSWORD.
        #[arg(long, env = "MAGEFLOW_NEW_PASSWORD", hide_env_values = true)]
        password: Option<String>,
        /// Any other field, FIELD=VALUE (repeatable).
        #[arg(long = "set", value_name = "FIELD=VALUE")]
        set: Vec<String>,
    },
    /// PUT-merge: change only the named fields; everything else (addresses included) is kept.
    Update {
        /// Customer id.
        id: u64,
        /// FIELD=VALUE; `custom_attributes.CODE=VALUE` sets one custom attribute.
        #[arg(long = "set", value_name = "FIELD=VALUE", required = true)]
        set: Vec<String>,
        /// Show what would change and send nothing.
        #[arg(long)]
        dry_run: bool,
    },
    /// Delete a customer.
    Delete {
        /// Customer id.
        id: u64,
    },
    /// Change every matching customer through the async bulk API, then wait for the result.
    BulkUpdate {
        #[command(flatten)]
        search: SearchArgs,
        /// FIELD=VALUE (repeatable).
        #[arg(long = "set", value_name = "FIELD=VALUE", required = true)]
        set: Vec<String>,
        /// Operations per bulk request.
        #[arg(long, default_value_t = mageflow_magento::BULK_CHUNK, value_name = "N")]
        chunk: usize,
        /// Give up waiting when nothing finishes for this many seconds.
        #[arg(long, default_value_t = 60, value_name = "SECS")]
        stall_after: u64,
    },
}

#[derive(Debug, Subcommand)]
enum BulkCommand {
    /// Show a bulk's operations.
    Status {
        /// The bulk uuid.
        uuid: String,
        /// One JSON object per operation, per line.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Subcommand)]
enum UsersCommand {
    /// Search admin users (every match).
    Search {
        #[command(flatten)]
        search: SearchArgs,
        /// One JSON object per line.
        #[arg(long)]
        json: bool,
    },
    /// Show one admin user as JSON.
    Get { id: u64 },
    /// Create an admin user (role and password rules checked first).
    Create {
        #[arg(long)]
        username: String,
        #[arg(long)]
        firstname: String,
        #[arg(long)]
        lastname: String,
        #[arg(long)]
        email: String,
        /// Prefer MAGEFLOW_NEW_PASSWORD: flags show in `ps`.
        #[arg(long, env = "MAGEFLOW_NEW_PASSWORD", hide_env_values = true)]
        password: String,
        #[arg(long, value_name = "ID")]
        role_id: u32,
        /// Create the account inactive.
        #[arg(long)]
        inactive: bool,
    },
    /// PUT-merge an admin user.
    Update {
        id: u64,
        #[arg(long = "set", value_name = "FIELD=VALUE", required = true)]
        set: Vec<String>,
    },
    /// Deactivate an admin user (they can no longer log in).
    Deactivate { id: u64 },
    /// Delete an admin user.
    Delete { id: u64 },
}

/// `2` -> number, `true` -> bool, `null` -> null, anything else a string.
fn value_of(raw: &str) -> Value {
    if let Ok(n) = raw.parse::<i64>() {
        return json!(n);
    }
    match raw {
        "true" => json!(true),
        "false" => json!(false),
        "null" => Value::Null,
        _ => json!(raw),
    }
}

fn patch_of(sets: &[String]) -> Result<Patch, Usage> {
    let mut patch = Patch::new();
    for s in sets {
        let (field, raw) = s
            .split_once('=')
            .ok_or_else(|| Usage(format!("--set {s:?} must be FIELD=VALUE")))?;
        if field.is_empty() {
            return Err(Usage(format!("--set {s:?} names no field")));
        }
        patch = match field.strip_prefix("custom_attributes.") {
            Some(code) => patch.custom_attribute(code, raw),
            None => patch.set(field, value_of(raw)),
        };
    }
    Ok(patch)
}

pub(crate) async fn run(args: MagentoArgs) -> anyhow::Result<()> {
    let conn = args.conn.connection()?;
    let client = MagentoClient::new(conn)?;
    match args.command {
        MagentoCommand::Ping => {
            let who = client.ping().await?;
            let store = who.store.as_deref().unwrap_or("default");
            match (who.customer_id, who.customers) {
                (Some(id), _) => println!(
                    "ok: {} (customer {id}) via {}, store {store}",
                    who.principal, who.mode
                ),
                (None, Some(n)) => println!(
                    "ok: {} via {}, store {store}; {n} customers visible",
                    who.principal, who.mode
                ),
                _ => println!("ok: {} via {}, store {store}", who.principal, who.mode),
            }
        }
        MagentoCommand::Customers(cmd) => customers(&client, cmd).await?,
        MagentoCommand::Bulk(BulkCommand::Status { uuid, json: true }) => {
            for op in &client.bulk_status(&uuid).await?.operations {
                output::json_line(op)?;
            }
        }
        MagentoCommand::Bulk(BulkCommand::Status { uuid, json: false }) => {
            let status = client.bulk_status(&uuid).await?;
            for op in &status.operations {
                println!(
                    "{:>5}  {:<16}  {}",
                    op.index,
                    format!("{:?}", op.status),
                    op.message.as_deref().unwrap_or("")
                );
            }
            println!(
                "{} operations, {} open",
                status.operations.len(),
                status.open()
            );
        }
        MagentoCommand::Users(cmd) => users(&client, cmd).await?,
        MagentoCommand::Roles { json } => {
            for r in client.roles().await? {
                if json {
                    output::json_line(&r)?;
                } else {
                    println!("{:>4}  {}", r.id, r.role_name);
                }
            }
        }
        MagentoCommand::Groups { json } => {
            for g in client.customer_groups().await? {
                if json {
                    output::json_line(&g)?;
                } else {
                    println!("{:>4}  {}", g.id, g.code);
                }
            }
        }
    }
    Ok(())
}

async fn customers(client: &MagentoClient, cmd: CustomersCommand) -> anyhow::Result<()> {
    match cmd {
        CustomersCommand::Search {
            search,
            all,
            page_size,
            json,
        } => {
            let criteria = search.criteria()?.page_size(page_size.clamp(1, 300));
            if !json {
                output::customer_header();
            }
            let mut pages = client.customers(criteria);
            let mut shown = 0u64;
            // Rows go to stdout; a bar on stderr only when stdout goes elsewhere (a file, a pipe).
            let progress = output::Progress::beside_output("reading");
            while let Some(page) = pages.next_page().await? {
                for c in &page {
                    if json {
                        output::json_line(c)?
                    } else {
                        output::customer_row(c)
                    }
                }
                shown += page.len() as u64;
                if all {
                    progress.update(shown as usize, pages.total().unwrap_or(0) as usize);
                }
                if !all {
                    break;
                }
            }
            if !json {
                let total = pages.total().unwrap_or(shown);
                let more = if !all && shown < total {
                    " (--all for every match)"
                } else {
                    ""
                };
                eprintln!("{shown} of {total} customers{more}");
            }
        }
        CustomersCommand::Get { id } => output::pretty(&client.customer(id).await?)?,
        CustomersCommand::Create {
            email,
            firstname,
            lastname,
            website_id,
            group_id,
            password,
            set,
        } => {
            let mut extra = serde_json::Map::new();
            for s in &set {
                let (f, v) = s
                    .split_once('=')
                    .ok_or_else(|| Usage(format!("--set {s:?} must be FIELD=VALUE")))?;
                extra.insert(f.to_owned(), value_of(v));
            }
            let c = client
                .create_customer(&NewCustomer {
                    email,
                    firstname,
                    lastname,
                    website_id,
                    group_id,
                    password,
                    extra,
                })
                .await?;
            println!(
                "created customer {} <{}> in website {}, group {}",
                c.id, c.email, c.website_id, c.group_id
            );
        }
        CustomersCommand::Update { id, set, dry_run } => {
            let patch = patch_of(&set)?;
            let stored = serde_json::to_value(client.customer(id).await?)?;
            output::changes(id, &patch.changes(&stored, id)?);
            if dry_run {
                println!("dry run: nothing sent");
            } else {
                let saved = client.update_customer(id, &patch).await?;
                println!(
                    "saved customer {} (updated_at {})",
                    saved.id, saved.updated_at
                );
            }
        }
        CustomersCommand::Delete { id } => {
            client.delete_customer(id).await?;
            println!("deleted customer {id}");
        }
        CustomersCommand::BulkUpdate {
            search,
            set,
            chunk,
            stall_after,
        } => bulk_update(client, &search, &set, chunk, stall_after).await?,
    }
    Ok(())
}

async fn bulk_update(
    client: &MagentoClient,
    search: &SearchArgs,
    set: &[String],
    chunk: usize,
    stall_after: u64,
) -> anyhow::Result<()> {
    let patch = patch_of(set)?;
    if chunk == 0 {
        return Err(Usage("--chunk must be at least 1".into()).into());
    }
    // Read every match (whole objects: the bulk consumer does a full save), patch, submit.
    let mut pages = client.customers(search.criteria()?);
    let mut objects = Vec::new();
    let reading = Progress::new("reading");
    while let Some(page) = pages.next_page().await? {
        for c in page {
            let stored = serde_json::to_value(&c)?;
            objects.push(Patched {
                id: c.id,
                patch: patch.clone(),
                object: patch.merged(&stored, c.id)?,
            });
        }
        reading.update(objects.len(), pages.total().unwrap_or(0) as usize);
    }
    if objects.is_empty() {
        println!("no customer matches; nothing sent");
        return Ok(());
    }
    let receipts = client.submit_patched(&objects, chunk).await?;
    let uuids: Vec<String> = receipts.iter().map(|r| r.bulk_uuid.clone()).collect();
    for u in &uuids {
        eprintln!("submitted bulk {u}");
    }
    let progress = Progress::new("applying");
    let wait = Wait {
        stall_after: Duration::from_secs(stall_after),
        ..Wait::default()
    };
    let statuses = client
        .wait_bulks(&uuids, &wait, |d, t| progress.update(d, t))
        .await
        .context("waiting for the bulk operations")?;
    let ops: Vec<_> = statuses
        .iter()
        .flat_map(|s| s.operations.iter().map(move |o| (&s.uuid, o)))
        .collect();
    let failed: Vec<_> = ops
        .iter()
        .filter(|(_, o)| o.status != OpStatus::Complete)
        .collect();
    for (uuid, op) in &failed {
        println!(
            "failed: bulk {uuid} item {}: {}",
            op.index,
            op.message.as_deref().unwrap_or("no message")
        );
    }
    println!(
        "{} customers updated, {} failed",
        ops.len() - failed.len(),
        failed.len()
    );
    if !failed.is_empty() {
        anyhow::bail!("{} bulk operations failed", failed.len());
    }
    Ok(())
}

async fn users(client: &MagentoClient, cmd: UsersCommand) -> anyhow::Result<()> {
    match cmd {
        UsersCommand::Search { search, json } => {
            if !json {
                output::user_header();
            }
            let mut pages = client.admin_users(search.criteria()?);
            while let Some(page) = pages.next_page().await? {
                for u in &page {
                    if json {
                        output::json_line(u)?
                    } else {
                        output::user_row(u)
                    }
                }
            }
        }
        UsersCommand::Get { id } => output::pretty(&client.admin_user(id).await?)?,
        UsersCommand::Create {
            username,
            firstname,
            lastname,
            email,
            password,
            role_id,
            inactive,
        } => {
            let u = client
                .create_admin_user(&NewAdminUser {
                    username,
                    firstname,
                    lastname,
                    email,
                    password,
                    role_id,
                    is_active: !inactive,
                })
                .await?;
            println!(
                "created admin user {} ({}) with role {}",
                u.id, u.username, u.role_id
            );
        }
        UsersCommand::Update { id, set } => {
            let u = client.update_admin_user(id, &patch_of(&set)?).await?;
            println!("saved admin user {} ({})", u.id, u.username);
        }
        UsersCommand::Deactivate { id } => {
            let u = client.deactivate_admin_user(id).await?;
            println!("deactivated admin user {} ({})", u.id, u.username);
        }
        UsersCommand::Delete { id } => {
            client.delete_admin_user(id).await?;
            println!("deleted admin user {id}");
        }
    }
    Ok(())
}
