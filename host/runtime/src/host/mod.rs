//! One module per WIT interface, each with its trait impl and `add_to_linker`. The four
//! Magento interfaces share one host struct (`magento`); `types` holds the conversions
//! between WIT values and the Magento client's.

pub(crate) mod admin_users;
pub(crate) mod approvals;
pub(crate) mod bulk;
pub(crate) mod customers;
pub(crate) mod groups;
pub(crate) mod magento;
pub(crate) mod runtime;
pub(crate) mod types;
