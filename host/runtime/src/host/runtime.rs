//! `interface runtime`: the run's log, time, configuration and per-workflow state.

use std::collections::BTreeMap;
use std::sync::Arc;

use wasmtime::component::{HasSelf, Linker};

use crate::determinism::{Clock, StateStore};
use crate::generated::mageflow::workflow::runtime::{self, Level};

/// One line of a run's log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogLine {
    /// Severity (`trace` ... `error`, or `stdout`/`stderr` for captured output).
    pub level: &'static str,
    /// The text.
    pub message: String,
}

/// Host state of `interface runtime`.
#[derive(Debug)]
pub(crate) struct RuntimeHost {
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) log: Vec<LogLine>,
    pub(crate) config: BTreeMap<String, String>,
    pub(crate) state: Arc<dyn StateStore>,
}

/// Most log lines one run keeps; later ones are counted, not stored.
const MAX_LOG_LINES: usize = 10_000;

impl runtime::Host for RuntimeHost {
    async fn log(&mut self, level: Level, message: String) -> wasmtime::Result<()> {
        let level = match level {
            Level::Trace => "trace",
            Level::Debug => "debug",
            Level::Info => "info",
            Level::Warn => "warn",
            Level::Error => "error",
        };
        if self.log.len() < MAX_LOG_LINES {
            self.log.push(LogLine { level, message });
        }
        Ok(())
    }

    async fn now(&mut self) -> wasmtime::Result<u64> {
        Ok(self.clock.now().as_secs())
    }

    async fn config(&mut self, key: String) -> wasmtime::Result<Option<String>> {
        Ok(self.config.get(&key).cloned())
    }

    async fn state_get(&mut self, key: String) -> wasmtime::Result<Option<String>> {
        Ok(self.state.get(&key))
    }

    async fn state_set(&mut self, key: String, value: String) -> wasmtime::Result<()> {
        self.state.set(&key, &value);
        Ok(())
    }
}

/// Adds `interface runtime` to a linker.
pub(crate) fn add_to_linker<T: Send + 'static>(
    l: &mut Linker<T>,
    get: fn(&mut T) -> &mut RuntimeHost,
) -> wasmtime::Result<()> {
    runtime::add_to_linker::<T, HasSelf<RuntimeHost>>(l, get)
}
