//! Each run's journal (its host calls with an argument digest and a result), its clock
//! readings, and the audit of every Magento write.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use serde_json::value::RawValue;

use crate::runs::RunId;
use crate::{Error, Result, Store, decode, encode, pair};

/// One recorded host call.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Entry {
    /// Position in the run's call sequence, from 0.
    pub seq: u64,
    /// The WIT function (`customers.update`).
    pub call: String,
    /// SHA-256 (hex) of the call's arguments, passwords left out.
    pub digest: String,
    /// Whether the call finished.
    pub state: EntryState,
}

/// Where a recorded call got to.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum EntryState {
    /// About to be sent (a write whose answer never came back is in doubt).
    Intent,
    /// Answered; the reply or failure as the gateway gave it (JSON, kept as written).
    Done {
        /// The recorded answer.
        result: Box<RawValue>,
    },
}

/// One field of a Magento write, before and after.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FieldChange {
    /// Field name (`group_id`, `custom_attributes.flag`).
    pub field: String,
    /// The stored value before (`null` when absent).
    pub before: Value,
    /// The value after.
    pub after: Value,
}

/// An audit entry for one Magento write.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditEntry {
    /// The run that wrote.
    pub run: RunId,
    /// Its workflow.
    pub workflow: String,
    /// Who approved the run's write, when an approval was granted.
    pub approver: Option<String>,
    /// The WIT function (`customers.update`).
    pub call: String,
    /// The entity written (`customer 7`, `admin user 3`).
    pub entity: String,
    /// Fields before and after (empty for creates and deletes where nothing was read).
    pub changes: Vec<FieldChange>,
    /// A remark, e.g. that a write in doubt after a restart had landed already.
    #[serde(default)]
    pub note: Option<String>,
    /// Unix seconds.
    pub at: u64,
}

impl Store {
    /// A run's recorded calls, in order, up to the first one missing (see [`in_sequence`]).
    pub fn journal(&self, run: RunId) -> Result<Vec<Entry>> {
        in_sequence(&self.journal, run, decode)
    }

    /// Records (or completes) one call of a run.
    pub fn record(&self, run: RunId, entry: &Entry) -> Result<()> {
        self.journal.insert(pair(run, entry.seq), encode(entry)?)?;
        Ok(())
    }

    /// Records several calls of a run, in order. Not one atomic batch on purpose: a sled batch
    /// takes the database's global write lock, which waits for every flush in progress and
    /// stalls every other writer behind it. A crash may keep a prefix of these; the reader
    /// stops at the first gap, and a call missing from the journal is asked again on replay.
    pub fn record_all(&self, run: RunId, entries: &[Entry]) -> Result<()> {
        for e in entries {
            self.journal.insert(pair(run, e.seq), encode(e)?)?;
        }
        Ok(())
    }

    /// A run's clock readings (nanoseconds since the Unix epoch), in order.
    pub fn clock_readings(&self, run: RunId) -> Result<Vec<u128>> {
        in_sequence(&self.clock, run, |v| {
            let b: [u8; 16] = v.try_into().map_err(|_| {
                Error::Corrupt(format!(
                    "run {run} has a clock reading of {} bytes",
                    v.len()
                ))
            })?;
            Ok(u128::from_be_bytes(b))
        })
    }

    /// Records a run's clock reading number `seq`.
    pub fn record_clock(&self, run: RunId, seq: u64, nanos: u128) -> Result<()> {
        self.clock.insert(pair(run, seq), &nanos.to_be_bytes())?;
        Ok(())
    }

    /// Appends an audit entry.
    pub fn audit(&self, entry: &AuditEntry) -> Result<()> {
        let id = self.next_id()?;
        self.audit.insert(pair(entry.run, id), encode(entry)?)?;
        Ok(())
    }

    /// Every run's audit entries, run by run.
    pub fn audit_all(&self) -> Result<Vec<AuditEntry>> {
        self.audit.iter().map(|item| decode(&item?.1)).collect()
    }

    /// A run's audit entries, in order.
    pub fn audit_of(&self, run: RunId) -> Result<Vec<AuditEntry>> {
        self.audit
            .scan_prefix(run.to_be_bytes())
            .map(|item| decode(&item?.1))
            .collect()
    }
}

/// A run's numbered records (keys `run ++ seq`, seq from 0), read in order up to the first
/// missing number. Records are written one by one; if a crash kept a later one but lost an
/// earlier one, everything from the gap on is ignored, so no answer is ever matched to the
/// wrong call.
pub(crate) fn in_sequence<T>(
    tree: &sled::Tree,
    run: RunId,
    read: impl Fn(&[u8]) -> Result<T>,
) -> Result<Vec<T>> {
    let mut out = Vec::new();
    for item in tree.scan_prefix(run.to_be_bytes()) {
        let (key, value) = item?;
        let seq = key
            .get(8..16)
            .and_then(|b| <[u8; 8]>::try_from(b).ok())
            .map(u64::from_be_bytes);
        if seq != Some(out.len() as u64) {
            break;
        }
        out.push(read(&value)?);
    }
    Ok(out)
}
