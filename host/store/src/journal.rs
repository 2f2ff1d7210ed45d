//! Each run's journal (its host calls with an argument digest and a result), its clock
//! readings, and the audit of every Magento write.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use serde_json::value::RawValue;

use crate::Result;
use crate::runs::RunId;

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

/// Each run's journal, clock readings and state reads, and the audit of Magento writes.
///
/// Journal records are written one by one and made durable by the next
/// [`Backend::flush`](crate::Backend::flush); a reader stops at the first missing sequence
/// number, so if a crash kept a later record but lost an earlier one, no answer is ever
/// matched to the wrong call.
pub trait JournalStore {
    /// A run's recorded calls, in order, up to the first one missing.
    fn journal(&self, run: RunId) -> Result<Vec<Entry>>;

    /// Records (or completes) one call of a run.
    fn record(&self, run: RunId, entry: &Entry) -> Result<()>;

    /// Records several calls of a run, in order. A crash may keep a prefix of them.
    fn record_all(&self, run: RunId, entries: &[Entry]) -> Result<()>;

    /// A run's clock readings (nanoseconds since the Unix epoch), in order.
    fn clock_readings(&self, run: RunId) -> Result<Vec<u128>>;

    /// Records a run's clock reading number `seq`.
    fn record_clock(&self, run: RunId, seq: u64, nanos: u128) -> Result<()>;

    /// The state values a run read, in order (journaled so a replay reads the same).
    fn state_reads(&self, run: RunId) -> Result<Vec<Option<String>>>;

    /// Records a run's state read number `seq`.
    fn record_state_read(&self, run: RunId, seq: u64, value: Option<&str>) -> Result<()>;

    /// Appends an audit entry.
    fn audit(&self, entry: &AuditEntry) -> Result<()>;

    /// Every run's audit entries, run by run.
    fn audit_all(&self) -> Result<Vec<AuditEntry>>;

    /// A run's audit entries, in order.
    fn audit_of(&self, run: RunId) -> Result<Vec<AuditEntry>>;
}
