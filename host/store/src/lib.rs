//! mageflow's durable state, in sled: runs with their trigger and pinned plugin, each run's
//! journal of host calls and clock readings, approvals with every decision, trigger cursors and
//! dedupe keys, the audit of Magento writes, per-workflow plugin state, and who may act (API
//! token hashes and the access audit), and the SCIM bridge's resources.
//!
//! The store is a narrow interface over a few trees, so another backend (PostgreSQL with
//! `FOR UPDATE SKIP LOCKED` leases) can take its place without touching the engine. Records
//! are JSON; keys are big-endian ids so trees iterate in id order. sled allows one process per
//! directory: [`Store::open`] names that cause when the directory is taken.

#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod access;
mod approvals;
mod error;
mod journal;
mod runs;
mod scim;

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde::Serialize;
use serde::de::DeserializeOwned;

pub use access::{AccessEvent, TokenRecord};
pub use approvals::{Approval, ApprovalStatus, Decision, DecisionRecord, Expiry};
pub use error::{Error, Result};
pub use journal::{AuditEntry, Entry, EntryState, FieldChange};
pub use runs::{NewRun, Queued, Retrying, Run, RunId, Started, Status};

/// How long [`Store::open`] waits for a busy data directory before it names the other process.
pub const BUSY_GRACE: Duration = Duration::from_secs(1);

fn is_busy(e: &sled::Error) -> bool {
    let text = e.to_string();
    text.contains("lock") || text.contains("WouldBlock") || text.contains("temporarily unavailable")
}

/// The open store. Cheap to clone; every clone is the same database.
#[derive(Clone, Debug)]
pub struct Store {
    db: sled::Db,
    runs: sled::Tree,
    journal: sled::Tree,
    clock: sled::Tree,
    approvals: sled::Tree,
    approval_keys: sled::Tree,
    plugins: sled::Tree,
    cursors: sled::Tree,
    dedupe: sled::Tree,
    audit: sled::Tree,
    state: sled::Tree,
    state_reads: sled::Tree,
    tokens: sled::Tree,
    events: sled::Tree,
    scim: sled::Tree,
    /// Held while runs are queued: sled allows one process per directory, so this lock is
    /// enough to check and take a dedupe key without a storage transaction.
    queueing: Arc<Mutex<()>>,
}

impl Store {
    /// Opens (or creates) the store in `dir`.
    ///
    /// A directory that is busy is tried again for up to [`BUSY_GRACE`]: sled's background
    /// writers can hold the lock a moment after the last handle in this process is dropped, so
    /// a reopen right after a close would otherwise fail. A directory still busy after that is
    /// held by another process, and the error says so.
    pub fn open(dir: &Path) -> Result<Store> {
        let deadline = Instant::now() + BUSY_GRACE;
        loop {
            match sled::Config::new().path(dir).open() {
                Ok(db) => return Store::with(db),
                Err(e) if is_busy(&e) => {
                    if Instant::now() >= deadline {
                        return Err(Error::Busy(dir.display().to_string()));
                    }
                    std::thread::sleep(Duration::from_millis(20));
                }
                Err(source) => {
                    return Err(Error::Open {
                        dir: dir.display().to_string(),
                        source,
                    });
                }
            }
        }
    }

    /// A store that lives in memory and vanishes when dropped (tests, dry runs).
    pub fn temporary() -> Result<Store> {
        Store::with(sled::Config::new().temporary(true).open()?)
    }

    fn with(db: sled::Db) -> Result<Store> {
        Ok(Store {
            runs: db.open_tree("runs")?,
            journal: db.open_tree("journal")?,
            clock: db.open_tree("clock")?,
            approvals: db.open_tree("approvals")?,
            approval_keys: db.open_tree("approval-keys")?,
            plugins: db.open_tree("plugins")?,
            cursors: db.open_tree("cursors")?,
            dedupe: db.open_tree("dedupe")?,
            audit: db.open_tree("audit")?,
            state: db.open_tree("state")?,
            state_reads: db.open_tree("state-reads")?,
            tokens: db.open_tree("tokens")?,
            events: db.open_tree("events")?,
            scim: db.open_tree("scim")?,
            queueing: Arc::default(),
            db,
        })
    }

    /// Makes everything written so far durable (an fsync). The engine calls it after recording
    /// a write's intent and before sending the write.
    pub fn flush(&self) -> Result<()> {
        self.db.flush()?;
        Ok(())
    }

    /// A fresh id, unique and increasing across restarts.
    fn next_id(&self) -> Result<u64> {
        // sled's ids start at 0; ours start at 1.
        Ok(self.db.generate_id()? + 1)
    }

    /// Keeps a plugin's bytes under its content hash, so a run can load exactly the plugin it
    /// started with after the file changed.
    pub fn put_plugin(&self, hash: &str, bytes: &[u8]) -> Result<()> {
        if !self.plugins.contains_key(hash)? {
            self.plugins.insert(hash, bytes)?;
        }
        Ok(())
    }

    /// The plugin bytes stored under `hash`.
    pub fn plugin(&self, hash: &str) -> Result<Option<Vec<u8>>> {
        Ok(self.plugins.get(hash)?.map(|b| b.to_vec()))
    }

    /// A trigger cursor (poll position, next cron fire), by key.
    pub fn cursor<T: DeserializeOwned>(&self, key: &str) -> Result<Option<T>> {
        self.cursors.get(key)?.map(|b| decode(&b)).transpose()
    }

    /// Sets a trigger cursor.
    pub fn set_cursor<T: Serialize>(&self, key: &str, value: &T) -> Result<()> {
        self.cursors.insert(key, encode(value)?)?;
        Ok(())
    }

    /// A value a workflow's plugin stored with `runtime.state-set`.
    pub fn state(&self, workflow: &str, key: &str) -> Result<Option<String>> {
        Ok(self
            .state
            .get(state_key(workflow, key))?
            .map(|b| String::from_utf8_lossy(&b).into_owned()))
    }

    /// Stores a workflow's plugin state value.
    pub fn set_state(&self, workflow: &str, key: &str, value: &str) -> Result<()> {
        self.state
            .insert(state_key(workflow, key), value.as_bytes())?;
        Ok(())
    }
}

impl Store {
    /// The state values a run read, in order (journaled so a replay reads the same).
    pub fn state_reads(&self, run: u64) -> Result<Vec<Option<String>>> {
        journal::in_sequence(&self.state_reads, run, decode)
    }

    /// Records a run's state read number `seq`.
    pub fn record_state_read(&self, run: u64, seq: u64, value: Option<&str>) -> Result<()> {
        self.state_reads.insert(pair(run, seq), encode(&value)?)?;
        Ok(())
    }
}

fn state_key(workflow: &str, key: &str) -> Vec<u8> {
    let mut k = workflow.as_bytes().to_vec();
    k.push(0);
    k.extend_from_slice(key.as_bytes());
    k
}

pub(crate) fn encode<T: Serialize>(v: &T) -> Result<Vec<u8>> {
    serde_json::to_vec(v).map_err(|e| Error::Corrupt(format!("cannot encode a record: {e}")))
}

pub(crate) fn decode<T: DeserializeOwned>(b: &[u8]) -> Result<T> {
    serde_json::from_slice(b).map_err(|e| Error::Corrupt(format!("cannot read a record: {e}")))
}

/// Two big-endian ids, so a run's entries sort by sequence.
pub(crate) fn pair(a: u64, b: u64) -> [u8; 16] {
    let mut k = [0u8; 16];
    k[..8].copy_from_slice(&a.to_be_bytes());
    k[8..].copy_from_slice(&b.to_be_bytes());
    k
}
