//! scim-bridge: what the two SCIM plugins share (`scim-admin` and `scim-customers`, one per
//! root, so each imports only the Magento interface its root needs). Each carries out one SCIM
//! change against Magento, as `mageflow serve`'s SCIM roots describe it, after an approval when
//! the root asked for one. Each change is its own durable run, so a lost answer or a crash
//! never sends a write twice.
//!
//! Input (built by the server, never by hand):
//! `{"request": "...", "resource": "<scim id>", "approval": {"title", "summary", "details"}?,
//!   "steps": [{"do": "create-admin", ...}, {"do": "update-admin", "id": 5, "set": {...}}, ...]}`
//!
//! Output: `{"admin": {...}}` or `{"customer": {...}}` (Magento's record after the last step),
//! `{"deleted": id}`, or `{"rejected": {"by", "why"}}`. A Magento refusal fails the run with
//! `scim:<status>:<scimType>:<detail>`, which the server answers the identity provider with.

use std::hash::{BuildHasher, RandomState};

pub use mageflow_sdk;
use mageflow_sdk::approvals::Decision;
use mageflow_sdk::{
    MagentoError, NewAdminUser, NewCustomer, Outcome, Patch, Trigger, info, patch, request_approval,
};
use serde_json::{Value, json};

/// One step of a change.
#[derive(Debug, Clone)]
pub enum Step {
    /// Create an admin user (with a random password: passwords are never forwarded).
    CreateAdmin(NewAdminUser),
    /// PUT-merge fields of an admin user.
    UpdateAdmin(u64, Vec<(String, Value)>),
    /// Deactivate an admin user (the one created by an earlier step, when no id is given).
    DeactivateAdmin(Option<u64>),
    /// Delete an admin user.
    DeleteAdmin(u64),
    /// Create a customer.
    CreateCustomer(NewCustomer),
    /// PUT-merge fields of a customer.
    UpdateCustomer(u64, Vec<(String, Value)>),
    /// Delete a customer.
    DeleteCustomer(u64),
}

/// A change, read from the input.
#[derive(Debug, Clone)]
pub struct Change {
    /// The identity provider's request id, for the log.
    pub request: String,
    /// The SCIM resource's id.
    pub resource: String,
    /// What approvers see, when the change needs an approval.
    pub approval: Option<(String, String, Option<String>)>,
    /// The steps, in order.
    pub steps: Vec<Step>,
}

fn text(v: &Value, key: &str) -> Result<String, String> {
    v.get(key)
        .and_then(Value::as_str)
        .map(str::to_owned)
        .ok_or_else(|| format!("a step has no {key}"))
}

fn number(v: &Value, key: &str) -> Result<u64, String> {
    v.get(key)
        .and_then(Value::as_u64)
        .ok_or_else(|| format!("a step has no numeric {key}"))
}

fn fields(v: &Value) -> Vec<(String, Value)> {
    v.get("set")
        .and_then(Value::as_object)
        .map(|o| o.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
        .unwrap_or_default()
}

/// Reads the server's input.
pub fn parse_input(json: &str) -> Result<Change, String> {
    let v: Value = serde_json::from_str(json).map_err(|e| format!("input is not JSON: {e}"))?;
    let steps = v
        .get("steps")
        .and_then(Value::as_array)
        .ok_or("input has no steps")?
        .iter()
        .map(|s| {
            Ok(match s.get("do").and_then(Value::as_str).unwrap_or("") {
                "create-admin" => Step::CreateAdmin(NewAdminUser {
                    username: text(s, "username")?,
                    firstname: text(s, "firstname")?,
                    lastname: text(s, "lastname")?,
                    email: text(s, "email")?,
                    role_id: number(s, "role_id")? as u32,
                }),
                "update-admin" => Step::UpdateAdmin(number(s, "id")?, fields(s)),
                "deactivate-admin" => Step::DeactivateAdmin(s.get("id").and_then(Value::as_u64)),
                "delete-admin" => Step::DeleteAdmin(number(s, "id")?),
                "create-customer" => Step::CreateCustomer(NewCustomer {
                    email: text(s, "email")?,
                    firstname: text(s, "firstname")?,
                    lastname: text(s, "lastname")?,
                    website_id: s
                        .get("website_id")
                        .and_then(Value::as_u64)
                        .map(|w| w as u32),
                    group_id: s.get("group_id").and_then(Value::as_u64).map(|g| g as u32),
                    extra_json: None,
                }),
                "update-customer" => Step::UpdateCustomer(number(s, "id")?, fields(s)),
                "delete-customer" => Step::DeleteCustomer(number(s, "id")?),
                other => return Err(format!("unknown step {other:?}")),
            })
        })
        .collect::<Result<Vec<_>, String>>()?;
    let approval = match v.get("approval") {
        Some(a) if a.is_object() => Some((
            text(a, "title")?,
            text(a, "summary")?,
            a.get("details").map(Value::to_string),
        )),
        _ => None,
    };
    Ok(Change {
        request: v
            .get("request")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_owned(),
        resource: text(&v, "resource")?,
        approval,
        steps,
    })
}

/// A refusal as the server reads it: `scim:<status>:<scimType>:<detail>`.
pub fn refusal(e: MagentoError) -> String {
    let (status, kind, detail) = match e {
        MagentoError::BadRequest(r) => {
            let kind = if r.message.contains("already exists") {
                (409, "uniqueness")
            } else {
                (400, "invalidValue")
            };
            (kind.0, kind.1, format!("Magento refused it: {}", r.message))
        }
        MagentoError::Invalid(m) => (400, "invalidValue", m),
        MagentoError::NotFound(r) => (
            404,
            "",
            format!("Magento has no such record: {}", r.message),
        ),
        MagentoError::Denied(m) => (
            500,
            "",
            format!("mageflow's Magento integration may not do this: {m}"),
        ),
        MagentoError::Unauthorized(m) => (
            500,
            "",
            format!("mageflow could not sign in to Magento: {m}"),
        ),
        MagentoError::Unavailable(m) => (503, "", format!("Magento is unavailable: {m}")),
    };
    format!("scim:{status}:{kind}:{detail}")
}

/// A PUT-merge patch of the fields.
pub fn merge(fields: &[(String, Value)]) -> Patch {
    fields
        .iter()
        .fold(patch(), |p, (k, v)| p.set(k, &v.to_string()))
}

/// A password that meets Magento's rules, from the run's seeded randomness (never sent by
/// the identity provider, never logged; the person sets their own with "Forgot password").
pub fn password() -> String {
    let s = RandomState::new();
    format!("{:016x}{:016x}Aa1", s.hash_one(1u8), s.hash_one(2u8))
}

/// What a step left: Magento's record (`{"admin": ...}`), a line for the summary, and the id
/// of an admin user it created (a later `deactivate-admin` without an id means that one).
pub type Done = (Value, String, Option<u64>);

/// Carries out a change: asks for its approval first when it has one, then runs each step
/// with `exec` (which refuses the steps of the other root).
pub fn carry_out(
    trigger: Trigger,
    mut exec: impl FnMut(&Step, Option<u64>) -> Result<Done, String>,
) -> Result<Outcome, String> {
    let Trigger::Manual(input) = trigger else {
        return Err("the SCIM plugins run on the SCIM roots' input".into());
    };
    let change = parse_input(&input)?;
    if let Some((title, summary, details)) = &change.approval {
        match request_approval(title, summary, details.clone()).map_err(refusal)? {
            Decision::Approved(by) => info(&format!("approved by {by}")),
            Decision::Rejected((by, why)) => {
                return Ok(Outcome {
                    summary: format!("{title}: rejected by {by} ({why})"),
                    output_json: Some(json!({"rejected": {"by": by, "why": why}}).to_string()),
                });
            }
            Decision::Expired => {
                return Ok(Outcome {
                    summary: format!("{title}: the approval expired"),
                    output_json: Some(
                        json!({"rejected": {"by": "expiry", "why": "the approval expired"}})
                            .to_string(),
                    ),
                });
            }
        }
    }
    let mut last = Value::Null;
    let mut created = None;
    let mut done = Vec::new();
    for step in &change.steps {
        let (record, line, made) = exec(step, created)?;
        created = made.or(created);
        last = record;
        done.push(line);
    }
    let summary = if done.is_empty() {
        "nothing to change in Magento".to_owned()
    } else {
        done.join("; ")
    };
    info(&format!(
        "SCIM {} (request {}): {summary}",
        change.resource, change.request
    ));
    Ok(Outcome {
        summary,
        output_json: Some(last.to_string()),
    })
}

/// Magento's record of an admin user, as the server reads it.
pub fn admin(a: &mageflow_sdk::AdminUser) -> Value {
    json!({"admin": {
        "id": a.id, "username": a.username, "firstname": a.firstname, "lastname": a.lastname,
        "email": a.email, "is_active": a.is_active, "role_id": a.role_id,
    }})
}

/// Magento's record of a customer, as the server reads it.
pub fn customer(c: &mageflow_sdk::Customer) -> Value {
    json!({"customer": {
        "id": c.id, "email": c.email, "firstname": c.firstname, "lastname": c.lastname,
        "group_id": c.group_id, "website_id": c.website_id,
    }})
}

/// The refusal of a step the root does not take.
pub fn foreign(step: &Step) -> String {
    format!("scim:500::this plugin does not carry out {step:?}: each SCIM root has its own plugin")
}
