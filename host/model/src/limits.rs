//! How much a plugin may use in one run.

use std::time::Duration;

/// The largest memory limit a workflow may set.
pub const MAX_MEMORY: usize = 1 << 30;

/// Per-run limits, with safe defaults (30 s, 128 MiB).
#[derive(Debug, Clone)]
pub struct Limits {
    /// Longest the plugin may run in one attempt; time spent waiting on Magento does not count.
    pub wall_time: Duration,
    /// Most linear memory a run may hold, in bytes.
    pub memory_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            wall_time: Duration::from_secs(30),
            memory_bytes: 128 << 20,
        }
    }
}
