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
    /// Another worker took the run: this one may write nothing more for it.
    #[error(
        "lease lost on run {0}: another worker took it over (this worker stalled or lost the store for longer than its lease); it writes nothing more for the run"
    )]
    LeaseLost(u64),
    /// PostgreSQL cannot be reached, or stopped answering.
    #[error(
        "PostgreSQL is unavailable ({0}): check that it runs and that the store's URL is right; nothing is lost, and mageflow carries on when it answers again"
    )]
    Unavailable(String),
    /// PostgreSQL refused a statement.
    #[error("PostgreSQL refused a statement: {0}")]
    Postgres(String),
    /// The database's schema is newer than this mageflow knows.
    #[error(
        "the database's mageflow schema is at version {found}, newer than this mageflow's {known}: run the newer mageflow, or restore a backup taken before it migrated"
    )]
    SchemaTooNew {
        /// The version found.
        found: i32,
        /// The newest version this build knows.
        known: i32,
    },
}

impl Error {
    /// Reads a PostgreSQL error: a refusal names the server's own words, a lost connection
    /// is [`Error::Unavailable`].
    #[expect(
        clippy::needless_pass_by_value,
        reason = "called as `map_err(Error::postgres)`"
    )]
    pub(crate) fn postgres(e: tokio_postgres::Error) -> Error {
        match e.as_db_error() {
            Some(db) => Error::Postgres(format!(
                "{} ({}){}",
                db.message(),
                db.code().code(),
                db.detail().map(|d| format!(": {d}")).unwrap_or_default()
            )),
            None if e.is_closed()
                || std::error::Error::source(&e).is_some_and(|s| s.is::<std::io::Error>()) =>
            {
                Error::Unavailable(e.to_string())
            }
            None => Error::Postgres(match std::error::Error::source(&e) {
                Some(source) => format!("{e}: {source}"),
                None => e.to_string(),
            }),
        }
    }
}

impl From<sled::transaction::TransactionError<Error>> for Error {
    fn from(e: sled::transaction::TransactionError<Error>) -> Error {
        match e {
            sled::transaction::TransactionError::Abort(e) => e,
            sled::transaction::TransactionError::Storage(e) => Error::Transaction(e),
        }
    }
}
