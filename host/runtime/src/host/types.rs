//! `interface types`: conversions between the WIT records and the Magento client's types, and
//! the one place client errors become the WIT `magento-error` a plugin can act on.

use mageflow_magento as mg;
use mageflow_model::CallKind;
use serde_json::{Map, Value, json};

use crate::gateway::{Failure, Reply};
use crate::generated::mageflow::workflow::types as wit;

/// Gateway failure -> WIT error. Every case is something a plugin can act on; none traps.
#[expect(
    clippy::needless_pass_by_value,
    reason = "taken by value to fit `map_err`"
)]
pub(crate) fn convert_error(e: Failure) -> wit::MagentoError {
    match &e {
        Failure::Refused(r) => {
            let refusal = wit::Refusal {
                status: r.status,
                message: r.rendered(),
                template: r.template.clone(),
                parameters_json: r.parameters.as_ref().map(Value::to_string),
            };
            match r.status {
                401 => wit::MagentoError::Unauthorized(
                    r.missing_resource()
                        .map_or_else(|| r.rendered(), str::to_owned),
                ),
                404 => wit::MagentoError::NotFound(refusal),
                429 | 500..=599 => wit::MagentoError::Unavailable(e.to_string()),
                _ => wit::MagentoError::BadRequest(refusal),
            }
        }
        Failure::Invalid { .. } => wit::MagentoError::Invalid(e.to_string()),
        Failure::Denied(why) => wit::MagentoError::Denied(why.clone()),
        _ => wit::MagentoError::Unavailable(e.to_string()),
    }
}

/// Why a host call gives no reply: an error for the plugin, or the run stops to be retried.
#[derive(Debug)]
pub(crate) enum Stop {
    /// A Magento error the plugin receives.
    Error(wit::MagentoError),
    /// The gateway postponed the call ([`Failure::Postponed`]): the run stops here.
    Postponed(Postponed),
}

impl From<wit::MagentoError> for Stop {
    fn from(e: wit::MagentoError) -> Stop {
        Stop::Error(e)
    }
}

/// The run stopped to retry a call later (a dedicated trap, not a fault).
#[derive(Debug, thiserror::Error)]
#[error("{reason}; retrying in {after:?}")]
pub(crate) struct Postponed {
    pub(crate) reason: String,
    pub(crate) after: std::time::Duration,
}

/// A gateway answered a call with the wrong shape of reply: a host fault, so the run stops.
#[expect(
    clippy::needless_pass_by_value,
    reason = "the reply is consumed where it did not match"
)]
fn mismatch(call: CallKind, reply: Reply) -> wasmtime::Error {
    wasmtime::Error::msg(format!(
        "host fault: the gateway answered {} with {reply:?}",
        call.name()
    ))
}

/// The host's answer to a plugin: `shape` takes the reply it expects to a WIT value and hands
/// any other reply back, which stops the run as a host fault. Magento errors go to the plugin.
pub(crate) fn answer<T>(
    call: CallKind,
    got: Result<Reply, Stop>,
    shape: impl FnOnce(Reply) -> Result<T, Reply>,
) -> wasmtime::Result<Result<T, wit::MagentoError>> {
    match got {
        Ok(reply) => shape(reply).map(Ok).map_err(|r| mismatch(call, r)),
        Err(Stop::Error(e)) => Ok(Err(e)),
        Err(Stop::Postponed(p)) => Err(wasmtime::Error::new(p)),
    }
}

/// A `denied` error for a missing grant or policy.
pub(crate) fn denied(reason: String) -> wit::MagentoError {
    wit::MagentoError::Denied(reason)
}

/// Moves a field's text out of a JSON object (`""` when absent or null).
fn take(m: &mut Map<String, Value>, key: &str) -> String {
    match m.remove(key) {
        Some(Value::String(s)) => s,
        Some(Value::Null) | None => String::new(),
        Some(other) => other.to_string(),
    }
}

fn address_from(v: Value) -> wit::Address {
    let Value::Object(mut m) = v else {
        return address_from(Value::Object(Map::new()));
    };
    wit::Address {
        id: m.get("id").and_then(Value::as_u64),
        firstname: take(&mut m, "firstname"),
        lastname: take(&mut m, "lastname"),
        street: match m.remove("street") {
            Some(Value::Array(lines)) => lines
                .into_iter()
                .map(|s| match s {
                    Value::String(s) => s,
                    _ => String::new(),
                })
                .collect(),
            _ => Vec::new(),
        },
        city: take(&mut m, "city"),
        postcode: take(&mut m, "postcode"),
        country_id: take(&mut m, "country_id"),
        telephone: take(&mut m, "telephone"),
        region: match m.remove("region") {
            Some(Value::Object(mut r)) => match r.remove("region") {
                Some(Value::String(s)) => Some(s),
                _ => None,
            },
            _ => None,
        },
        default_billing: m
            .get("default_billing")
            .and_then(Value::as_bool)
            .unwrap_or(false),
        default_shipping: m
            .get("default_shipping")
            .and_then(Value::as_bool)
            .unwrap_or(false),
    }
}

fn address_to(a: &wit::Address) -> Value {
    let mut m = Map::new();
    if let Some(id) = a.id {
        m.insert("id".into(), json!(id));
    }
    m.insert("firstname".into(), json!(a.firstname));
    m.insert("lastname".into(), json!(a.lastname));
    m.insert("street".into(), json!(a.street));
    m.insert("city".into(), json!(a.city));
    m.insert("postcode".into(), json!(a.postcode));
    m.insert("country_id".into(), json!(a.country_id));
    m.insert("telephone".into(), json!(a.telephone));
    if let Some(r) = &a.region {
        m.insert("region".into(), json!({ "region": r }));
    }
    m.insert("default_billing".into(), json!(a.default_billing));
    m.insert("default_shipping".into(), json!(a.default_shipping));
    Value::Object(m)
}

/// Client customer -> WIT customer.
pub(crate) fn customer(c: mg::Customer) -> wit::Customer {
    wit::Customer {
        id: c.id,
        email: c.email,
        firstname: c.firstname,
        lastname: c.lastname,
        group_id: c.group_id,
        website_id: c.website_id,
        store_id: c.store_id,
        created_at: c.created_at,
        updated_at: c.updated_at,
        addresses: c.addresses.into_iter().map(address_from).collect(),
        custom_attributes: c
            .custom_attributes
            .into_iter()
            .map(|a| wit::CustomAttribute {
                code: a.attribute_code,
                value: match a.value {
                    Value::String(s) => s,
                    other => other.to_string(),
                },
            })
            .collect(),
        extra_json: serde_json::to_string(&c.other).unwrap_or_else(|_| "{}".into()),
    }
}

/// WIT patch -> client patch; a value that is not JSON is an `invalid` error.
pub(crate) fn patch(p: wit::Patch) -> Result<mg::Patch, wit::MagentoError> {
    let mut out = mg::Patch::new();
    for f in p.set {
        let value: Value = serde_json::from_str(&f.value_json).map_err(|e| {
            wit::MagentoError::Invalid(format!(
                "the value for {} is not JSON ({e}): {:?}",
                f.field, f.value_json
            ))
        })?;
        out = out.set(&f.field, value);
    }
    for a in p.custom_attributes {
        out = out.custom_attribute(&a.code, a.value);
    }
    if let Some(list) = p.replace_addresses {
        out = out.replace_addresses(list.iter().map(address_to).collect());
    }
    Ok(out)
}

/// WIT new customer -> client new customer.
pub(crate) fn new_customer(
    c: wit::NewCustomer,
    password: Option<String>,
) -> Result<mg::NewCustomer, wit::MagentoError> {
    let extra = match c.extra_json.as_deref() {
        None | Some("") => Map::new(),
        Some(text) => match serde_json::from_str(text) {
            Ok(Value::Object(m)) => m,
            _ => {
                return Err(wit::MagentoError::Invalid(format!(
                    "extra-json must be a JSON object, got {text:?}"
                )));
            }
        },
    };
    Ok(mg::NewCustomer {
        email: c.email,
        firstname: c.firstname,
        lastname: c.lastname,
        website_id: c.website_id,
        group_id: c.group_id,
        password,
        extra,
    })
}

/// WIT criteria -> client criteria.
pub(crate) fn criteria(c: wit::SearchCriteria) -> mg::SearchCriteria {
    let mut out = mg::SearchCriteria::new();
    for group in c.groups {
        out = out.any(
            group
                .into_iter()
                .map(|f| mg::Filter::new(f.field, condition(f.condition), f.value))
                .collect(),
        );
    }
    for s in c.sort {
        out = out.sort(
            &s.field,
            if s.descending {
                mg::Direction::Desc
            } else {
                mg::Direction::Asc
            },
        );
    }
    out.page_size = c.page_size;
    out.current_page = c.current_page;
    out
}

fn condition(c: wit::Condition) -> mg::Condition {
    use wit::Condition as C;
    match c {
        C::Eq => mg::Condition::Eq,
        C::Neq => mg::Condition::Neq,
        C::Like => mg::Condition::Like,
        C::Nlike => mg::Condition::Nlike,
        C::In => mg::Condition::In,
        C::Nin => mg::Condition::Nin,
        C::Notnull => mg::Condition::Notnull,
        C::Null => mg::Condition::Null,
        C::Gt => mg::Condition::Gt,
        C::Lt => mg::Condition::Lt,
        C::Gteq => mg::Condition::Gteq,
        C::Lteq => mg::Condition::Lteq,
        C::Moreq => mg::Condition::Moreq,
        C::From => mg::Condition::From,
        C::To => mg::Condition::To,
        C::Finset => mg::Condition::Finset,
        C::Nfinset => mg::Condition::Nfinset,
    }
}

/// Client admin user -> WIT admin user.
pub(crate) fn admin_user(u: mg::AdminUser) -> wit::AdminUser {
    wit::AdminUser {
        id: u.id,
        username: u.username,
        firstname: u.firstname,
        lastname: u.lastname,
        email: u.email,
        is_active: u.is_active,
        role_id: u.role_id,
    }
}
