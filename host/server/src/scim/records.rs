//! A SCIM resource as the bridge keeps it in the store: the document the identity provider
//! sees, the Magento record it is linked to, the document whose effect landed in Magento, and
//! the change that waits (for an approval, or for Magento) or was rejected.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// A change in flight.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct InFlight {
    /// Its run (`None` between writing the record and queueing the run).
    pub(crate) run: Option<u64>,
    /// What it changes, digested: a re-send with the same digest joins it.
    pub(crate) fingerprint: String,
    /// The Magento record is deleted when it lands (a hard delete).
    #[serde(default)]
    pub(crate) hard_delete: bool,
    /// The run's dedupe key: it finds the run when a crash lost the record's link to it.
    #[serde(default)]
    pub(crate) key: String,
}

/// A change an approver rejected.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Rejected {
    pub(crate) fingerprint: String,
    pub(crate) detail: String,
}

/// One user or group.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub(crate) struct Record {
    /// The document as served (without `meta`, `groups` and the approval extension).
    pub(crate) doc: Map<String, Value>,
    /// The Magento id (admin user or customer).
    #[serde(default)]
    pub(crate) magento: Option<u64>,
    /// The document whose Magento effect landed.
    #[serde(default)]
    pub(crate) applied: Option<Map<String, Value>>,
    #[serde(default)]
    pub(crate) pending: Option<InFlight>,
    #[serde(default)]
    pub(crate) rejected: Option<Rejected>,
    /// Deleted through SCIM (kept for the audit and the hard delete).
    #[serde(default)]
    pub(crate) deleted: bool,
    /// How many changes have settled: part of each run's dedupe key, so a change sent again
    /// after an earlier one failed is a new run.
    #[serde(default)]
    pub(crate) settled: u64,
    /// Unix seconds.
    pub(crate) created: u64,
    /// Unix seconds.
    pub(crate) modified: u64,
}

impl Record {
    /// The SCIM id.
    pub(crate) fn id(&self) -> &str {
        self.doc.get("id").and_then(Value::as_str).unwrap_or("")
    }

    /// The unique name: a user's `userName`, a group's `displayName`.
    pub(crate) fn name(&self) -> String {
        ["userName", "displayName"]
            .iter()
            .find_map(|k| self.doc.get(*k).and_then(Value::as_str))
            .unwrap_or("")
            .to_owned()
    }

    pub(crate) fn from_value(v: Value) -> Option<Record> {
        serde_json::from_value(v).ok()
    }

    pub(crate) fn to_value(&self) -> Value {
        serde_json::to_value(self).unwrap_or(Value::Null)
    }
}
