//! What a plugin can ask of the host, one module per WIT interface, with the same functions
//! as the generated bindings. Compiled to wasm they are the host calls; compiled natively (a
//! plugin's `cargo test`) they are answered by the [`crate::testing::Fake`] the test
//! installed, so plugin logic is tested without wasm.

/// Declares facade functions: on wasm each forwards to the binding of the same name, natively
/// to the method of the installed fake.
macro_rules! facade {
    ($raw:path; $($(#[$doc:meta])* fn $name:ident($($arg:ident: $ty:ty),*) -> $ret:ty => $fake:ident;)*) => {
        $(
            $(#[$doc])*
            #[allow(clippy::unused_unit, reason = "one macro arm for every signature")]
            pub fn $name($($arg: $ty),*) -> $ret {
                #[cfg(target_arch = "wasm32")]
                {
                    use $raw as raw;
                    raw::$name($($arg),*)
                }
                #[cfg(not(target_arch = "wasm32"))]
                {
                    crate::testing::with(|fake| fake.$fake($($arg),*))
                }
            }
        )*
    };
}

/// `interface customers`: storefront customers (grants `customers:read`, `customers:write`,
/// `customers:delete`).
pub mod customers {
    use crate::{Customer, CustomerPage, MagentoError, NewCustomer, Patch, SearchCriteria};

    facade! { crate::bindings::mageflow::workflow::customers;
        /// One page of customers matching `criteria` (at most 300 a page).
        fn search(criteria: &SearchCriteria) -> Result<CustomerPage, MagentoError> => search_customers;
        /// The customer with this id; `not-found` when there is none.
        fn get(id: u64) -> Result<Customer, MagentoError> => get_customer;
        /// The customer with this email, in this website when given.
        fn find_by_email(email: &str, website_id: Option<u32>) -> Result<Option<Customer>, MagentoError> => find_customer;
        /// Creates a customer (with a password when given).
        fn create(customer: &NewCustomer, password: Option<&str>) -> Result<Customer, MagentoError> => create_customer;
        /// PUT-merges `patch` into the customer: only the patched fields change.
        fn update(id: u64, patch: &Patch) -> Result<Customer, MagentoError> => update_customer;
        /// Deletes the customer.
        fn delete(id: u64) -> Result<(), MagentoError> => delete_customer;
    }
}

/// `interface groups`: customer groups.
pub mod groups {
    use crate::{Group, MagentoError};

    facade! { crate::bindings::mageflow::workflow::groups;
        /// Every customer group.
        fn list() -> Result<Vec<Group>, MagentoError> => list_groups;
    }
}

/// `interface admin-users`: backend admin users and roles (grants `admin-users:read`,
/// `admin-users:write`).
pub mod admin_users {
    use crate::{AdminUser, MagentoError, NewAdminUser, Patch, Role, SearchCriteria};

    facade! { crate::bindings::mageflow::workflow::admin_users;
        /// Every admin user matching `criteria`.
        fn search(criteria: &SearchCriteria) -> Result<Vec<AdminUser>, MagentoError> => search_admin_users;
        /// The admin user with this id.
        fn get(id: u64) -> Result<AdminUser, MagentoError> => get_admin_user;
        /// The admin user with this email.
        fn find_by_email(email: &str) -> Result<Option<AdminUser>, MagentoError> => find_admin_user;
        /// Creates an admin user with this password and role.
        fn create(user: &NewAdminUser, password: &str) -> Result<AdminUser, MagentoError> => create_admin_user;
        /// PUT-merges `patch` into the admin user.
        fn update(id: u64, patch: &Patch) -> Result<AdminUser, MagentoError> => update_admin_user;
        /// Sets the admin user inactive.
        fn deactivate(id: u64) -> Result<AdminUser, MagentoError> => deactivate_admin_user;
        /// Deletes the admin user.
        fn delete(id: u64) -> Result<(), MagentoError> => delete_admin_user;
        /// Every admin role.
        fn roles() -> Result<Vec<Role>, MagentoError> => list_roles;
    }
}

/// `interface bulk`: asynchronous bulk updates (grant `bulk`).
pub mod bulk {
    use crate::{BulkReceipt, BulkStatus, MagentoError, Patch};

    facade! { crate::bindings::mageflow::workflow::bulk;
        /// Submits customer patches as bulk updates; answers one receipt per bulk.
        fn submit_updates(updates: &[(u64, Patch)]) -> Result<Vec<BulkReceipt>, MagentoError> => submit_updates;
        /// The status of one bulk.
        fn status(bulk_uuid: &str) -> Result<BulkStatus, MagentoError> => bulk_status;
        /// Waits until every bulk is final; fails when nothing finishes for `stall_after_secs`.
        fn wait(bulk_uuids: &[String], stall_after_secs: u32) -> Result<Vec<BulkStatus>, MagentoError> => wait_bulks;
    }
}

/// `interface approvals`: asking people for a decision (grant `approvals`).
pub mod approvals {
    use crate::MagentoError;
    pub use crate::bindings::mageflow::workflow::approvals::{ApprovalRequest, Decision};

    facade! { crate::bindings::mageflow::workflow::approvals;
        /// Asks for a decision and answers it.
        fn request(request: &ApprovalRequest) -> Result<Decision, MagentoError> => request_approval;
    }
}

/// `interface runtime`: the run's log, time, configuration and per-workflow state.
pub mod runtime {
    pub use crate::bindings::mageflow::workflow::runtime::Level;

    facade! { crate::bindings::mageflow::workflow::runtime;
        /// Adds a line to the run's log.
        fn log(level: Level, message: &str) -> () => write_log;
        /// Now, in Unix seconds (recorded, so a replay sees the same time).
        fn now() -> u64 => now;
        /// A value from the workflow's `[config]`.
        fn config(key: &str) -> Option<String> => config;
        /// A value this workflow stored earlier.
        fn state_get(key: &str) -> Option<String> => state_get;
        /// Stores a value for later runs of this workflow.
        fn state_set(key: &str, value: &str) -> () => state_set;
    }
}
