//! A dry run's writes: planned (what would change, read from Magento), answered as if
//! written, never sent.

use mageflow_magento::{Patch, Write};
use mageflow_runtime::{Call, Failure, Gateway, Reply};
use mageflow_store::FieldChange;
use serde_json::{Value, json};

use super::writes::convert;
use super::{Journaled, stored};

impl Journaled {
    /// A dry run's write: read what is stored, record the change as a plan, answer as if it
    /// had been written. Planned from the [`Write`] the call makes, the one list of writes.
    pub(super) async fn plan(&self, call: Call) -> Result<Reply, Failure> {
        let name = call.name();
        let write = match call.into_write(self.since) {
            Ok(w) => w,
            Err(read) => return Gateway::call(&*self.client, read).await,
        };
        let mut entries = Vec::new();
        let reply = match write {
            Write::UpdateCustomer(id, patch) => {
                let before = self.client.customer_json(id).await?;
                entries.push(planned(
                    name,
                    format!("customer {id}"),
                    changes(&patch, &before, id)?,
                ));
                Reply::Customer(Box::new(customer(patch.apply(before, id)?)?))
            }
            Write::BulkUpdateCustomers { updates, .. } => {
                for (id, patch) in &updates {
                    let before = self.client.customer_json(*id).await?;
                    entries.push(planned(
                        name,
                        format!("customer {id}"),
                        changes(patch, &before, *id)?,
                    ));
                }
                Reply::Receipts(Vec::new())
            }
            Write::CreateCustomer(new) => {
                entries.push(planned(
                    name,
                    format!("new customer {}", new.email),
                    vec![FieldChange {
                        field: "email".into(),
                        before: Value::Null,
                        after: json!(new.email),
                    }],
                ));
                let mut c = customer(json!({
                    "id": 0, "email": new.email, "firstname": new.firstname,
                    "lastname": new.lastname, "website_id": new.website_id.unwrap_or(1),
                    "group_id": new.group_id.unwrap_or(1),
                }))?;
                c.id = 0;
                Reply::Customer(Box::new(c))
            }
            Write::DeleteCustomer(id) => {
                entries.push(planned(name, format!("customer {id}"), Vec::new()));
                Reply::Done
            }
            // Deactivating is this update with `is_active: false`.
            Write::UpdateAdminUser(id, patch) => {
                let user = self.client.admin_user(id).await?;
                let before = serde_json::to_value(&user).map_err(stored)?;
                entries.push(planned(
                    name,
                    format!("admin user {id}"),
                    changes(&patch, &before, id)?,
                ));
                let after = serde_json::from_value(patch.apply(before, id)?).map_err(|e| {
                    Failure::Unavailable(format!("unexpected admin user JSON: {e}"))
                })?;
                Reply::AdminUser(Box::new(after))
            }
            Write::CreateAdminUser(new) => {
                entries.push(planned(
                    name,
                    format!("new admin user {}", new.username),
                    Vec::new(),
                ));
                Reply::AdminUser(Box::new(mageflow_magento::AdminUser {
                    id: 0,
                    username: new.username.clone(),
                    firstname: new.firstname.clone(),
                    lastname: new.lastname.clone(),
                    email: new.email.clone(),
                    is_active: true,
                    role_id: new.role_id,
                    other: serde_json::Map::new(),
                }))
            }
            Write::DeleteAdminUser(id) => {
                entries.push(planned(name, format!("admin user {id}"), Vec::new()));
                Reply::Done
            }
        };
        self.plan
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .extend(entries);
        Ok(reply)
    }
}

fn planned(call: &str, entity: String, changes: Vec<FieldChange>) -> Value {
    let mut m = serde_json::Map::new();
    m.insert("call".into(), json!(call));
    m.insert("entity".into(), Value::String(entity));
    m.insert(
        "changes".into(),
        Value::Array(changes.into_iter().map(|c| json!(c)).collect()),
    );
    Value::Object(m)
}

fn changes(patch: &Patch, before: &Value, id: u64) -> Result<Vec<FieldChange>, Failure> {
    Ok(convert(patch.changes(before, id)?))
}

fn customer(v: Value) -> Result<mageflow_magento::Customer, Failure> {
    serde_json::from_value(v)
        .map_err(|e| Failure::Unavailable(format!("unexpected customer JSON: {e}")))
}
