//! Where each trigger is, as kept in the store: a restart carries on from here.

use serde::{Deserialize, Serialize};

/// Where a cron workflow is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct CronCursor {
    /// The next fire time, Unix seconds.
    pub next: u64,
}

/// Where a workflow's poller is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PollCursor {
    /// `updated_at` of the newest change delivered (`YYYY-MM-DD HH:MM:SS`, UTC).
    pub at: String,
    /// Ids delivered with exactly that `updated_at`.
    pub seen: Vec<u64>,
}
