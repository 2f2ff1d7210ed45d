//! The engine's integration tests, one binary (each test binary links wasmtime): durable runs
//! against magento-sim with real plugins, cron with a controlled clock, and workflow files.
//! They run on sled here, and the very same files run on PostgreSQL in `engine_postgres`.

mod cron;
mod durable;
mod triggers;
mod workflows;

mod stores {
    //! The store the suite runs on: sled.

    use std::path::PathBuf;

    use mageflow_store::Store;

    /// A store of its own for one test.
    pub(crate) fn fresh() -> Store {
        Store::temporary().unwrap()
    }

    /// A store that can be closed and opened again, as by a restart.
    pub(crate) struct Place(PathBuf);

    impl Place {
        pub(crate) fn new(name: &str) -> Place {
            let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
                .join(format!("{name}-{}", std::process::id()));
            let _ = std::fs::remove_dir_all(&dir);
            Place(dir)
        }

        pub(crate) fn open(&self) -> Store {
            Store::open(&self.0).unwrap()
        }
    }

    impl Drop for Place {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}
