//! Paths of the WebAssembly components built from `plugins/` and `tests/guests/` by this
//! crate's build script (`cargo build --release --target wasm32-wasip2`), one constant per
//! guest, plus `foreach_guest!` to make sure every guest has a test.

include!(concat!(env!("OUT_DIR"), "/guests.rs"));
