//! A Magento 2.4 REST client that gets every trap right.
//!
//! - Searches always carry `searchCriteria`; [`Pages`] streams every match with an explicit
//!   page size of at most 300 and a stable sort, and stops on Magento 2.4's empty page past the
//!   end as well as on the older "last page again" answer.
//! - Updates are PUT-merge ([`Patch`]): the stored object is read, only the named fields change,
//!   and the whole object goes back, so addresses and custom attributes survive on every
//!   Magento version. Addresses change only when a patch says so.
//! - Tokens are cached and renewed once on 401 (no lifetime is assumed); 2FA refusals,
//!   missing ACL resources, unknown store codes and a missing admin-user extension are named.
//! - Reads are retried with backoff and jitter on 429, 5xx, timeouts and dropped
//!   connections. A write whose answer is lost is never sent again blindly: [`Write`] checks
//!   whether it landed first (the patched fields, the natural key of a create, a delete's 404,
//!   Magento's bulk operation log), and the engine uses the same check after a crash.
//! - Bulk writes are chunked, polled to completion and reported per item.
//!
//! ```no_run
//! use mageflow_magento::{Auth, Condition, Connection, MagentoClient, Patch, SearchCriteria};
//! # async fn demo() -> mageflow_magento::Result<()> {
//! let conn = Connection::new("https://shop.example.com", Auth::Bearer("integration-token".into()));
//! let client = MagentoClient::new(conn)?;
//! let mut pages = client.customers(SearchCriteria::new().filter("group_id", Condition::Eq, "1"));
//! while let Some(page) = pages.next_page().await? {
//!     for customer in page {
//!         client.update_customer(customer.id, &Patch::new().set("group_id", 2)).await?;
//!     }
//! }
//! # Ok(()) }
//! ```

#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod admin_users;
mod bulk;
mod client;
mod connection;
mod criteria;
mod customers;
mod error;
mod guard;
pub mod oauth;
mod pages;
mod patch;
mod types;
mod write;

pub use admin_users::{NewAdminUser, check_admin_password};
pub use bulk::{BULK_CHUNK, BulkReceipt, BulkStatus, OpStatus, Operation, RequestItem, Wait};
pub use client::{MagentoClient, Observer, Repeat};
pub use connection::{Auth, Connection, PasswordRules, Retry};
pub use criteria::{Condition, Direction, Filter, SearchCriteria};
pub use customers::{NewCustomer, Whoami, check_password};
pub use error::{Error, Refusal, Result, render};
pub use guard::{Guard, guarded};
pub use oauth::OAuthKeys;
pub use pages::{MAX_PAGE_SIZE, Pages};
pub use patch::{Change, Patch};
pub use types::{
    AdminUser, CustomAttribute, Customer, Group, Role, SearchPage, StoreView, Website,
};
pub use write::{Patched, Write, Written, Wrote};
