//! Each run's journal (its host calls with an argument digest and a result), its clock
//! readings, and the audit of every Magento write.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use serde_json::value::RawValue;

use crate::runs::RunId;
use crate::{Result, Store, decode, encode, pair};

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
    /// A run's recorded calls, in order.
    pub fn journal(&self, run: RunId) -> Result<Vec<Entry>> {
        self.journal
            .scan_prefix(run.to_be_bytes())
            .map(|item| decode(&item?.1))
            .collect()
    }

    /// Records (or completes) one call of a run.
    pub fn record(&self, run: RunId, entry: &Entry) -> Result<()> {
        self.journal.insert(pair(run, entry.seq), encode(entry)?)?;
        Ok(())
    }

    /// Records several calls of a run at once.
    pub fn record_all(&self, run: RunId, entries: &[Entry]) -> Result<()> {
        let mut batch = sled::Batch::default();
        for e in entries {
            batch.insert(&pair(run, e.seq)[..], encode(e)?);
        }
        self.journal.apply_batch(batch)?;
        Ok(())
    }

    /// A run's clock readings (nanoseconds since the Unix epoch), in order.
    pub fn clock_readings(&self, run: RunId) -> Result<Vec<u128>> {
        self.clock
            .scan_prefix(run.to_be_bytes())
            .map(|item| {
                let (_, v) = item?;
                let mut b = [0u8; 16];
                b.copy_from_slice(&v[..16]);
                Ok(u128::from_be_bytes(b))
            })
            .collect()
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

    /// A run's audit entries, in order.
    pub fn audit_of(&self, run: RunId) -> Result<Vec<AuditEntry>> {
        self.audit
            .scan_prefix(run.to_be_bytes())
            .map(|item| decode(&item?.1))
            .collect()
    }
}
