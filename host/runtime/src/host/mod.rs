//! One module per WIT interface, each with its own host struct, trait impl and `add_to_linker`;
//! `types` holds the conversions between WIT values and the Magento client's.

pub(crate) mod admin_users;
pub(crate) mod approvals;
pub(crate) mod bulk;
pub(crate) mod customers;
pub(crate) mod groups;
pub(crate) mod runtime;
pub(crate) mod types;
