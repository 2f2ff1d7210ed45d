//! What can go wrong with the store, each naming the cause.

/// A result of the store.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Store errors.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Another process holds the data directory.
    #[error(
        "the data directory {0} is in use by another mageflow process: talk to the running `mageflow serve` or stop it first"
    )]
    Busy(String),
    /// The data directory could not be opened.
    #[error("cannot open the data directory {dir}")]
    Open {
        /// The directory.
        dir: String,
        /// sled's error.
        #[source]
        source: sled::Error,
    },
    /// sled failed underneath.
    #[error("storage error: {0}")]
    Sled(#[from] sled::Error),
    /// A transaction failed underneath.
    #[error("storage transaction failed")]
    Transaction(#[source] sled::Error),
    /// A record could not be read back.
    #[error("corrupt record: {0}")]
    Corrupt(String),
    /// No such run.
    #[error("no run {0}")]
    NoRun(u64),
    /// No such approval.
    #[error("no approval {0}")]
    NoApproval(u64),
    /// A decision was refused (the reason names why).
    #[error("{0}")]
    Refused(String),
}

impl From<sled::transaction::TransactionError<Error>> for Error {
    fn from(e: sled::transaction::TransactionError<Error>) -> Error {
        match e {
            sled::transaction::TransactionError::Abort(e) => e,
            sled::transaction::TransactionError::Storage(e) => Error::Transaction(e),
        }
    }
}
