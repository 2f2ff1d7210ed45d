//! The runtime's integration tests, one binary (each test binary links wasmtime): the test
//! guests and the example plugins, as real components against magento-sim.

mod guests;
mod plugins;
