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
mod claims;
mod journal;
mod leases;
mod listen;
mod pending;
mod pool;
mod runs;
mod schema;
mod scim;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::{Backend, Error, Result, RunId};
use leases::Leases;
use pending::Pending;
use pool::{Conn, Pool};
pub use schema::SCHEMA_VERSION;

/// Connections per store handle.
const POOL_SIZE: usize = 16;

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

/// The durable writes of one store handle: the number of the last begun, and of the last
/// committed; and the connection they commit on.
#[derive(Default)]
struct Flushes {
    begun: u64,
    committed: u64,
    conn: Option<Conn>,
}

/// The PostgreSQL backend.
pub(crate) struct Postgres {
    pool: Arc<Pool>,
    place: String,
    /// This handle's row in `flushes`, and its name as a lease owner: each handle is one
    /// worker.
    owner: String,
    pending: Mutex<Pending>,
    /// Durable writes begun (see `writing`).
    flushes_begun: AtomicU64,
    /// Held while the pending records are written, so a flush returns only once every record
    /// taken before it is committed. It counts the durable writes begun, and the last one
    /// that committed: a flush that finds one begun after it was asked for has nothing left
    /// to do (group commit).
    writing: Mutex<Flushes>,
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
            flushes_begun: AtomicU64::new(0),
            writing: Mutex::default(),
            wakeups: OnceLock::new(),
            config,
        })
    }

    /// Makes everything written so far durable, with what runs journaled and nobody wrote
    /// yet, in one statement on a connection whose commits wait for the disk. The records of a
    /// run whose lease was lost are dropped, and the run is marked lost: its fence is checked
    /// in the same statement, with the run's row locked against a claim until it commits.
    /// Flushes take turns, so one returns only once every record taken before it is durable;
    /// one that finds a flush begun after it was asked for has nothing left to do (group
    /// commit).
    fn flush_pending(&self) -> Result<()> {
        let asked = self.flushes_begun.load(Ordering::SeqCst) + 1;
        let mut flushes = self.writing.lock().unwrap_or_else(|e| e.into_inner());
        if flushes.committed >= asked {
            return Ok(());
        }
        let pending = std::mem::take(&mut *self.pending.lock().unwrap_or_else(|e| e.into_inner()));
        flushes.begun = self.flushes_begun.fetch_add(1, Ordering::SeqCst) + 1;
        if flushes.conn.as_ref().is_none_or(Conn::is_closed) {
            flushes.conn = Some(self.pool.durable()?);
        }
        let conn = flushes.conn.as_mut().expect("opened just above");
        self.write(conn, pending, Some(&self.owner))?;
        flushes.committed = flushes.begun;
        Ok(())
    }

    /// Writes what `run` journaled and nobody wrote yet (before its end, or a read of its
    /// journal), as [`Postgres::flush_pending`] does but not durably and without waiting for
    /// a flush: only this run's records are taken, so a flush in progress loses none of its
    /// own.
    fn write_run_pending(&self, run: RunId) -> Result<()> {
        let key = big(run)?;
        let mine = self.pending_mut(|p| p.take_run(key));
        if mine.is_empty() {
            return Ok(());
        }
        self.write(&mut *self.pool.get()?, mine, None)
    }

    /// Writes `pending` on `conn`, dropping what lost runs held; on failure the records go
    /// back to be written at the next durable point.
    fn write(&self, conn: &mut Conn, mut pending: Pending, owner: Option<&str>) -> Result<()> {
        let (fenced, lost) = self.leases.fences(&pending.runs());
        pending.drop_runs(&lost);
        match pending.write(conn, &fenced, owner) {
            Ok(moved) => {
                self.leases.lose(&lost);
                self.leases.lose(&moved);
                Ok(())
            }
            Err(e) => {
                // Put them back, so a later durable point writes them (unless newer ones came).
                self.pending_mut(|now| now.restore(pending));
                Err(e)
            }
        }
    }

    fn pending_mut<T>(&self, f: impl FnOnce(&mut Pending) -> T) -> T {
        f(&mut self.pending.lock().unwrap_or_else(|e| e.into_inner()))
    }

    /// A connection from the pool.
    fn conn(&self) -> Result<pool::Lent<'_>> {
        self.pool.get()
    }
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
        self.flush_pending()
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
        // What runs still under way set is theirs until their next durable point.
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
