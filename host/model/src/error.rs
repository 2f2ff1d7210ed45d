//! Why the engine could not do what was asked.

/// A result of the engine.
pub type Result<T, E = EngineError> = std::result::Result<T, E>;

/// Engine errors, each naming the cause.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// The store failed or refused (a decision refused says why).
    #[error(transparent)]
    Store(#[from] mageflow_store::Error),
    /// The plugin could not be loaded or run (the runtime's error, kept as the cause).
    #[error(transparent)]
    Runtime(Box<dyn std::error::Error + Send + Sync>),
    /// A workflow file is wrong.
    #[error(transparent)]
    Workflow(#[from] crate::workflow::WorkflowError),
    /// No workflow has this name.
    #[error("no workflow is named {0:?}; the workflows are: {1}")]
    UnknownWorkflow(String, String),
    /// A plugin file could not be read.
    #[error("cannot read the plugin {0}: {1}")]
    Plugin(String, String),
    /// A run's pinned plugin bytes are missing from the store.
    #[error("run {0} is pinned to plugin {1}, which the store no longer holds")]
    PinnedPluginMissing(u64, String),
    /// The Magento connection of a workflow is incomplete.
    #[error("workflow {0}: {1}")]
    Connection(String, String),
}

impl EngineError {
    /// A runtime error, its cause kept for matching and `{:#}`.
    pub fn runtime(e: impl std::error::Error + Send + Sync + 'static) -> EngineError {
        EngineError::Runtime(Box::new(e))
    }
}
