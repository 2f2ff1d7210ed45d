//! The engine's integration tests, one binary (each test binary links wasmtime): durable runs
//! against magento-sim with real plugins, cron with a controlled clock, and workflow files.

mod cron;
mod durable;
mod triggers;
mod workflows;
