//! The engine's integration tests again, on PostgreSQL: the very same test files as
//! `tests/engine/`, with the store swapped for a real server (tests/support/postgres.rs) and
//! a fresh schema per test; and `workers.rs`, several engines sharing one database.

#[path = "../../../tests/support/postgres.rs"]
mod postgres;

#[path = "engine/cron.rs"]
mod cron;
#[path = "engine/durable.rs"]
mod durable;
#[path = "engine/triggers.rs"]
mod triggers;
#[path = "engine/workflows.rs"]
mod workflows;
// Several workers on one database: PostgreSQL only.
#[path = "engine/workers.rs"]
mod workers;

mod stores {
    //! The store the suite runs on: PostgreSQL.

    use mageflow_store::Store;

    /// A store of its own for one test.
    pub(crate) fn fresh() -> Store {
        Place::new("").open()
    }

    /// A store that can be closed and opened again, as by a restart.
    pub(crate) struct Place(String);

    impl Place {
        pub(crate) fn new(_name: &str) -> Place {
            Place(crate::postgres::server().fresh())
        }

        pub(crate) fn open(&self) -> Store {
            Store::postgres(&self.0).unwrap()
        }

        /// Runs one statement in this database's schema (`{schema}` stands for it).
        pub(crate) fn sql(&self, statement: &str) -> String {
            let schema = self.0.rsplit("%3D").next().unwrap_or_default();
            crate::postgres::server().sql(&statement.replace("{schema}", schema))
        }
    }
}
