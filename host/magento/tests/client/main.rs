//! The client against magento-sim over real sockets on 127.0.0.1:0.

mod auth;
mod bulk;
mod customers;
mod resilience;
mod support;
