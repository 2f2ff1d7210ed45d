//! sled is one process's store: it leases nothing, and every run is executed by the process
//! that queued it (unfinished ones resumed at start).

use std::time::Duration;

use super::Sled;
use crate::{Backend as _, CursorLease, Hold, LeaseStore, LeaseTerms, QueueStats, Result, RunId};
use crate::{Run, Started, Status, decode};

impl LeaseStore for Sled {
    fn shared(&self) -> bool {
        false
    }

    fn worker(&self) -> String {
        format!("pid-{}", std::process::id())
    }

    fn set_lease_terms(&self, _terms: LeaseTerms) {}

    fn hold(&self, _run: RunId) -> Hold {
        Hold::Unleased
    }

    fn release(&self, _run: RunId) {}

    fn claim_due(&self, _limit: usize, _now: u64) -> Result<Vec<Started>> {
        Ok(Vec::new())
    }

    /// Runs queued, running (left so by a crash) or due to retry: no other worker exists.
    fn unclaimed(&self, now: u64) -> Result<Vec<RunId>> {
        let mut out = Vec::new();
        for item in self.runs.iter() {
            let (_, bytes) = item?;
            let run: Run = decode(&bytes)?;
            let due = match run.status {
                Status::Queued | Status::Running => true,
                Status::Retrying => run.retry.as_ref().is_none_or(|r| r.next_at <= now),
                _ => false,
            };
            if due {
                out.push(run.id);
            }
        }
        Ok(out)
    }

    /// Always granted: no other process can hold it.
    fn lease_cursor(&self, key: &str, _ttl: Duration) -> Result<Option<CursorLease>> {
        Ok(Some(CursorLease {
            fence: 0,
            value: self.cursor_value(key)?,
        }))
    }

    /// A scan of the runs: the queued ones.
    fn queue_stats(&self, _now: u64) -> Result<QueueStats> {
        let mut stats = QueueStats::default();
        for item in self.runs.iter() {
            let (_, bytes) = item?;
            let run: Run = decode(&bytes)?;
            if run.status == Status::Queued {
                stats.depth += 1;
                stats.oldest_created_at = Some(
                    stats
                        .oldest_created_at
                        .map_or(run.created_at, |t| t.min(run.created_at)),
                );
            }
        }
        Ok(stats)
    }

    fn wakeups(&self) -> Option<std::sync::Arc<tokio::sync::Notify>> {
        None
    }
}
