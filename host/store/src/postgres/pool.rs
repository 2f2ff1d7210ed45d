//! A small pool of PostgreSQL connections usable from any thread, async or not.
//!
//! The connections' sockets are driven on one thread of the store's own (a current-thread
//! tokio runtime), so the store never needs, or blocks, its caller's runtime. A query is a
//! future that talks to its connection through channels; the caller awaits it with
//! `block_on`, which works on any thread. Each connection keeps its prepared statements, so a
//! query costs one round trip after its first use.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Condvar, Mutex};
use std::time::Duration;

use futures_executor::block_on;
use tokio_postgres::types::ToSql;
use tokio_postgres::{Client, NoTls, Row, Statement};

use crate::{Error, Result};

pub(crate) type Job = Pin<Box<dyn Future<Output = ()> + Send>>;

/// How long a connection attempt may take before the store says PostgreSQL is unreachable.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// The thread that drives the connections' sockets.
#[derive(Debug)]
struct Driver {
    jobs: tokio::sync::mpsc::UnboundedSender<Job>,
}

impl Driver {
    fn start() -> Result<Driver> {
        let (jobs, mut inbox) = tokio::sync::mpsc::unbounded_channel::<Job>();
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| Error::Unavailable(format!("cannot start the store's thread: {e}")))?;
        std::thread::Builder::new()
            .name("mageflow-postgres".into())
            .spawn(move || {
                runtime.block_on(async move {
                    while let Some(job) = inbox.recv().await {
                        tokio::spawn(job);
                    }
                });
            })
            .map_err(|e| Error::Unavailable(format!("cannot start the store's thread: {e}")))?;
        Ok(Driver { jobs })
    }

    /// Opens a connection, its socket driven on the driver's thread until it closes.
    fn connect(&self, config: &tokio_postgres::Config) -> Result<Client> {
        let (tx, rx) = std::sync::mpsc::sync_channel(1);
        let mut config = config.clone();
        config.connect_timeout(CONNECT_TIMEOUT);
        let job: Job = Box::pin(async move {
            match config.connect(NoTls).await {
                Ok((client, connection)) => {
                    let _ = tx.send(Ok(client));
                    if let Err(e) = connection.await {
                        tracing::warn!(error = %e, "a PostgreSQL connection ended");
                    }
                }
                Err(e) => {
                    let _ = tx.send(Err(e));
                }
            }
        });
        self.jobs
            .send(job)
            .map_err(|_| Error::Unavailable("the store's thread has stopped".into()))?;
        rx.recv()
            .map_err(|_| Error::Unavailable("the store's thread has stopped".into()))?
            .map_err(|e| Error::Unavailable(format!("cannot connect: {e}")))
    }
}

/// One connection with its prepared statements.
pub(crate) struct Conn {
    client: Client,
    prepared: HashMap<&'static str, Statement>,
}

impl Conn {
    /// Whether its connection has ended (the server restarted, say).
    pub(crate) fn is_closed(&self) -> bool {
        self.client.is_closed()
    }

    fn statement(&mut self, sql: &'static str) -> Result<Statement> {
        if let Some(s) = self.prepared.get(sql) {
            return Ok(s.clone());
        }
        let s = block_on(self.client.prepare(sql)).map_err(Error::postgres)?;
        self.prepared.insert(sql, s.clone());
        Ok(s)
    }

    /// The rows `sql` answers.
    pub(crate) fn query(
        &mut self,
        sql: &'static str,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<Vec<Row>> {
        let s = self.statement(sql)?;
        block_on(self.client.query(&s, params)).map_err(Error::postgres)
    }

    /// The one row `sql` answers, if any.
    pub(crate) fn query_opt(
        &mut self,
        sql: &'static str,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<Option<Row>> {
        let s = self.statement(sql)?;
        block_on(self.client.query_opt(&s, params)).map_err(Error::postgres)
    }

    /// Runs `sql`, answering how many rows it changed.
    pub(crate) fn execute(
        &mut self,
        sql: &'static str,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<u64> {
        let s = self.statement(sql)?;
        block_on(self.client.execute(&s, params)).map_err(Error::postgres)
    }

    /// Runs statements with no parameters (`BEGIN`, a migration).
    pub(crate) fn batch(&mut self, sql: &str) -> Result<()> {
        block_on(self.client.batch_execute(sql)).map_err(Error::postgres)
    }

    /// Runs `work` in a transaction: committed when it answers `Ok`, rolled back otherwise.
    /// With `durable`, the commit waits for the WAL to reach the disk, and so makes every
    /// earlier commit durable too; without, it is durable at the next durable commit.
    pub(crate) fn transaction<T>(
        &mut self,
        durable: bool,
        work: impl FnOnce(&mut Conn) -> Result<T>,
    ) -> Result<T> {
        self.batch(if durable {
            "BEGIN; SET LOCAL synchronous_commit TO on"
        } else {
            "BEGIN"
        })?;
        match work(self) {
            Ok(v) => {
                self.batch("COMMIT")?;
                Ok(v)
            }
            Err(e) => {
                if self.batch("ROLLBACK").is_err() {
                    tracing::warn!("a PostgreSQL transaction could not be rolled back");
                }
                Err(e)
            }
        }
    }
}

/// The pool.
pub(crate) struct Pool {
    driver: Driver,
    config: tokio_postgres::Config,
    idle: Mutex<Idle>,
    freed: Condvar,
}

struct Idle {
    conns: Vec<Conn>,
    /// Connections open, idle or lent.
    open: usize,
    size: usize,
}

impl std::fmt::Debug for Pool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pool").finish_non_exhaustive()
    }
}

impl Pool {
    /// A pool of up to `size` connections, one opened now so a wrong address fails at once.
    pub(crate) fn open(config: tokio_postgres::Config, size: usize) -> Result<Pool> {
        let pool = Pool {
            driver: Driver::start()?,
            config,
            idle: Mutex::new(Idle {
                conns: Vec::new(),
                open: 0,
                size: size.max(1),
            }),
            freed: Condvar::new(),
        };
        let first = pool.get()?;
        drop(first);
        Ok(pool)
    }

    /// A connection outside the pool whose every commit waits for the disk: what a flush
    /// commits on.
    pub(crate) fn durable(&self) -> Result<Conn> {
        let conn = self.new_conn()?;
        block_on(conn.client.batch_execute("SET synchronous_commit TO on"))
            .map_err(Error::postgres)?;
        Ok(conn)
    }

    /// Runs `job` on the thread that drives the connections (a listener's loop).
    pub(crate) fn spawn(&self, job: Job) {
        if self.driver.jobs.send(job).is_err() {
            tracing::warn!("the store's thread has stopped: the job was not started");
        }
    }

    fn new_conn(&self) -> Result<Conn> {
        let client = self.driver.connect(&self.config)?;
        // A commit is durable at the next durable one ([`Conn::transaction`]): as with sled,
        // a write is kept for sure once the store is flushed.
        block_on(client.batch_execute("SET synchronous_commit TO off")).map_err(Error::postgres)?;
        Ok(Conn {
            client,
            prepared: HashMap::new(),
        })
    }

    /// A connection: an idle one, a new one while fewer than the pool's size are open, or the
    /// next one given back.
    pub(crate) fn get(&self) -> Result<Lent<'_>> {
        let mut idle = self.idle.lock().unwrap_or_else(|e| e.into_inner());
        loop {
            if let Some(conn) = idle.conns.pop() {
                if conn.client.is_closed() {
                    idle.open -= 1;
                    continue;
                }
                return Ok(Lent {
                    pool: self,
                    conn: Some(conn),
                });
            }
            if idle.open < idle.size {
                idle.open += 1;
                drop(idle);
                return match self.new_conn() {
                    Ok(conn) => Ok(Lent {
                        pool: self,
                        conn: Some(conn),
                    }),
                    Err(e) => {
                        self.idle.lock().unwrap_or_else(|e| e.into_inner()).open -= 1;
                        self.freed.notify_one();
                        Err(e)
                    }
                };
            }
            idle = self.freed.wait(idle).unwrap_or_else(|e| e.into_inner());
        }
    }
}

/// A connection lent by the pool, given back when dropped (or let go, if it broke).
pub(crate) struct Lent<'a> {
    pool: &'a Pool,
    conn: Option<Conn>,
}

impl std::ops::Deref for Lent<'_> {
    type Target = Conn;

    fn deref(&self) -> &Conn {
        self.conn
            .as_ref()
            .expect("a lent connection is held until dropped")
    }
}

impl std::ops::DerefMut for Lent<'_> {
    fn deref_mut(&mut self) -> &mut Conn {
        self.conn
            .as_mut()
            .expect("a lent connection is held until dropped")
    }
}

impl Drop for Lent<'_> {
    fn drop(&mut self) {
        let Some(conn) = self.conn.take() else {
            return;
        };
        let mut idle = self.pool.idle.lock().unwrap_or_else(|e| e.into_inner());
        if conn.client.is_closed() {
            idle.open -= 1;
        } else {
            idle.conns.push(conn);
        }
        drop(idle);
        self.pool.freed.notify_one();
    }
}
