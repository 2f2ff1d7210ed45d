//! The guest SDK for mageflow workflow plugins: the generated bindings of the
//! `mageflow:workflow/workflow` world plus small builders that keep plugins short.
//!
//! A plugin implements [`Guest`] and exports it with [`export_workflow!`]:
//!
//! ```ignore
//! use mageflow_sdk::{Guest, Outcome, Trigger, customers, export_workflow};
//! struct Hello;
//! impl Guest for Hello {
//!     fn run(_t: Trigger) -> Result<Outcome, String> {
//!         let c = customers::get(1).map_err(|e| format!("{e:?}"))?;
//!         Ok(Outcome { summary: format!("customer 1 is {}", c.email), output_json: None })
//!     }
//! }
//! export_workflow!(Hello);
//! ```
//!
//! The host calls (`customers::get`, `bulk::submit_updates`, ...) are the WIT imports when
//! compiled to wasm. Compiled natively, for a plugin's own `cargo test`, they are answered by
//! the in-memory [`testing::Fake`], so a plugin's whole `run` can be tested without wasm.

#[doc(hidden)]
#[allow(
    missing_docs,
    unsafe_code,
    unreachable_pub,
    clippy::all,
    reason = "generated bindings"
)]
pub mod bindings {
    wit_bindgen::generate!({
        world: "workflow",
        path: "../../wit",
        pub_export_macro: true,
        export_macro_name: "export_workflow",
        default_bindings_module: "mageflow_sdk::bindings",
    });
}

mod imports;
#[cfg(not(target_arch = "wasm32"))]
pub mod testing;

pub use bindings::mageflow::workflow::types::{
    Address, AdminUser, BulkOperation, BulkReceipt, BulkStatus, Condition, CustomAttribute,
    Customer, CustomerPage, FieldValue, Filter, Group, MagentoError, NewAdminUser, NewCustomer,
    OperationStatus, Outcome, Patch, Refusal, Role, SearchCriteria, SortOrder, Trigger,
    WebhookEvent,
};
pub use bindings::{Guest, export_workflow};
pub use imports::{admin_users, approvals, bulk, customers, groups, runtime};

/// Builds a [`SearchCriteria`]: `search().filter("group_id", Condition::Eq, "1").page_size(50)`.
pub fn search() -> SearchCriteria {
    SearchCriteria {
        groups: Vec::new(),
        sort: Vec::new(),
        page_size: None,
        current_page: None,
    }
}

impl SearchCriteria {
    /// ANDs one filter.
    pub fn filter(mut self, field: &str, condition: Condition, value: &str) -> Self {
        self.groups.push(vec![Filter {
            field: field.into(),
            condition,
            value: value.into(),
        }]);
        self
    }

    /// Sorts by a field.
    pub fn sort_by(mut self, field: &str, descending: bool) -> Self {
        self.sort.push(SortOrder {
            field: field.into(),
            descending,
        });
        self
    }

    /// Sets the page size (at most 300).
    pub fn page_size(mut self, n: u32) -> Self {
        self.page_size = Some(n.min(300));
        self
    }
}

/// Builds a [`Patch`]: `patch().set("group_id", "3")` (values are JSON).
pub fn patch() -> Patch {
    Patch {
        set: Vec::new(),
        custom_attributes: Vec::new(),
        replace_addresses: None,
    }
}

impl Patch {
    /// Sets a field to a JSON value (`"3"`, `"\"Smith\""`, `"true"`).
    pub fn set(mut self, field: &str, value_json: &str) -> Self {
        self.set.push(FieldValue {
            field: field.into(),
            value_json: value_json.into(),
        });
        self
    }

    /// Sets a custom attribute (Magento's `{attribute_code, value}`).
    pub fn custom_attribute(mut self, code: &str, value: &str) -> Self {
        self.custom_attributes.push(CustomAttribute {
            code: code.into(),
            value: value.into(),
        });
        self
    }
}

/// Reads every customer matching `criteria`, page by page (300 a page), calling `each` per page.
pub fn for_each_customer_page(
    criteria: &SearchCriteria,
    mut each: impl FnMut(Vec<Customer>),
) -> Result<u64, MagentoError> {
    let mut page = 1;
    let size = criteria.page_size.unwrap_or(300);
    let mut seen = 0u64;
    loop {
        let mut c = criteria.clone();
        c.page_size = Some(size);
        c.current_page = Some(page);
        let got = customers::search(&c)?;
        let n = got.items.len() as u64;
        if n == 0 {
            return Ok(seen);
        }
        seen += n;
        each(got.items);
        if seen >= got.total_count || n < u64::from(size) {
            return Ok(seen);
        }
        page += 1;
    }
}

/// Asks people to approve a step (one approval, the workflow's approvers and expiry).
pub fn request_approval(
    title: &str,
    summary: &str,
    details_json: Option<String>,
) -> Result<approvals::Decision, MagentoError> {
    approvals::request(&approvals::ApprovalRequest {
        title: title.into(),
        summary: summary.into(),
        details_json,
        approvers: Vec::new(),
        required: 1,
        expires_in_secs: None,
    })
}

/// Logs a line at info level.
pub fn info(message: &str) {
    runtime::log(runtime::Level::Info, message);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builders_fill_the_records() {
        let c = search()
            .filter("group_id", Condition::Eq, "1")
            .sort_by("email", true)
            .page_size(500);
        assert_eq!(c.page_size, Some(300));
        assert_eq!(c.groups.len(), 1);
        let p = patch().set("group_id", "3");
        assert_eq!(p.set[0].value_json, "3");
    }
}
