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

/// Every customer matching `criteria`, page by page: `for page in customer_pages(&c) { ... }`.
/// Pages hold up to `criteria.page_size` customers (300 when unset); iteration stops after the
/// last match, and after the first error (which it yields).
pub fn customer_pages(criteria: &SearchCriteria) -> CustomerPages {
    let mut criteria = criteria.clone();
    criteria.page_size = Some(criteria.page_size.unwrap_or(300).clamp(1, 300));
    CustomerPages {
        criteria,
        page: 1,
        seen: 0,
        done: false,
    }
}

/// The iterator of [`customer_pages`].
#[derive(Debug, Clone)]
pub struct CustomerPages {
    criteria: SearchCriteria,
    page: u32,
    seen: u64,
    done: bool,
}

impl Iterator for CustomerPages {
    type Item = Result<Vec<Customer>, MagentoError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        self.criteria.current_page = Some(self.page);
        let got = match customers::search(&self.criteria) {
            Ok(got) => got,
            Err(e) => {
                self.done = true;
                return Some(Err(e));
            }
        };
        let n = got.items.len() as u64;
        self.seen += n;
        self.page += 1;
        // Stop at the total, at an empty page, or at a short page (never loop on a page past
        // the end, which old Magento answers with the last page again).
        let size = u64::from(self.criteria.page_size.unwrap_or(300));
        self.done = n == 0 || self.seen >= got.total_count || n < size;
        (n > 0).then_some(Ok(got.items))
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
