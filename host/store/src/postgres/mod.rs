//! The PostgreSQL backend: the same records as sled, in tables a team already knows how to
//! back up (`pg_dump`), replicate and watch.
//!
//! Durability follows sled's rule: a write is visible at once and durable for sure once the
//! store is flushed. Connections commit with `synchronous_commit` off, and a flush is one
//! commit with it on, which makes the WAL durable up to that point: every earlier commit of
//! any connection with it. What a run journals while the plugin runs (its calls, clock
//! readings and state reads) is held in memory and written at the next durable point (a
//! flush, the run's end, or a read of its journal), so a plugin's clock or a journaled
//! answer does not wait for the network.
//!
//! Several workers share one database: runs are claimed under fenced leases (`leases.rs`),
//! and each write for a claimed run checks its fence in the same transaction.

mod access;
mod approvals;
mod journal;
mod leases;
mod listen;
mod pool;
mod runs;
mod schema;
mod scim;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex, OnceLock};

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;
use tokio_postgres::types::ToSql;

use crate::{Backend, Error, Result, RunId};
use leases::Leases;
use pool::{Conn, Pool};
pub use schema::SCHEMA_VERSION;

/// Connections per store handle.
const POOL_SIZE: usize = 8;

/// The channel workers are woken on when a run is queued or becomes due.
const CHANNEL: &str = "mageflow_runs";

/// Applies the schema's migrations to the database at `url`, answering the version found and
/// the version now (`mageflow store migrate`).
pub fn migrate(url: &str) -> Result<(i32, i32)> {
    let pool = Pool::open(parse(url)?, 1)?;
    let mut conn = pool.get()?;
    schema::migrate(&mut conn)
}

fn parse(url: &str) -> Result<tokio_postgres::Config> {
    url.parse().map_err(|e| {
        Error::Unavailable(format!(
            "the store URL is not a PostgreSQL URL ({e}); write it as postgres://USER@HOST:PORT/DATABASE"
        ))
    })
}

/// Where a URL points, without its password (for errors and `/readyz`).
fn place(config: &tokio_postgres::Config) -> String {
    let host = config
        .get_hosts()
        .first()
        .map(|h| match h {
            tokio_postgres::config::Host::Tcp(name) => name.clone(),
            tokio_postgres::config::Host::Unix(path) => path.display().to_string(),
        })
        .unwrap_or_else(|| "localhost".into());
    let port = config.get_ports().first().copied().unwrap_or(5432);
    format!(
        "{host}:{port}/{}",
        config
            .get_dbname()
            .or(config.get_user())
            .unwrap_or("postgres")
    )
}

/// What runs journaled and the store has not yet written, by `(run, seq)`, and the state
/// values they set, by `(workflow, key)` with the run that set them.
#[derive(Debug, Default)]
struct Pending {
    calls: BTreeMap<(i64, i64), String>,
    clock: BTreeMap<(i64, i64), String>,
    state_reads: BTreeMap<(i64, i64), Option<String>>,
    state_sets: BTreeMap<(String, String), (i64, String)>,
}

impl Pending {
    fn is_empty(&self) -> bool {
        self.calls.is_empty()
            && self.clock.is_empty()
            && self.state_reads.is_empty()
            && self.state_sets.is_empty()
    }

    /// The runs it holds records of.
    fn runs(&self) -> BTreeSet<i64> {
        let keyed = self.calls.keys().chain(self.clock.keys());
        keyed
            .chain(self.state_reads.keys())
            .map(|k| k.0)
            .chain(self.state_sets.values().map(|v| v.0))
            .collect()
    }

    /// Drops every record of `runs` (whose leases were lost).
    fn drop_runs(&mut self, runs: &BTreeSet<i64>) {
        self.calls.retain(|k, _| !runs.contains(&k.0));
        self.clock.retain(|k, _| !runs.contains(&k.0));
        self.state_reads.retain(|k, _| !runs.contains(&k.0));
        self.state_sets.retain(|_, v| !runs.contains(&v.0));
    }

    /// Puts back records a failed write took, unless newer ones came meanwhile.
    fn restore(&mut self, old: Pending) {
        restore(&mut self.calls, old.calls);
        restore(&mut self.clock, old.clock);
        restore(&mut self.state_reads, old.state_reads);
        restore(&mut self.state_sets, old.state_sets);
    }
}

/// The PostgreSQL backend.
pub(crate) struct Postgres {
    pool: Arc<Pool>,
    place: String,
    /// This handle's row in `flushes`, and its name as a lease owner: each handle is one
    /// worker.
    owner: String,
    pending: Mutex<Pending>,
    /// Held while the pending records are written, so a flush returns only once every record
    /// taken before it is committed.
    writing: Mutex<()>,
    /// The runs this worker holds.
    leases: Arc<Leases>,
    /// Notified when a run may have been queued or woken elsewhere, once asked for.
    wakeups: OnceLock<Arc<tokio::sync::Notify>>,
    config: tokio_postgres::Config,
}

impl std::fmt::Debug for Postgres {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Postgres")
            .field("place", &self.place)
            .finish_non_exhaustive()
    }
}

impl Postgres {
    /// Connects, migrates, and registers this handle's flush row.
    pub(crate) fn connect(url: &str) -> Result<Postgres> {
        let config = parse(url)?;
        let place = place(&config);
        let pool = Pool::open(config.clone(), POOL_SIZE)
            .map_err(|e| Error::Unavailable(format!("{place}: {e}")))?;
        schema::migrate(&mut *pool.get()?)?;
        let owner = {
            let mut conn = pool.get()?;
            // The worker's name in leases, logs and metrics: where it runs, and which handle.
            let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
                .map(|h| h.trim().to_owned())
                .unwrap_or_else(|_| "localhost".into());
            let row = conn.query_opt("SELECT nextval('mageflow_ids')", &[])?;
            let n: i64 = row.map_or(0, |r| r.get(0));
            let owner = format!("{host}:{}#{n}", std::process::id());
            conn.execute(
                "INSERT INTO flushes (owner, n) VALUES ($1, 0) ON CONFLICT DO NOTHING",
                &[&owner],
            )?;
            owner
        };
        let pool = Arc::new(pool);
        Ok(Postgres {
            leases: Arc::new(Leases::new(&owner, Arc::downgrade(&pool))),
            pool,
            place,
            owner,
            pending: Mutex::default(),
            writing: Mutex::default(),
            wakeups: OnceLock::new(),
            config,
        })
    }

    /// Writes what runs journaled since the last write, in one transaction; `durable` also
    /// makes it (and every earlier commit) durable. The records of a run whose lease was lost
    /// are dropped, and the run is marked lost: its fence is checked in the same transaction,
    /// with the run's row locked against a claim until the commit.
    fn write_pending(&self, durable: bool) -> Result<()> {
        let _writing = self.writing.lock().unwrap_or_else(|e| e.into_inner());
        let mut pending =
            std::mem::take(&mut *self.pending.lock().unwrap_or_else(|e| e.into_inner()));
        if pending.is_empty() && !durable {
            return Ok(());
        }
        let (fenced, mut lost) = self.leases.fences(&pending.runs());
        pending.drop_runs(&lost);
        let mut conn = self.pool.get()?;
        let written = conn.transaction(durable, |tx| {
            let moved = self.leases.check_fences(tx, &fenced)?;
            pending.drop_runs(&moved);
            lost.extend(moved);
            write_map(
                tx,
                "INSERT INTO journal (run, seq, record)
                 SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::text[])
                 ON CONFLICT (run, seq) DO UPDATE SET record = excluded.record",
                &pending.calls,
            )?;
            write_map(
                tx,
                "INSERT INTO clock (run, seq, nanos)
                 SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::text[])
                 ON CONFLICT (run, seq) DO UPDATE SET nanos = excluded.nanos",
                &pending.clock,
            )?;
            write_map(
                tx,
                "INSERT INTO state_reads (run, seq, value)
                 SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::text[])
                 ON CONFLICT (run, seq) DO UPDATE SET value = excluded.value",
                &pending.state_reads,
            )?;
            write_states(tx, &pending.state_sets)?;
            if durable {
                // A commit that writes nothing is not flushed: this row makes it write.
                tx.execute(
                    "UPDATE flushes SET n = n + 1 WHERE owner = $1",
                    &[&self.owner],
                )?;
            }
            Ok(())
        });
        if written.is_err() {
            // Put them back, so a later durable point writes them (unless newer ones came).
            self.pending_mut(|now| now.restore(pending));
        } else {
            self.leases.lose(&lost);
        }
        written
    }

    fn pending_mut<T>(&self, f: impl FnOnce(&mut Pending) -> T) -> T {
        f(&mut self.pending.lock().unwrap_or_else(|e| e.into_inner()))
    }

    /// A connection from the pool.
    fn conn(&self) -> Result<pool::Lent<'_>> {
        self.pool.get()
    }
}

fn restore<K: Ord, V>(now: &mut BTreeMap<K, V>, old: BTreeMap<K, V>) {
    for (k, v) in old {
        now.entry(k).or_insert(v);
    }
}

fn write_states(tx: &mut Conn, sets: &BTreeMap<(String, String), (i64, String)>) -> Result<()> {
    if sets.is_empty() {
        return Ok(());
    }
    let workflows: Vec<&str> = sets.keys().map(|k| k.0.as_str()).collect();
    let keys: Vec<&str> = sets.keys().map(|k| k.1.as_str()).collect();
    let values: Vec<&str> = sets.values().map(|v| v.1.as_str()).collect();
    tx.execute(
        "INSERT INTO state (workflow, key, value)
         SELECT * FROM unnest($1::text[], $2::text[], $3::text[])
         ON CONFLICT (workflow, key) DO UPDATE SET value = excluded.value",
        &[&workflows, &keys, &values],
    )?;
    Ok(())
}

fn write_map<V: ToSql + Sync + Clone>(
    tx: &mut Conn,
    sql: &'static str,
    map: &BTreeMap<(i64, i64), V>,
) -> Result<()> {
    if map.is_empty() {
        return Ok(());
    }
    let runs: Vec<i64> = map.keys().map(|k| k.0).collect();
    let seqs: Vec<i64> = map.keys().map(|k| k.1).collect();
    let values: Vec<V> = map.values().cloned().collect();
    tx.execute(sql, &[&runs, &seqs, &values])?;
    Ok(())
}

/// An id as PostgreSQL's `bigint`.
pub(crate) fn big(id: u64) -> Result<i64> {
    i64::try_from(id).map_err(|_| Error::Corrupt(format!("id {id} is beyond PostgreSQL's bigint")))
}

/// A `bigint` as an id.
pub(crate) fn id(v: i64) -> RunId {
    v.max(0) as u64
}

pub(crate) fn text<T: Serialize>(v: &T) -> Result<String> {
    serde_json::to_string(v).map_err(|e| Error::Corrupt(format!("cannot encode a record: {e}")))
}

pub(crate) fn read<T: DeserializeOwned>(s: &str) -> Result<T> {
    serde_json::from_str(s).map_err(|e| Error::Corrupt(format!("cannot read a record: {e}")))
}

impl Backend for Postgres {
    fn describe(&self) -> String {
        format!("postgres {}", self.place)
    }

    fn flush(&self) -> Result<()> {
        self.write_pending(true)
    }

    fn check(&self) -> Result<()> {
        self.conn()?.query("SELECT 1", &[])?;
        Ok(())
    }

    fn put_plugin(&self, hash: &str, bytes: &[u8]) -> Result<()> {
        self.conn()?.execute(
            "INSERT INTO plugins (hash, bytes) VALUES ($1, $2) ON CONFLICT DO NOTHING",
            &[&hash, &bytes],
        )?;
        Ok(())
    }

    fn plugin(&self, hash: &str) -> Result<Option<Vec<u8>>> {
        Ok(self
            .conn()?
            .query_opt("SELECT bytes FROM plugins WHERE hash = $1", &[&hash])?
            .map(|r| r.get(0)))
    }

    fn cursor_value(&self, key: &str) -> Result<Option<Value>> {
        self.conn()?
            .query_opt("SELECT value FROM cursors WHERE key = $1", &[&key])?
            .and_then(|r| r.get::<_, Option<String>>(0))
            .map(|v| read(&v))
            .transpose()
    }

    fn set_cursor_value(&self, key: &str, value: &Value) -> Result<()> {
        self.conn()?.execute(
            "INSERT INTO cursors (key, value) VALUES ($1, $2)
             ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            &[&key, &text(value)?],
        )?;
        Ok(())
    }

    fn state(&self, workflow: &str, key: &str) -> Result<Option<String>> {
        Ok(self
            .conn()?
            .query_opt(
                "SELECT value FROM state WHERE workflow = $1 AND key = $2",
                &[&workflow, &key],
            )?
            .map(|r| r.get(0)))
    }

    fn set_state(&self, workflow: &str, key: &str, value: &str) -> Result<()> {
        self.conn()?.execute(
            "INSERT INTO state (workflow, key, value) VALUES ($1, $2, $3)
             ON CONFLICT (workflow, key) DO UPDATE SET value = excluded.value",
            &[&workflow, &key, &value],
        )?;
        Ok(())
    }

    fn states(&self, workflow: &str) -> Result<Vec<(String, String)>> {
        // What this worker's runs set and has not yet written counts too.
        self.write_pending(false)?;
        let rows = self.conn()?.query(
            "SELECT key, value FROM state WHERE workflow = $1 ORDER BY key",
            &[&workflow],
        )?;
        Ok(rows.iter().map(|r| (r.get(0), r.get(1))).collect())
    }

    fn record_state(&self, run: RunId, workflow: &str, key: &str, value: &str) -> Result<()> {
        let run = big(run)?;
        self.pending_mut(|p| {
            p.state_sets.insert(
                (workflow.to_owned(), key.to_owned()),
                (run, value.to_owned()),
            )
        });
        Ok(())
    }
}
