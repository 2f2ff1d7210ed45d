//! The fake's customers and groups: searches, get, find, create, PUT-merge update, delete.

use std::cmp::Ordering;

use serde_json::{Map, Value};

use super::Fake;
use super::matching::*;
use crate::{
    CustomAttribute, Customer, CustomerPage, Group, MagentoError, NewCustomer, Patch, Refusal,
    SearchCriteria,
};

impl Fake {
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

    pub(super) fn apply(&mut self, id: u64, patch: &Patch) -> Result<Customer, MagentoError> {
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
}
