//! Why a plugin could not be loaded or run.

/// A result of the runtime.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything the runtime refuses or stops, each naming the cause.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The bytes are not a WebAssembly component.
    #[error("{0} is not a WebAssembly component of the mageflow workflow world: {1}")]
    NotAComponent(String, String),
    /// The component imports interfaces its grants do not cover.
    #[error(
        "the plugin imports {interfaces}, which the workflow's grants do not cover: add {grants}"
    )]
    MissingGrants {
        /// The imports refused.
        interfaces: String,
        /// The grants that would allow them.
        grants: String,
    },
    /// The component imports something mageflow does not provide.
    #[error("the plugin imports {0}, which mageflow does not provide")]
    UnknownImport(String),
    /// The component does not export the workflow world's `run`.
    #[error("the plugin does not fit the mageflow:workflow/workflow world: {0}")]
    WrongWorld(String),
    /// The run went past its wall-time limit and was stopped.
    #[error("the plugin was stopped: it ran past its wall-time limit of {0:?}")]
    WallTime(std::time::Duration),
    /// The run tried to grow its memory past the limit and was stopped.
    #[error("the plugin was stopped: it tried to use more than its memory limit of {0} bytes")]
    Memory(usize),
    /// The plugin trapped (a panic, an uncaught exception, an unreachable, a bad access). The
    /// text is the cause in one line; the backtrace is in the run's log.
    #[error("the plugin failed: {0} (its stderr and backtrace are in the run's log)")]
    Trap(String),
    /// The run stopped to wait for an approval; it resumes by replay once decided.
    #[error("the run is waiting for approval {0:?}")]
    Suspended(String),
    /// A call kept failing for a reason time may cure (Magento unreachable, 429, 5xx): the run
    /// stopped there and resumes by replay after `after` (the engine's retry policy).
    #[error("{reason}; the next attempt is in {after:?}")]
    Postponed {
        /// The last failure.
        reason: String,
        /// How long until the next attempt.
        after: std::time::Duration,
    },
    /// The host could not set itself up (the engine, the linker, the compile cache, the epoch
    /// ticker).
    #[error("host error: {what}")]
    Host {
        /// What could not be done.
        what: String,
        /// Why.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
}
