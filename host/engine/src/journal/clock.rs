//! The run's clock, journaled.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use mageflow_runtime::Clock;

use crate::adapters::RunScope;

/// The run's clock: readings come back from the journal on replay, live ones are recorded.
#[derive(Debug)]
pub(crate) struct JournalClock {
    pub(crate) scope: Arc<RunScope>,
    pub(crate) recorded: Vec<u128>,
    pub(crate) next: AtomicU64,
}

impl Clock for JournalClock {
    fn now(&self) -> Duration {
        let seq = self.next.fetch_add(1, Ordering::SeqCst);
        let nanos = match self.recorded.get(seq as usize) {
            Some(n) => *n,
            None => {
                let live = SystemTime::now()
                    .duration_since(UNIX_EPOCH)
                    .map_or(0, |d| d.as_nanos());
                if let Err(e) = self.scope.store.record_clock(self.scope.run, seq, live) {
                    tracing::error!(run = self.scope.run, error = %e, "a clock reading could not be journaled");
                }
                live
            }
        };
        Duration::from_nanos(u64::try_from(nanos).unwrap_or(u64::MAX))
    }
}
