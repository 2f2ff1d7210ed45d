//! A change to apply to a Magento object by PUT-merge: read the stored object, set only the
//! named fields, and send the whole object back with its id.
//!
//! Addresses are never touched unless the patch says so with [`Patch::replace_addresses`]:
//! Magento deletes every stored address a submitted list leaves out, so a careless list (or
//! n8n's `addresses: []`) wipes them.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::error::{Error, Result};

/// Fields a patch may not set: identity and bookkeeping Magento owns.
const READ_ONLY: &[&str] = &["id", "created_at", "updated_at", "created_in"];

/// A set of field changes.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Patch {
    fields: Map<String, Value>,
    custom_attributes: Vec<(String, Value)>,
    addresses: Option<Vec<Value>>,
}

/// One field's change, for plans and reports.
#[derive(Debug, Clone, PartialEq)]
pub struct Change {
    /// Field name (`custom_attributes.crm_id` for a custom attribute).
    pub field: String,
    /// Stored value (`Null` when absent).
    pub before: Value,
    /// Value after the patch.
    pub after: Value,
}

impl Patch {
    /// An empty patch.
    pub fn new() -> Patch {
        Patch::default()
    }

    /// Sets a top-level field (`group_id`, `lastname`, `is_active`, ...).
    pub fn set(mut self, field: &str, value: impl Into<Value>) -> Patch {
        self.fields.insert(field.to_owned(), value.into());
        self
    }

    /// Sets one custom attribute, leaving the others as stored.
    pub fn custom_attribute(mut self, code: &str, value: impl Into<Value>) -> Patch {
        self.custom_attributes.push((code.to_owned(), value.into()));
        self
    }

    /// Replaces the address list. Stored addresses missing from `list` are deleted by Magento;
    /// an address without `id` is created.
    pub fn replace_addresses(mut self, list: Vec<Value>) -> Patch {
        self.addresses = Some(list);
        self
    }

    /// Whether the patch changes addresses (only ever explicitly).
    pub fn touches_addresses(&self) -> bool {
        self.addresses.is_some()
    }

    /// Whether the patch changes nothing.
    pub fn is_empty(&self) -> bool {
        self.fields.is_empty() && self.custom_attributes.is_empty() && self.addresses.is_none()
    }

    fn check(&self) -> Result<()> {
        for key in self.fields.keys() {
            if READ_ONLY.contains(&key.as_str()) {
                return Err(Error::Invalid {
                    field: key.clone(),
                    message: "is managed by Magento and cannot be patched".into(),
                });
            }
            if key == "addresses" {
                return Err(Error::Invalid {
                    field: key.clone(),
                    message: "addresses change only through replace_addresses (a partial list deletes the others)".into(),
                });
            }
            if key == "custom_attributes" {
                return Err(Error::Invalid {
                    field: key.clone(),
                    message: "set custom attributes one by one with custom_attribute".into(),
                });
            }
        }
        Ok(())
    }

    /// The stored object with this patch applied and `id` set: what PUT-merge sends.
    pub fn merged(&self, stored: &Value, id: u64) -> Result<Value> {
        self.apply(stored.clone(), id)
    }

    /// [`Patch::merged`], consuming the stored object instead of copying it.
    pub fn apply(&self, stored: Value, id: u64) -> Result<Value> {
        self.check()?;
        let Value::Object(mut out) = stored else {
            return Err(Error::Decode {
                method: "GET".into(),
                path: format!("(object {id})"),
                detail: "the stored object is not a JSON object".into(),
            });
        };
        for (k, v) in &self.fields {
            out.insert(k.clone(), v.clone());
        }
        if !self.custom_attributes.is_empty() {
            let mut list: Vec<Value> = out
                .get("custom_attributes")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            for (code, value) in &self.custom_attributes {
                let entry = serde_json::json!({ "attribute_code": code, "value": value });
                match list
                    .iter_mut()
                    .find(|a| a.get("attribute_code").and_then(Value::as_str) == Some(code))
                {
                    Some(slot) => *slot = entry,
                    None => list.push(entry),
                }
            }
            out.insert("custom_attributes".into(), Value::Array(list));
        }
        if let Some(list) = &self.addresses {
            // A default that names an address the new list drops would be refused ("The
            // default_billing value is invalid"); let it lapse unless the patch sets it.
            let kept: Vec<String> = list
                .iter()
                .filter_map(|a| a.get("id"))
                .map(|v| v.to_string().trim_matches('"').to_owned())
                .collect();
            for key in ["default_billing", "default_shipping"] {
                let names_dropped = out
                    .get(key)
                    .is_some_and(|v| !kept.contains(&v.to_string().trim_matches('"').to_owned()));
                if !self.fields.contains_key(key) && names_dropped {
                    out.remove(key);
                }
            }
            out.insert("addresses".into(), Value::Array(list.clone()));
        }
        out.insert("id".into(), Value::from(id));
        Ok(Value::Object(out))
    }

    /// What the patch would change on `stored`: one entry per field whose value differs.
    pub fn changes(&self, stored: &Value, id: u64) -> Result<Vec<Change>> {
        let after = self.merged(stored, id)?;
        let mut out = Vec::new();
        for (k, v) in &self.fields {
            let before = stored.get(k).cloned().unwrap_or(Value::Null);
            if !loosely_equal(&before, v) {
                out.push(Change {
                    field: k.clone(),
                    before,
                    after: v.clone(),
                });
            }
        }
        for (code, value) in &self.custom_attributes {
            let before = stored
                .get("custom_attributes")
                .and_then(Value::as_array)
                .and_then(|l| {
                    l.iter()
                        .find(|a| a.get("attribute_code").and_then(Value::as_str) == Some(code))
                })
                .and_then(|a| a.get("value").cloned())
                .unwrap_or(Value::Null);
            if !loosely_equal(&before, value) {
                out.push(Change {
                    field: format!("custom_attributes.{code}"),
                    before,
                    after: value.clone(),
                });
            }
        }
        if self.addresses.is_some() {
            let before = stored.get("addresses").cloned().unwrap_or(Value::Null);
            let after = after.get("addresses").cloned().unwrap_or(Value::Null);
            if before != after {
                out.push(Change {
                    field: "addresses".into(),
                    before,
                    after,
                });
            }
        }
        Ok(out)
    }
}

/// `2` and `"2"` are the same value to Magento.
fn loosely_equal(a: &Value, b: &Value) -> bool {
    let text = |v: &Value| match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    a == b || (!a.is_object() && !a.is_array() && text(a) == text(b))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn stored() -> Value {
        json!({"id": 7, "email": "a@b.c", "group_id": 1, "addresses": [{"id": 3, "city": "Austin"}],
               "custom_attributes": [{"attribute_code": "crm_id", "value": "A7"}, {"attribute_code": "tier", "value": "gold"}],
               "extension_attributes": {"is_subscribed": true}})
    }

    #[test]
    fn merge_keeps_everything_the_patch_does_not_name() {
        let merged = Patch::new()
            .set("group_id", 3)
            .custom_attribute("tier", "silver")
            .merged(&stored(), 7)
            .unwrap();
        assert_eq!(merged["group_id"], 3);
        assert_eq!(merged["addresses"], stored()["addresses"]);
        assert_eq!(
            merged["extension_attributes"],
            stored()["extension_attributes"]
        );
        assert_eq!(
            merged["custom_attributes"],
            json!([{"attribute_code": "crm_id", "value": "A7"}, {"attribute_code": "tier", "value": "silver"}])
        );
    }

    #[test]
    fn addresses_and_identity_change_only_explicitly() {
        let err = Patch::new()
            .set("addresses", json!([]))
            .merged(&stored(), 7)
            .unwrap_err();
        assert!(err.to_string().contains("replace_addresses"));
        assert!(Patch::new().set("id", 9).merged(&stored(), 7).is_err());
        let p = Patch::new().replace_addresses(vec![]);
        assert!(p.touches_addresses());
        let mut with_default = stored();
        with_default["default_billing"] = json!("3");
        let merged = p.merged(&with_default, 7).unwrap();
        assert_eq!(merged["addresses"], json!([]));
        assert!(
            merged.get("default_billing").is_none(),
            "a default naming a dropped address lapses"
        );
        let kept = Patch::new()
            .replace_addresses(vec![json!({"id": 3})])
            .merged(&with_default, 7)
            .unwrap();
        assert_eq!(kept["default_billing"], "3");
    }

    #[test]
    fn changes_list_only_real_differences() {
        let p = Patch::new()
            .set("group_id", "1")
            .set("lastname", "New")
            .custom_attribute("crm_id", "B1");
        let changes = p.changes(&stored(), 7).unwrap();
        let fields: Vec<&str> = changes.iter().map(|c| c.field.as_str()).collect();
        assert_eq!(fields, vec!["lastname", "custom_attributes.crm_id"]);
        assert_eq!(changes[1].before, json!("A7"));
    }
}
