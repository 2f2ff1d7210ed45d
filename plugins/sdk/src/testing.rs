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
use std::cmp::Ordering;
use std::collections::BTreeMap;

use serde_json::{Map, Value};

use crate::approvals::{ApprovalRequest, Decision};
use crate::runtime::Level;
use crate::{
    AdminUser, BulkOperation, BulkReceipt, BulkStatus, Condition, CustomAttribute, Customer,
    CustomerPage, Filter, Group, MagentoError, NewAdminUser, NewCustomer, OperationStatus, Patch,
    Refusal, Role, SearchCriteria,
};

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

    // ----- customers -----

    pub(crate) fn search_customers(
        &mut self,
        criteria: &SearchCriteria,
    ) -> Result<CustomerPage, MagentoError> {
        self.calls.push("customers.search");
        let mut found = Vec::new();
        for c in self.customers.values() {
            if matches(criteria, |f| customer_field(c, f))? {
                found.push(c);
            }
        }
        for key in criteria.sort.iter().rev() {
            let mut failed = None;
            found.sort_by(|a, b| {
                let (x, y) = (customer_field(a, &key.field), customer_field(b, &key.field));
                match (x, y) {
                    (Ok(x), Ok(y)) => {
                        let o = compare(&x, &y);
                        if key.descending { o.reverse() } else { o }
                    }
                    (Err(e), _) | (_, Err(e)) => {
                        failed = Some(e);
                        Ordering::Equal
                    }
                }
            });
            if let Some(e) = failed {
                return Err(e);
            }
        }
        let size = criteria.page_size.unwrap_or(300).clamp(1, 300) as usize;
        let page = criteria.current_page.unwrap_or(1).max(1) as usize;
        let total_count = found.len() as u64;
        let items = found
            .into_iter()
            .skip((page - 1) * size)
            .take(size)
            .cloned()
            .collect();
        Ok(CustomerPage { items, total_count })
    }

    pub(crate) fn get_customer(&mut self, id: u64) -> Result<Customer, MagentoError> {
        self.calls.push("customers.get");
        self.customers
            .get(&id)
            .cloned()
            .ok_or_else(|| no_such("customerId", id))
    }

    pub(crate) fn find_customer(
        &mut self,
        email: &str,
        website_id: Option<u32>,
    ) -> Result<Option<Customer>, MagentoError> {
        self.calls.push("customers.find-by-email");
        Ok(self
            .customers
            .values()
            .find(|c| {
                c.email.eq_ignore_ascii_case(email) && website_id.is_none_or(|w| c.website_id == w)
            })
            .cloned())
    }

    pub(crate) fn create_customer(
        &mut self,
        new: &NewCustomer,
        _password: Option<&str>,
    ) -> Result<Customer, MagentoError> {
        self.calls.push("customers.create");
        let website_id = new.website_id.unwrap_or(1);
        if self
            .customers
            .values()
            .any(|c| c.website_id == website_id && c.email.eq_ignore_ascii_case(&new.email))
        {
            return Err(MagentoError::BadRequest(Refusal {
                status: 400,
                message: "A customer with the same email address already exists in an associated website.".into(),
                template: "A customer with the same email address already exists in an associated website.".into(),
                parameters_json: None,
            }));
        }
        let extra = match new.extra_json.as_deref() {
            None | Some("") => "{}".to_owned(),
            Some(text) => match serde_json::from_str::<Value>(text) {
                Ok(Value::Object(_)) => text.to_owned(),
                _ => {
                    return Err(MagentoError::Invalid(format!(
                        "extra-json must be a JSON object, got {text:?}"
                    )));
                }
            },
        };
        let id = self.customers.keys().next_back().map_or(1, |last| last + 1);
        let c = Customer {
            id,
            email: new.email.clone(),
            firstname: new.firstname.clone(),
            lastname: new.lastname.clone(),
            group_id: new.group_id.unwrap_or(1),
            website_id,
            store_id: 1,
            created_at: self.stamp(),
            updated_at: self.stamp(),
            addresses: Vec::new(),
            custom_attributes: Vec::new(),
            extra_json: extra,
        };
        self.customers.insert(id, c.clone());
        Ok(c)
    }

    pub(crate) fn update_customer(
        &mut self,
        id: u64,
        patch: &Patch,
    ) -> Result<Customer, MagentoError> {
        self.calls.push("customers.update");
        self.apply(id, patch)
    }

    fn apply(&mut self, id: u64, patch: &Patch) -> Result<Customer, MagentoError> {
        let stamp = self.stamp();
        let mut c = self
            .customers
            .get(&id)
            .cloned()
            .ok_or_else(|| no_such("customerId", id))?;
        let mut extra: Map<String, Value> = serde_json::from_str(&c.extra_json).unwrap_or_default();
        for f in &patch.set {
            let value: Value = serde_json::from_str(&f.value_json).map_err(|e| {
                MagentoError::Invalid(format!(
                    "the value for {} is not JSON ({e}): {:?}",
                    f.field, f.value_json
                ))
            })?;
            let number = || {
                value
                    .as_u64()
                    .or_else(|| value.as_str().and_then(|s| s.parse().ok()))
                    .and_then(|n| u32::try_from(n).ok())
                    .ok_or_else(|| {
                        MagentoError::Invalid(format!("{} must be a number, got {value}", f.field))
                    })
            };
            let text = || match &value {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            match f.field.as_str() {
                "email" => c.email = text(),
                "firstname" => c.firstname = text(),
                "lastname" => c.lastname = text(),
                "group_id" => c.group_id = number()?,
                "website_id" => c.website_id = number()?,
                "store_id" => c.store_id = number()?,
                "id" | "created_at" | "updated_at" => {}
                other => {
                    extra.insert(other.to_owned(), value.clone());
                }
            }
        }
        for a in &patch.custom_attributes {
            c.custom_attributes.retain(|x| x.code != a.code);
            c.custom_attributes.push(CustomAttribute {
                code: a.code.clone(),
                value: a.value.clone(),
            });
        }
        if let Some(list) = &patch.replace_addresses {
            c.addresses.clone_from(list);
        }
        c.extra_json = Value::Object(extra).to_string();
        c.updated_at = stamp;
        self.customers.insert(id, c.clone());
        Ok(c)
    }

    pub(crate) fn delete_customer(&mut self, id: u64) -> Result<(), MagentoError> {
        self.calls.push("customers.delete");
        self.customers
            .remove(&id)
            .map(drop)
            .ok_or_else(|| no_such("customerId", id))
    }

    pub(crate) fn list_groups(&mut self) -> Result<Vec<Group>, MagentoError> {
        self.calls.push("groups.list");
        Ok(self.groups.clone())
    }

    // ----- admin users -----

    pub(crate) fn search_admin_users(
        &mut self,
        criteria: &SearchCriteria,
    ) -> Result<Vec<AdminUser>, MagentoError> {
        self.calls.push("admin-users.search");
        let mut found = Vec::new();
        for u in self.admin_users.values() {
            if matches(criteria, |f| admin_field(u, f))? {
                found.push(u.clone());
            }
        }
        Ok(found)
    }

    pub(crate) fn get_admin_user(&mut self, id: u64) -> Result<AdminUser, MagentoError> {
        self.calls.push("admin-users.get");
        self.admin_users
            .get(&id)
            .cloned()
            .ok_or_else(|| no_such("userId", id))
    }

    pub(crate) fn find_admin_user(
        &mut self,
        email: &str,
    ) -> Result<Option<AdminUser>, MagentoError> {
        self.calls.push("admin-users.find-by-email");
        Ok(self
            .admin_users
            .values()
            .find(|u| u.email.eq_ignore_ascii_case(email))
            .cloned())
    }

    pub(crate) fn create_admin_user(
        &mut self,
        new: &NewAdminUser,
        _password: &str,
    ) -> Result<AdminUser, MagentoError> {
        self.calls.push("admin-users.create");
        if !self.roles.iter().any(|r| r.id == new.role_id) {
            return Err(MagentoError::Invalid(format!(
                "role {} does not exist",
                new.role_id
            )));
        }
        if self
            .admin_users
            .values()
            .any(|u| u.username == new.username || u.email.eq_ignore_ascii_case(&new.email))
        {
            return Err(MagentoError::BadRequest(Refusal {
                status: 400,
                message: "A user with the same user name or email already exists.".into(),
                template: "A user with the same user name or email already exists.".into(),
                parameters_json: None,
            }));
        }
        let id = self
            .admin_users
            .keys()
            .next_back()
            .map_or(1, |last| last + 1);
        let u = AdminUser {
            id,
            username: new.username.clone(),
            firstname: new.firstname.clone(),
            lastname: new.lastname.clone(),
            email: new.email.clone(),
            is_active: true,
            role_id: new.role_id,
        };
        self.admin_users.insert(id, u.clone());
        Ok(u)
    }

    pub(crate) fn update_admin_user(
        &mut self,
        id: u64,
        patch: &Patch,
    ) -> Result<AdminUser, MagentoError> {
        self.calls.push("admin-users.update");
        let mut u = self
            .admin_users
            .get(&id)
            .cloned()
            .ok_or_else(|| no_such("userId", id))?;
        for f in &patch.set {
            let value: Value = serde_json::from_str(&f.value_json).map_err(|e| {
                MagentoError::Invalid(format!("the value for {} is not JSON ({e})", f.field))
            })?;
            let text = value
                .as_str()
                .map_or_else(|| value.to_string(), str::to_owned);
            match f.field.as_str() {
                "username" => u.username = text,
                "firstname" => u.firstname = text,
                "lastname" => u.lastname = text,
                "email" => u.email = text,
                "is_active" => u.is_active = value.as_bool().unwrap_or(text == "1"),
                "role_id" => u.role_id = text.parse().unwrap_or(u.role_id),
                _ => {}
            }
        }
        self.admin_users.insert(id, u.clone());
        Ok(u)
    }

    pub(crate) fn deactivate_admin_user(&mut self, id: u64) -> Result<AdminUser, MagentoError> {
        self.calls.push("admin-users.deactivate");
        let u = self
            .admin_users
            .get_mut(&id)
            .ok_or_else(|| no_such("userId", id))?;
        u.is_active = false;
        Ok(u.clone())
    }

    pub(crate) fn delete_admin_user(&mut self, id: u64) -> Result<(), MagentoError> {
        self.calls.push("admin-users.delete");
        self.admin_users
            .remove(&id)
            .map(drop)
            .ok_or_else(|| no_such("userId", id))
    }

    pub(crate) fn list_roles(&mut self) -> Result<Vec<Role>, MagentoError> {
        self.calls.push("admin-users.roles");
        Ok(self.roles.clone())
    }

    // ----- bulk -----

    pub(crate) fn submit_updates(
        &mut self,
        updates: &[(u64, Patch)],
    ) -> Result<Vec<BulkReceipt>, MagentoError> {
        self.calls.push("bulk.submit-updates");
        let mut receipts = Vec::new();
        for chunk in updates.chunks(200) {
            let uuid = format!("fake-bulk-{}", self.bulks.len() + 1);
            let operations = chunk
                .iter()
                .enumerate()
                .map(|(index, (id, patch))| {
                    let (status, message) = match self.apply(*id, patch) {
                        Ok(_) => (OperationStatus::Complete, None),
                        Err(e) => (OperationStatus::Failed, Some(format!("{e:?}"))),
                    };
                    BulkOperation {
                        index: index as u32,
                        status,
                        message,
                    }
                })
                .collect();
            self.bulks.insert(
                uuid.clone(),
                BulkStatus {
                    bulk_uuid: uuid.clone(),
                    operations,
                },
            );
            receipts.push(BulkReceipt {
                bulk_uuid: uuid,
                items: chunk.len() as u32,
            });
        }
        Ok(receipts)
    }

    pub(crate) fn bulk_status(&mut self, uuid: &str) -> Result<BulkStatus, MagentoError> {
        self.calls.push("bulk.status");
        self.find_bulk(uuid)
    }

    fn find_bulk(&self, uuid: &str) -> Result<BulkStatus, MagentoError> {
        self.bulks.get(uuid).cloned().ok_or_else(|| {
            MagentoError::NotFound(Refusal {
                status: 404,
                message: format!("Bulk uuid {uuid} not exist"),
                template: "Bulk uuid %bulkUuid not exist".into(),
                parameters_json: Some(format!("{{\"bulkUuid\":\"{uuid}\"}}")),
            })
        })
    }

    pub(crate) fn wait_bulks(
        &mut self,
        uuids: &[String],
        _stall_after_secs: u32,
    ) -> Result<Vec<BulkStatus>, MagentoError> {
        self.calls.push("bulk.wait");
        uuids.iter().map(|u| self.find_bulk(u)).collect()
    }

    // ----- approvals and runtime -----

    pub(crate) fn request_approval(
        &mut self,
        request: &ApprovalRequest,
    ) -> Result<Decision, MagentoError> {
        self.calls.push("approvals.request");
        self.approvals.push(request.clone());
        self.decision.clone().ok_or_else(|| {
            MagentoError::Denied(format!(
                "approval {:?} needs a decision: give the fake one with Fake::deciding",
                request.title
            ))
        })
    }

    pub(crate) fn write_log(&mut self, level: Level, message: &str) {
        self.log.push((level, message.to_owned()));
    }

    pub(crate) fn now(&mut self) -> u64 {
        self.now
    }

    pub(crate) fn config(&mut self, key: &str) -> Option<String> {
        self.config.get(key).cloned()
    }

    pub(crate) fn state_get(&mut self, key: &str) -> Option<String> {
        self.state.get(key).cloned()
    }

    pub(crate) fn state_set(&mut self, key: &str, value: &str) {
        self.state.insert(key.to_owned(), value.to_owned());
    }
}

fn no_such(field: &str, id: u64) -> MagentoError {
    MagentoError::NotFound(Refusal {
        status: 404,
        message: format!("No such entity with {field} = {id}"),
        template: "No such entity with %fieldName = %fieldValue".into(),
        parameters_json: Some(format!(
            "{{\"fieldName\":\"{field}\",\"fieldValue\":\"{id}\"}}"
        )),
    })
}

fn unknown_field(field: &str) -> MagentoError {
    MagentoError::BadRequest(Refusal {
        status: 400,
        message: format!("Invalid attribute name: {field}"),
        template: "Invalid attribute name: %1".into(),
        parameters_json: Some(format!("[\"{field}\"]")),
    })
}

/// A customer's field as text, by its Magento name (custom attributes by code).
fn customer_field(c: &Customer, field: &str) -> Result<Option<String>, MagentoError> {
    Ok(Some(match field {
        "id" | "entity_id" => c.id.to_string(),
        "email" => c.email.clone(),
        "firstname" => c.firstname.clone(),
        "lastname" => c.lastname.clone(),
        "group_id" => c.group_id.to_string(),
        "website_id" => c.website_id.to_string(),
        "store_id" => c.store_id.to_string(),
        "created_at" => c.created_at.clone(),
        "updated_at" => c.updated_at.clone(),
        other => {
            if let Some(a) = c.custom_attributes.iter().find(|a| a.code == other) {
                return Ok(Some(a.value.clone()));
            }
            let extra: Map<String, Value> = serde_json::from_str(&c.extra_json).unwrap_or_default();
            return match extra.get(other) {
                Some(Value::Null) => Ok(None),
                Some(Value::String(s)) => Ok(Some(s.clone())),
                Some(v) => Ok(Some(v.to_string())),
                None if ["dob", "gender", "taxvat", "prefix", "middlename", "suffix"]
                    .contains(&other) =>
                {
                    Ok(None)
                }
                None => Err(unknown_field(other)),
            };
        }
    }))
}

fn admin_field(u: &AdminUser, field: &str) -> Result<Option<String>, MagentoError> {
    Ok(Some(match field {
        "id" | "user_id" => u.id.to_string(),
        "username" => u.username.clone(),
        "firstname" => u.firstname.clone(),
        "lastname" => u.lastname.clone(),
        "email" => u.email.clone(),
        "is_active" => u8::from(u.is_active).to_string(),
        "role_id" => u.role_id.to_string(),
        other => return Err(unknown_field(other)),
    }))
}

/// Whether a record matches: every group AND-ed, the filters of a group OR-ed.
fn matches(
    criteria: &SearchCriteria,
    field: impl Fn(&str) -> Result<Option<String>, MagentoError>,
) -> Result<bool, MagentoError> {
    for group in &criteria.groups {
        let mut any = group.is_empty();
        for f in group {
            if holds(f, field(&f.field)?) {
                any = true;
            }
        }
        if !any {
            return Ok(false);
        }
    }
    Ok(true)
}

fn holds(f: &Filter, value: Option<String>) -> bool {
    let list = || f.value.split(',').map(str::trim).collect::<Vec<_>>();
    let Some(v) = value else {
        return matches!(
            f.condition,
            Condition::Null | Condition::Neq | Condition::Nin
        );
    };
    let ord = || compare(&Some(v.clone()), &Some(f.value.clone()));
    match f.condition {
        Condition::Eq => v.eq_ignore_ascii_case(&f.value),
        Condition::Neq => !v.eq_ignore_ascii_case(&f.value),
        Condition::Like => like(&v, &f.value),
        Condition::Nlike => !like(&v, &f.value),
        Condition::In => list().iter().any(|x| x.eq_ignore_ascii_case(&v)),
        Condition::Nin => !list().iter().any(|x| x.eq_ignore_ascii_case(&v)),
        Condition::Notnull => true,
        Condition::Null => false,
        Condition::Gt => ord() == Ordering::Greater,
        Condition::Lt => ord() == Ordering::Less,
        Condition::Gteq | Condition::Moreq | Condition::From => ord() != Ordering::Less,
        Condition::Lteq | Condition::To => ord() != Ordering::Greater,
        Condition::Finset => v.split(',').any(|x| x.trim() == f.value),
        Condition::Nfinset => !v.split(',').any(|x| x.trim() == f.value),
    }
}

/// SQL LIKE, case-insensitive: `%` any run, `_` one character.
fn like(text: &str, pattern: &str) -> bool {
    fn go(t: &[char], p: &[char]) -> bool {
        match p.split_first() {
            None => t.is_empty(),
            Some(('%', rest)) => (0..=t.len()).any(|i| go(&t[i..], rest)),
            Some(('_', rest)) => !t.is_empty() && go(&t[1..], rest),
            Some((c, rest)) => t.first() == Some(c) && go(&t[1..], rest),
        }
    }
    let t: Vec<char> = text.to_lowercase().chars().collect();
    let p: Vec<char> = pattern.to_lowercase().chars().collect();
    go(&t, &p)
}

/// Numbers compare as numbers, everything else as text; absent values first.
fn compare(a: &Option<String>, b: &Option<String>) -> Ordering {
    match (a, b) {
        (Some(a), Some(b)) => match (a.parse::<f64>(), b.parse::<f64>()) {
            (Ok(x), Ok(y)) => x.partial_cmp(&y).unwrap_or(Ordering::Equal),
            _ => a.to_lowercase().cmp(&b.to_lowercase()),
        },
        (a, b) => a.is_some().cmp(&b.is_some()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
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
