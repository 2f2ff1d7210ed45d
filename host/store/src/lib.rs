//! mageflow's durable state: runs with their trigger and pinned plugin, each run's journal of
//! host calls and clock readings, approvals with every decision, trigger cursors and dedupe
//! keys, the audit of Magento writes, per-workflow plugin state, who may act (API token hashes
//! and the access audit), and the SCIM bridge's resources.
//!
//! [`Store`] is a cheap handle over a [`Backend`], of which there are two:
//! - sled ([`Store::open`]), embedded in the data directory: one process, nothing to set up;
//! - PostgreSQL ([`Store::postgres`]), a server that operations teams already run and back
//!   up, its schema versioned and migrated at start.
//!
//! Both keep the same promises, which the engine's tests check on each: a write is durable
//! once [`Backend::flush`] returns; queueing runs with a dedupe key or a cursor move is all or
//! nothing to anyone who could be told of it; a journal is read up to its first gap; of two
//! racing decisions exactly one settles an approval. PostgreSQL also lets several workers
//! share it: runs are claimed under fenced leases (see [`LeaseStore`]).

#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod access;
mod approvals;
mod error;
mod journal;
mod leases;
mod postgres;
mod runs;
mod scim;
mod sled;

use std::fmt;
use std::ops::Deref;
use std::path::Path;
use std::sync::Arc;

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

pub use access::{AccessEvent, AccessStore, TokenRecord};
pub use approvals::{Approval, ApprovalStatus, ApprovalStore, Decision, DecisionRecord, Expiry};
pub use error::{Error, Result};
pub use journal::{AuditEntry, Entry, EntryState, FieldChange, JournalStore};
pub use leases::{CursorGuard, CursorLease, CursorMove, Hold, LeaseStore, LeaseTerms, QueueStats};
pub use postgres::{SCHEMA_VERSION, migrate};
pub use runs::{NewRun, Queued, Retrying, Run, RunId, RunStore, Started, Status};
pub use scim::ScimStore;
pub use sled::BUSY_GRACE;

/// What a store keeps, whatever keeps it. Split by subject; the supertraits' methods are
/// callable on a [`Store`] without importing them.
pub trait Backend:
    RunStore + JournalStore + ApprovalStore + AccessStore + ScimStore + LeaseStore + Send + Sync
{
    /// Which backend this is, for `/readyz` and errors (`sled /var/lib/mageflow`,
    /// `postgres 127.0.0.1:5432/mageflow`).
    fn describe(&self) -> String;

    /// Makes everything written so far durable. The engine calls it after recording a
    /// write's intent and before sending the write.
    fn flush(&self) -> Result<()>;

    /// Whether the store answers now (`/readyz`): the error says why not.
    fn check(&self) -> Result<()>;

    /// Keeps a plugin's bytes under its content hash, so a run can load exactly the plugin it
    /// started with after the file changed.
    fn put_plugin(&self, hash: &str, bytes: &[u8]) -> Result<()>;

    /// The plugin bytes stored under `hash`.
    fn plugin(&self, hash: &str) -> Result<Option<Vec<u8>>>;

    /// A trigger cursor (poll position, next cron fire), by key, as JSON. (The generic
    /// [`Store::cursor`] reads it into its type.)
    fn cursor_value(&self, key: &str) -> Result<Option<Value>>;

    /// Sets a trigger cursor.
    fn set_cursor_value(&self, key: &str, value: &Value) -> Result<()>;

    /// A value a workflow's plugin stored with `runtime.state-set`.
    fn state(&self, workflow: &str, key: &str) -> Result<Option<String>>;

    /// Stores a workflow's plugin state value.
    fn set_state(&self, workflow: &str, key: &str, value: &str) -> Result<()>;

    /// Every state value of a workflow, by key, as written so far (a run under way writes what
    /// it sets at its next durable point): what a run reads, loaded when it is claimed.
    fn states(&self, workflow: &str) -> Result<Vec<(String, String)>>;

    /// Stores a state value a run set: written with the run's journal at its next durable
    /// point, and only while the run's lease holds.
    fn record_state(&self, run: RunId, workflow: &str, key: &str, value: &str) -> Result<()>;
}

/// The open store. Cheap to clone; every clone is the same database. Every [`Backend`] method
/// is called on it directly; the few generic ones are its own.
#[derive(Clone)]
pub struct Store {
    backend: Arc<dyn Backend>,
}

impl fmt::Debug for Store {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Store")
            .field(&self.backend.describe())
            .finish()
    }
}

impl Deref for Store {
    type Target = dyn Backend;

    fn deref(&self) -> &(dyn Backend + 'static) {
        &*self.backend
    }
}

impl Store {
    /// Opens (or creates) the sled store in `dir`.
    ///
    /// A directory that is busy is tried again for up to [`BUSY_GRACE`]: sled's background
    /// writers can hold the lock a moment after the last handle in this process is dropped, so
    /// a reopen right after a close would otherwise fail. A directory still busy after that is
    /// held by another process, and the error says so.
    pub fn open(dir: &Path) -> Result<Store> {
        Ok(Store::over(sled::Sled::open(dir)?))
    }

    /// A sled store that lives in memory and vanishes when dropped (tests, dry runs).
    pub fn temporary() -> Result<Store> {
        Ok(Store::over(sled::Sled::temporary()?))
    }

    /// Connects to PostgreSQL at `url` (`postgres://user@host:port/db`), applying the
    /// schema's migrations first. Refused, naming both versions, when the database was
    /// migrated by a newer mageflow.
    pub fn postgres(url: &str) -> Result<Store> {
        Ok(Store::over(postgres::Postgres::connect(url)?))
    }

    /// A store over any backend.
    pub fn over(backend: impl Backend + 'static) -> Store {
        Store {
            backend: Arc::new(backend),
        }
    }

    /// A trigger cursor (poll position, next cron fire), by key.
    pub fn cursor<T: DeserializeOwned>(&self, key: &str) -> Result<Option<T>> {
        self.backend
            .cursor_value(key)?
            .map(|v| read_cursor(key, v))
            .transpose()
    }

    /// Runs `work` on the store off the async workers when the store is across the network
    /// (PostgreSQL), so an await never blocks one on a round trip; inline on sled, whose
    /// calls do not wait on the network.
    pub async fn blocking<T: Send + 'static>(
        &self,
        work: impl FnOnce(&Store) -> T + Send + 'static,
    ) -> T {
        if !self.shared() {
            return work(self);
        }
        let store = self.clone();
        match tokio::task::spawn_blocking(move || work(&store)).await {
            Ok(v) => v,
            Err(e) => std::panic::resume_unwind(e.into_panic()),
        }
    }

    /// Writes how a started run's attempt ended ([`RunStore::end_attempt_with`]).
    pub fn end_attempt(&self, started: &Started, change: impl Fn(&mut Run)) -> Result<Run> {
        self.backend.end_attempt_with(started, &change)
    }

    /// Changes a run in place ([`RunStore::update_run_with`]).
    pub fn update_run(&self, id: RunId, change: impl Fn(&mut Run)) -> Result<Run> {
        self.backend.update_run_with(id, &change)
    }

    /// Changes a token in place ([`AccessStore::update_token_with`]).
    pub fn update_token(&self, id: &str, change: impl Fn(&mut TokenRecord)) -> Result<TokenRecord> {
        self.backend.update_token_with(id, &change)
    }
}

/// A trigger cursor's stored value as its type.
pub fn read_cursor<T: DeserializeOwned>(key: &str, value: Value) -> Result<T> {
    serde_json::from_value(value)
        .map_err(|e| Error::Corrupt(format!("cursor {key} cannot be read: {e}")))
}

/// A trigger cursor as the value stored (what a [`CursorMove`] moves it to).
pub fn cursor_json<T: Serialize>(key: &str, cursor: &T) -> Result<Value> {
    serde_json::to_value(cursor)
        .map_err(|e| Error::Corrupt(format!("cannot encode cursor {key}: {e}")))
}

pub(crate) fn encode<T: Serialize>(v: &T) -> Result<Vec<u8>> {
    serde_json::to_vec(v).map_err(|e| Error::Corrupt(format!("cannot encode a record: {e}")))
}

pub(crate) fn decode<T: DeserializeOwned>(b: &[u8]) -> Result<T> {
    serde_json::from_slice(b).map_err(|e| Error::Corrupt(format!("cannot read a record: {e}")))
}
