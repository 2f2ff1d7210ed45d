//! Testing plugin logic natively, without wasm: a [`Fake`] host that keeps customers, admin
//! users, groups and bulks in memory and answers approvals with a decision the test chose.
//!
//! ```
//! use mageflow_sdk::testing::{Fake, customer};
//! use mageflow_sdk::{customers, patch};
//!
//! let fake = Fake::new().with_customer(customer(7, "ada@example.com"));
//! let (moved, fake) = fake.run(|| customers::update(7, &patch().set("group_id", "2")));
//! assert_eq!(moved.unwrap().group_id, 2);
//! assert_eq!(fake.customer(7).unwrap().group_id, 2);
//! assert_eq!(fake.calls(), ["customers.update"]);
//! ```
//!
//! The fake answers like the host over Magento where a plugin can tell: `not-found` with
//! Magento's template for a missing id, Magento's duplicate-email refusal, searches with every
//! condition type, paging that caps at 300, PUT-merge that changes only the patched fields,
//! and bulks that apply at once and report each operation. It does not check grants (the
//! runtime does; test those with `mageflow plugin run`).

use std::cell::RefCell;
use std::collections::BTreeMap;

mod admin_users;
mod bulk;
mod customers;
mod matching;

use crate::approvals::{ApprovalRequest, Decision};
use crate::runtime::Level;
use crate::{AdminUser, BulkStatus, Customer, Group, Role};
#[cfg(test)]
use matching::like;

thread_local! {
    static INSTALLED: RefCell<Option<Fake>> = const { RefCell::new(None) };
}

/// Runs `f` against the fake installed on this thread.
pub(crate) fn with<R>(f: impl FnOnce(&mut Fake) -> R) -> R {
    INSTALLED.with(|cell| {
        let mut slot = cell.borrow_mut();
        let fake = slot.as_mut().unwrap_or_else(|| {
            panic!(
                "a mageflow host call ran outside wasm with no fake installed: run the code inside \
                 mageflow_sdk::testing::Fake::run"
            )
        });
        f(fake)
    })
}

/// A customer with the given id and email, in website 1, store 1, group 1 ("General").
pub fn customer(id: u64, email: &str) -> Customer {
    Customer {
        id,
        email: email.into(),
        firstname: "Test".into(),
        lastname: "Customer".into(),
        group_id: 1,
        website_id: 1,
        store_id: 1,
        created_at: "2026-01-01 00:00:00".into(),
        updated_at: "2026-01-01 00:00:00".into(),
        addresses: Vec::new(),
        custom_attributes: Vec::new(),
        extra_json: "{}".into(),
    }
}

/// An active admin user with role 1 ("Administrators").
pub fn admin_user(id: u64, username: &str, email: &str) -> AdminUser {
    AdminUser {
        id,
        username: username.into(),
        firstname: "Test".into(),
        lastname: "Admin".into(),
        email: email.into(),
        is_active: true,
        role_id: 1,
    }
}

/// The in-memory host a plugin's native tests run against.
#[derive(Debug, Clone)]
pub struct Fake {
    customers: BTreeMap<u64, Customer>,
    admin_users: BTreeMap<u64, AdminUser>,
    groups: Vec<Group>,
    roles: Vec<Role>,
    bulks: BTreeMap<String, BulkStatus>,
    decision: Option<Decision>,
    approvals: Vec<ApprovalRequest>,
    log: Vec<(Level, String)>,
    config: BTreeMap<String, String>,
    state: BTreeMap<String, String>,
    now: u64,
    calls: Vec<&'static str>,
}

impl Default for Fake {
    fn default() -> Self {
        Fake::new()
    }
}

impl Fake {
    /// No customers or admin users; Magento's default groups (0 NOT LOGGED IN, 1 General,
    /// 2 Wholesale, 3 Retailer) and role (1 Administrators); no approval decision; the clock
    /// at 2026-01-01 00:00:00 UTC.
    pub fn new() -> Fake {
        let group = |id: u32, code: &str| Group {
            id,
            code: code.into(),
        };
        Fake {
            customers: BTreeMap::new(),
            admin_users: BTreeMap::new(),
            groups: vec![
                group(0, "NOT LOGGED IN"),
                group(1, "General"),
                group(2, "Wholesale"),
                group(3, "Retailer"),
            ],
            roles: vec![Role {
                id: 1,
                name: "Administrators".into(),
            }],
            bulks: BTreeMap::new(),
            decision: None,
            approvals: Vec::new(),
            log: Vec::new(),
            config: BTreeMap::new(),
            state: BTreeMap::new(),
            now: 1_767_225_600,
            calls: Vec::new(),
        }
    }

    /// Adds a customer (see [`customer`]).
    pub fn with_customer(mut self, c: Customer) -> Fake {
        self.customers.insert(c.id, c);
        self
    }

    /// Adds an admin user (see [`admin_user`]).
    pub fn with_admin_user(mut self, u: AdminUser) -> Fake {
        self.admin_users.insert(u.id, u);
        self
    }

    /// Adds a customer group.
    pub fn with_group(mut self, id: u32, code: &str) -> Fake {
        self.groups.retain(|g| g.id != id);
        self.groups.push(Group {
            id,
            code: code.into(),
        });
        self
    }

    /// Adds an admin role.
    pub fn with_role(mut self, id: u32, name: &str) -> Fake {
        self.roles.push(Role {
            id,
            name: name.into(),
        });
        self
    }

    /// Answers every approval request with this decision. Without one, `approvals.request`
    /// answers `denied`, as `mageflow plugin run` does without `--approve` or `--reject`.
    pub fn deciding(mut self, decision: Decision) -> Fake {
        self.decision = Some(decision);
        self
    }

    /// Sets a `[config]` value.
    pub fn with_config(mut self, key: &str, value: &str) -> Fake {
        self.config.insert(key.into(), value.into());
        self
    }

    /// Sets the clock (Unix seconds).
    pub fn at(mut self, unix_secs: u64) -> Fake {
        self.now = unix_secs;
        self
    }

    /// Installs the fake on this thread, runs `f` (a plugin's `run`, or any of its logic), and
    /// hands the fake back with everything the code did to it.
    pub fn run<R>(self, f: impl FnOnce() -> R) -> (R, Fake) {
        struct Uninstall;
        impl Drop for Uninstall {
            fn drop(&mut self) {
                INSTALLED.with(|cell| cell.borrow_mut().take());
            }
        }
        INSTALLED.with(|cell| *cell.borrow_mut() = Some(self));
        let guard = Uninstall;
        let out = f();
        let fake = INSTALLED
            .with(|cell| cell.borrow_mut().take())
            .expect("the fake stays installed while the code runs");
        drop(guard);
        (out, fake)
    }

    /// The customer with this id, as stored now.
    pub fn customer(&self, id: u64) -> Option<&Customer> {
        self.customers.get(&id)
    }

    /// Every customer, by id.
    pub fn customers(&self) -> impl Iterator<Item = &Customer> {
        self.customers.values()
    }

    /// The admin user with this id, as stored now.
    pub fn admin_user(&self, id: u64) -> Option<&AdminUser> {
        self.admin_users.get(&id)
    }

    /// The approval requests the code made, in order.
    pub fn approvals(&self) -> &[ApprovalRequest] {
        &self.approvals
    }

    /// The log lines the code wrote (`runtime.log`).
    pub fn log(&self) -> Vec<String> {
        self.log.iter().map(|(_, m)| m.clone()).collect()
    }

    /// The names of the host calls the code made, in order (`customers.update`, ...).
    pub fn calls(&self) -> &[&'static str] {
        &self.calls
    }

    /// A value the code stored with `runtime.state-set`.
    pub fn state(&self, key: &str) -> Option<&str> {
        self.state.get(key).map(String::as_str)
    }

    fn stamp(&self) -> String {
        let secs = i64::try_from(self.now).unwrap_or(i64::MAX);
        let t = chrono::DateTime::from_timestamp(secs, 0).unwrap_or_default();
        t.format("%Y-%m-%d %H:%M:%S").to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Condition, MagentoError};
    use crate::{customers, search};

    #[test]
    fn searches_filter_sort_and_page_like_magento() {
        let mut fake = Fake::new();
        for i in 1..=5u64 {
            let mut c = customer(i, &format!("c{i}@example.com"));
            c.lastname = ["Zed", "Adams", "Moss", "Adams", "Bell"][i as usize - 1].into();
            c.group_id = if i % 2 == 0 { 2 } else { 1 };
            fake = fake.with_customer(c);
        }
        let (page, fake) = fake.run(|| {
            customers::search(
                &search()
                    .filter("lastname", Condition::Like, "%a%")
                    .sort_by("lastname", false)
                    .sort_by("id", true)
                    .page_size(2),
            )
        });
        let page = page.unwrap();
        assert_eq!(page.total_count, 2);
        let ids: Vec<u64> = page.items.iter().map(|c| c.id).collect();
        assert_eq!(ids, [4, 2], "Adams twice, id descending");
        let (bad, _) = fake.run(|| customers::search(&search().filter("shoe", Condition::Eq, "1")));
        assert!(
            matches!(bad, Err(MagentoError::BadRequest(r)) if r.message == "Invalid attribute name: shoe")
        );
    }

    #[test]
    fn updates_merge_and_missing_ids_are_not_found() {
        let fake = Fake::new().with_customer(customer(3, "a@example.com"));
        let (out, fake) = fake.run(|| {
            customers::update(
                3,
                &crate::patch()
                    .set("group_id", "3")
                    .set("dob", "\"1990-01-02\""),
            )
        });
        let c = out.unwrap();
        assert_eq!((c.group_id, c.email.as_str()), (3, "a@example.com"));
        assert!(c.extra_json.contains("1990-01-02"));
        assert_eq!(c.updated_at, "2026-01-01 00:00:00");
        let (missing, _) = fake.run(|| customers::get(9));
        let Err(MagentoError::NotFound(r)) = missing else {
            panic!("{missing:?}")
        };
        assert_eq!(r.message, "No such entity with customerId = 9");
    }

    #[test]
    #[should_panic(expected = "no fake installed")]
    fn a_host_call_without_a_fake_names_the_fix() {
        let _ = customers::get(1);
    }

    #[test]
    fn customer_pages_walk_every_match_once() {
        let fake = (1..=7u64).fold(Fake::new(), |f, i| {
            f.with_customer(customer(i, &format!("c{i}@example.com")))
        });
        let (pages, fake) = fake.run(|| {
            crate::customer_pages(&search().page_size(3))
                .map(|p| p.map(|p| p.len()))
                .collect::<Result<Vec<_>, _>>()
        });
        assert_eq!(pages.unwrap(), [3, 3, 1]);
        assert_eq!(fake.calls().len(), 3, "no page past the end");
        let (none, _) =
            fake.run(|| crate::customer_pages(&search().filter("id", Condition::Gt, "99")).count());
        assert_eq!(none, 0);
    }

    #[test]
    fn like_and_dates() {
        assert!(like("Ada@Example.com", "%@example.com"));
        assert!(like("abc", "a_c"));
        assert!(!like("abc", "a_"));
        assert_eq!(Fake::new().at(0).stamp(), "1970-01-01 00:00:00");
        assert_eq!(
            Fake::new().at(20_454 * 86_400).stamp(),
            "2026-01-01 00:00:00"
        );
    }
}
