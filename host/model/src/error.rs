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
    #[error(
        "cannot read the plugin {path} (build the plugins with `cargo build -p mageflow-test-artifacts`, or `mageflow plugin build`)"
    )]
    Plugin {
        /// The file.
        path: String,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// A run's pinned plugin bytes are missing from the store.
    #[error("run {0} is pinned to plugin {1}, which the store no longer holds")]
    PinnedPluginMissing(u64, String),
    /// A workflow's trigger cannot fire: it is not of the kind asked for, or its schedule,
    /// offset or filter does not parse.
    #[error("workflow {workflow}: its trigger cannot fire: {why}")]
    Trigger {
        /// The workflow.
        workflow: String,
        /// Why.
        why: String,
    },
    /// Magento refused or failed a trigger's read (a poll's search).
    #[error("workflow {workflow}: polling Magento failed")]
    Magento {
        /// The workflow.
        workflow: String,
        /// The client's error.
        #[source]
        source: mageflow_magento::Error,
    },
}

impl EngineError {
    /// The message and every cause under it, `: `-separated (what `{:#}` prints through
    /// anyhow), for the API's answers and the logs.
    pub fn with_causes(&self) -> String {
        let mut text = self.to_string();
        let mut cause = std::error::Error::source(self);
        while let Some(c) = cause {
            let more = c.to_string();
            if !text.ends_with(&more) {
                text.push_str(": ");
                text.push_str(&more);
            }
            cause = c.source();
        }
        text
    }

    /// A runtime error, its cause kept for matching and `{:#}`.
    pub fn runtime(e: impl std::error::Error + Send + Sync + 'static) -> EngineError {
        EngineError::Runtime(Box::new(e))
    }
}

#[cfg(test)]
mod tests {
    use super::EngineError;

    #[test]
    fn causes_are_kept_and_printed_under_the_message() {
        let e = EngineError::Plugin {
            path: "p.wasm".into(),
            source: std::io::Error::new(std::io::ErrorKind::NotFound, "no such file"),
        };
        let io = std::error::Error::source(&e)
            .and_then(|s| s.downcast_ref::<std::io::Error>())
            .map(std::io::Error::kind);
        assert_eq!(io, Some(std::io::ErrorKind::NotFound));
        let text = e.with_causes();
        assert!(
            text.starts_with("cannot read the plugin p.wasm") && text.ends_with(": no such file"),
            "{text}"
        );
    }
}
