//! magento-sim conformance: every answer checked here is the one real Magento 2.4.x gives, as
//! quoted in shared/magento/FACTS.md, over real HTTP on 127.0.0.1:0.

mod admin_users;
mod auth;
mod bulk;
mod controls;
mod customers;
mod robustness;
mod schema;
mod search;
mod support;
