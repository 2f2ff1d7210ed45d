//! The HTTP server wired to the real engine, runtime and guests, as `mageflow serve` wires
//! them: webhook intake from the sim, access control and sessions, and sign-in through a real
//! OpenID Connect provider. (The server's own tests, in host/server, serve an in-memory
//! engine and build without wasmtime.)

mod harness;
mod hooks;
mod scim;
mod scim_suite;
mod security;
mod sso;
