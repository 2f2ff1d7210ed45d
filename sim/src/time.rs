//! The simulator's clock: wall time plus an offset tests can move with `POST /__sim/clock`,
//! and Magento's `YYYY-MM-DD HH:MM:SS` (UTC) timestamp format.

use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

/// Wall clock shifted by a test-controlled offset, in whole seconds.
#[derive(Debug, Default)]
pub struct Clock {
    offset: AtomicI64,
}

impl Clock {
    /// Seconds since the Unix epoch, as the simulated Magento sees them.
    pub fn now(&self) -> i64 {
        let wall = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs() as i64)
            .unwrap_or(0);
        wall + self.offset.load(Ordering::Relaxed)
    }

    /// Moves simulated time forward (or back) by `secs`; returns the new time.
    pub fn advance(&self, secs: i64) -> i64 {
        self.offset.fetch_add(secs, Ordering::Relaxed);
        self.now()
    }

    /// Puts simulated time back on the wall clock.
    pub fn reset(&self) {
        self.offset.store(0, Ordering::Relaxed);
    }
}

/// Formats Unix seconds as Magento does: `2017-01-31 01:18:13` (UTC).
pub fn format_ts(secs: i64) -> String {
    let t = chrono::DateTime::from_timestamp(secs, 0).unwrap_or_default();
    t.format("%Y-%m-%d %H:%M:%S").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_known_instants() {
        assert_eq!(format_ts(0), "1970-01-01 00:00:00");
        assert_eq!(format_ts(1_485_825_493), "2017-01-31 01:18:13");
        assert_eq!(format_ts(1_709_164_800), "2024-02-29 00:00:00");
    }

    #[test]
    fn advancing_moves_now() {
        let c = Clock::default();
        let before = c.now();
        let after = c.advance(1800);
        assert!(after - before >= 1800);
    }
}
