//! The embedded backend: sled in the data directory. Records are JSON; keys are big-endian
//! ids so trees iterate in id order. sled allows one process per directory: [`Sled::open`]
//! names that cause when the directory is taken.

mod access;
mod approvals;
mod journal;
mod leases;
mod runs;
mod scim;

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::{Backend, Error, Result, RunId, decode, encode};

/// How long [`Store::open`](crate::Store::open) waits for a busy data directory before it names the other process.
pub const BUSY_GRACE: Duration = Duration::from_secs(1);

fn is_busy(e: &sled::Error) -> bool {
    let text = e.to_string();
    text.contains("lock") || text.contains("WouldBlock") || text.contains("temporarily unavailable")
}

/// The sled backend.
#[derive(Debug)]
pub(crate) struct Sled {
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
    /// Where it lives, for [`Backend::describe`].
    place: String,
}

impl Sled {
    /// Opens (or creates) the store in `dir`, waiting up to [`BUSY_GRACE`] for a busy one.
    pub(crate) fn open(dir: &Path) -> Result<Sled> {
        let deadline = Instant::now() + BUSY_GRACE;
        loop {
            match sled::Config::new().path(dir).open() {
                Ok(db) => return Sled::with(db, dir.display().to_string()),
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

    /// A store that lives in memory and vanishes when dropped.
    pub(crate) fn temporary() -> Result<Sled> {
        Sled::with(
            sled::Config::new().temporary(true).open()?,
            "in memory".into(),
        )
    }

    fn with(db: sled::Db, place: String) -> Result<Sled> {
        Ok(Sled {
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
            place,
            db,
        })
    }

    /// A fresh id, unique and increasing across restarts.
    fn next_id(&self) -> Result<u64> {
        // sled's ids start at 0; ours start at 1.
        Ok(self.db.generate_id()? + 1)
    }
}

impl Backend for Sled {
    fn describe(&self) -> String {
        format!("sled {}", self.place)
    }

    fn flush(&self) -> Result<()> {
        self.db.flush()?;
        Ok(())
    }

    fn check(&self) -> Result<()> {
        // In-process: it answers whenever this process does.
        Ok(())
    }

    fn put_plugin(&self, hash: &str, bytes: &[u8]) -> Result<()> {
        if !self.plugins.contains_key(hash)? {
            self.plugins.insert(hash, bytes)?;
        }
        Ok(())
    }

    fn plugin(&self, hash: &str) -> Result<Option<Vec<u8>>> {
        Ok(self.plugins.get(hash)?.map(|b| b.to_vec()))
    }

    fn cursor_value(&self, key: &str) -> Result<Option<Value>> {
        self.cursors.get(key)?.map(|b| decode(&b)).transpose()
    }

    fn set_cursor_value(&self, key: &str, value: &Value) -> Result<()> {
        self.cursors.insert(key, encode(value)?)?;
        Ok(())
    }

    fn state(&self, workflow: &str, key: &str) -> Result<Option<String>> {
        Ok(self
            .state
            .get(state_key(workflow, key))?
            .map(|b| String::from_utf8_lossy(&b).into_owned()))
    }

    fn set_state(&self, workflow: &str, key: &str, value: &str) -> Result<()> {
        self.state
            .insert(state_key(workflow, key), value.as_bytes())?;
        Ok(())
    }

    fn states(&self, workflow: &str) -> Result<Vec<(String, String)>> {
        let prefix = state_key(workflow, "");
        self.state
            .scan_prefix(&prefix)
            .map(|item| {
                let (k, v) = item?;
                Ok((
                    String::from_utf8_lossy(&k[prefix.len()..]).into_owned(),
                    String::from_utf8_lossy(&v).into_owned(),
                ))
            })
            .collect()
    }

    /// Written at once: sled's writes are durable at the next flush anyway.
    fn record_state(&self, _run: RunId, workflow: &str, key: &str, value: &str) -> Result<()> {
        self.set_state(workflow, key, value)
    }
}

fn state_key(workflow: &str, key: &str) -> Vec<u8> {
    let mut k = workflow.as_bytes().to_vec();
    k.push(0);
    k.extend_from_slice(key.as_bytes());
    k
}

/// Two big-endian ids, so a run's entries sort by sequence.
pub(crate) fn pair(a: u64, b: u64) -> [u8; 16] {
    let mut k = [0u8; 16];
    k[..8].copy_from_slice(&a.to_be_bytes());
    k[8..].copy_from_slice(&b.to_be_bytes());
    k
}
