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

mod access;
mod approvals;
mod journal;
mod pool;
mod runs;
mod schema;
mod scim;

use std::collections::BTreeMap;
use std::sync::Mutex;

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;
use tokio_postgres::types::ToSql;

use crate::{Backend, Error, Result, RunId};
use pool::{Conn, Pool};
pub use schema::SCHEMA_VERSION;

/// Connections per store handle.
const POOL_SIZE: usize = 8;

/// Locks a database's mageflow schema for one worker (with the schema's hash; an arbitrary
/// number, mageflow's own).
const WORKER_LOCK: i32 = 0x6d66_776b;

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

/// What a run journaled and the store has not yet written, by `(run, seq)`.
#[derive(Debug, Default)]
struct Pending {
    calls: BTreeMap<(i64, i64), String>,
    clock: BTreeMap<(i64, i64), String>,
    state_reads: BTreeMap<(i64, i64), Option<String>>,
}

impl Pending {
    fn is_empty(&self) -> bool {
        self.calls.is_empty() && self.clock.is_empty() && self.state_reads.is_empty()
    }
}

/// The PostgreSQL backend.
pub(crate) struct Postgres {
    pool: Pool,
    place: String,
    /// This handle's row in `flushes`.
    owner: String,
    pending: Mutex<Pending>,
    /// Held while the pending records are written, so a flush returns only once every record
    /// taken before it is committed.
    writing: Mutex<()>,
    /// The connection that holds the worker lock, once taken.
    worker: Mutex<Option<Conn>>,
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
        let pool = Pool::open(config, POOL_SIZE)
            .map_err(|e| Error::Unavailable(format!("{place}: {e}")))?;
        schema::migrate(&mut *pool.get()?)?;
        let owner = {
            let mut conn = pool.get()?;
            let row = conn.query_opt(
                "SELECT 'handle-' || nextval('mageflow_ids') || '-' || pg_backend_pid()",
                &[],
            )?;
            let owner: String = row.map(|r| r.get(0)).unwrap_or_default();
            conn.execute(
                "INSERT INTO flushes (owner, n) VALUES ($1, 0) ON CONFLICT DO NOTHING",
                &[&owner],
            )?;
            owner
        };
        Ok(Postgres {
            pool,
            place,
            owner,
            pending: Mutex::default(),
            writing: Mutex::default(),
            worker: Mutex::default(),
        })
    }

    /// Writes what runs journaled since the last write, in one transaction; `durable` also
    /// makes it (and every earlier commit) durable.
    fn write_pending(&self, durable: bool) -> Result<()> {
        let _writing = self.writing.lock().unwrap_or_else(|e| e.into_inner());
        let pending = std::mem::take(&mut *self.pending.lock().unwrap_or_else(|e| e.into_inner()));
        if pending.is_empty() && !durable {
            return Ok(());
        }
        let mut conn = self.pool.get()?;
        let written = conn.transaction(durable, |tx| {
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
            let mut now = self.pending.lock().unwrap_or_else(|e| e.into_inner());
            restore(&mut now.calls, pending.calls);
            restore(&mut now.clock, pending.clock);
            restore(&mut now.state_reads, pending.state_reads);
        }
        written
    }

    fn hold<T>(&self, f: impl FnOnce(&mut Pending) -> T) -> T {
        f(&mut self.pending.lock().unwrap_or_else(|e| e.into_inner()))
    }

    /// A connection from the pool.
    fn conn(&self) -> Result<pool::Lent<'_>> {
        self.pool.get()
    }
}

fn restore<V>(now: &mut BTreeMap<(i64, i64), V>, old: BTreeMap<(i64, i64), V>) {
    for (k, v) in old {
        now.entry(k).or_insert(v);
    }
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

    fn take_worker_lock(&self) -> Result<()> {
        let mut held = self.worker.lock().unwrap_or_else(|e| e.into_inner());
        if held.is_some() {
            return Ok(());
        }
        let mut conn = self.pool.dedicated()?;
        let got: bool = conn
            .query_opt(
                "SELECT pg_try_advisory_lock($1, hashtext(current_schema()))",
                &[&WORKER_LOCK],
            )?
            .is_some_and(|r| r.get(0));
        if !got {
            return Err(Error::Refused(format!(
                "another `mageflow serve` is working on {}: this mageflow runs one worker per database (several need the leases that are not built yet); stop the other one first",
                self.place
            )));
        }
        *held = Some(conn);
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
            .map(|r| read(r.get(0)))
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
}
