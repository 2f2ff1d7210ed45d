//! Reading request bodies as Magento's ServiceInputProcessor does: snake_case and camelCase keys
//! are both accepted, an unknown key is a 400 naming it, and scalar values are cast to the
//! declared type (a number where a string is declared is fine; `"abc"` for an int is not).

use serde_json::{Map, Value, json};

use crate::error::{MResult, MagentoError};

/// `websiteId` -> `website_id`; `website_id` stays as it is.
pub fn snake_case(key: &str) -> String {
    let mut out = String::with_capacity(key.len() + 4);
    for (i, ch) in key.chars().enumerate() {
        if ch.is_ascii_uppercase() {
            if i > 0 {
                out.push('_');
            }
            out.push(ch.to_ascii_lowercase());
        } else {
            out.push(ch);
        }
    }
    out
}

/// `is_active` -> `IsActive`: how Magento names a property in "is not supported" errors.
pub fn upper_camel(key: &str) -> String {
    snake_case(key)
        .split('_')
        .map(|part| {
            let mut c = part.chars();
            match c.next() {
                Some(f) => f.to_ascii_uppercase().to_string() + c.as_str(),
                None => String::new(),
            }
        })
        .collect()
}

/// Re-keys a body object in snake_case and refuses keys outside `known`.
pub fn normalize(value: &Value, known: &[&str]) -> MResult<Map<String, Value>> {
    let Value::Object(obj) = value else {
        return Err(type_error(value, "object"));
    };
    let mut out = Map::new();
    for (k, v) in obj {
        let key = snake_case(k);
        if !known.contains(&key.as_str()) {
            return Err(MagentoError::not_supported(&upper_camel(k)));
        }
        out.insert(key, v.clone());
    }
    Ok(out)
}

/// Magento's cast failure for a scalar of the wrong type.
pub fn type_error(value: &Value, expected: &str) -> MagentoError {
    let shown = match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    MagentoError::bad_request(
        "The \"%value\" value's type is invalid. The \"%type\" type was expected. Verify and try again.",
    )
    .with(json!({ "value": shown, "type": expected }))
}

/// Reads an optional integer (a numeric string counts); `null` reads as absent.
pub fn int(m: &Map<String, Value>, key: &str) -> MResult<Option<i64>> {
    match m.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => parse_int(v).map(Some),
    }
}

/// Casts one JSON value to an integer the way PHP's type juggling in the web API does.
pub fn parse_int(v: &Value) -> MResult<i64> {
    match v {
        Value::Number(n) => n.as_i64().ok_or_else(|| type_error(v, "int")),
        Value::String(s) => s.trim().parse().map_err(|_| type_error(v, "int")),
        Value::Bool(b) => Ok(i64::from(*b)),
        _ => Err(type_error(v, "int")),
    }
}

/// Reads an optional string (numbers are stringified); `null` reads as absent.
pub fn string(m: &Map<String, Value>, key: &str) -> MResult<Option<String>> {
    match m.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(Value::Number(n)) => Ok(Some(n.to_string())),
        Some(Value::Bool(b)) => Ok(Some(if *b { "1".into() } else { String::new() })),
        Some(v) => Err(type_error(v, "string")),
    }
}

/// Reads an optional boolean (`1`, `"true"`, `true` are true).
pub fn boolean(m: &Map<String, Value>, key: &str) -> MResult<Option<bool>> {
    match m.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Bool(b)) => Ok(Some(*b)),
        Some(Value::Number(n)) => Ok(Some(n.as_f64().unwrap_or(0.0) != 0.0)),
        Some(Value::String(s)) => Ok(Some(matches!(s.as_str(), "1" | "true"))),
        Some(v) => Err(type_error(v, "bool")),
    }
}

/// Rejects `<script>` in free text the way `validateParamsValue` does.
pub fn check_markup(field: &str, value: &str) -> MResult<()> {
    if value.to_ascii_lowercase().contains("<script") {
        return Err(
            MagentoError::bad_request("\"%field_name\" does not contains valid value.")
                .with(json!({ "field_name": field })),
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_convert_between_cases() {
        assert_eq!(snake_case("websiteId"), "website_id");
        assert_eq!(snake_case("website_id"), "website_id");
        assert_eq!(upper_camel("is_active"), "IsActive");
        assert_eq!(upper_camel("isActive"), "IsActive");
    }

    #[test]
    fn unknown_keys_are_named_in_upper_camel_case() {
        let err = normalize(&json!({"email": "a@b.c", "is_active": true}), &["email"]).unwrap_err();
        assert_eq!(err.parameters, Some(json!({"fieldName": "IsActive"})));
    }

    #[test]
    fn integers_cast_like_the_web_api() {
        let m = normalize(&json!({"group_id": "2"}), &["group_id"]).unwrap();
        assert_eq!(int(&m, "group_id").unwrap(), Some(2));
        let bad = normalize(&json!({"group_id": "two"}), &["group_id"]).unwrap();
        assert!(int(&bad, "group_id").is_err());
    }
}
