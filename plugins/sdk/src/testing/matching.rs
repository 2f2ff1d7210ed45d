//! How the fake reads fields, matches filters and sorts, as Magento does.

use std::cmp::Ordering;

use serde_json::{Map, Value};

use crate::{AdminUser, Condition, Customer, Filter, MagentoError, Refusal, SearchCriteria};

pub(super) fn no_such(field: &str, id: u64) -> MagentoError {
    MagentoError::NotFound(Refusal {
        status: 404,
        message: format!("No such entity with {field} = {id}"),
        template: "No such entity with %fieldName = %fieldValue".into(),
        parameters_json: Some(format!(
            "{{\"fieldName\":\"{field}\",\"fieldValue\":\"{id}\"}}"
        )),
    })
}

pub(super) fn unknown_field(field: &str) -> MagentoError {
    MagentoError::BadRequest(Refusal {
        status: 400,
        message: format!("Invalid attribute name: {field}"),
        template: "Invalid attribute name: %1".into(),
        parameters_json: Some(format!("[\"{field}\"]")),
    })
}

/// A customer's field as text, by its Magento name (custom attributes by code).
pub(super) fn customer_field(c: &Customer, field: &str) -> Result<Option<String>, MagentoError> {
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

pub(super) fn admin_field(u: &AdminUser, field: &str) -> Result<Option<String>, MagentoError> {
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
pub(super) fn matches(
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

pub(super) fn holds(f: &Filter, value: Option<String>) -> bool {
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
pub(super) fn like(text: &str, pattern: &str) -> bool {
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
pub(super) fn compare(a: &Option<String>, b: &Option<String>) -> Ordering {
    match (a, b) {
        (Some(a), Some(b)) => match (a.parse::<f64>(), b.parse::<f64>()) {
            (Ok(x), Ok(y)) => x.partial_cmp(&y).unwrap_or(Ordering::Equal),
            _ => a.to_lowercase().cmp(&b.to_lowercase()),
        },
        (a, b) => a.is_some().cmp(&b.is_some()),
    }
}
