//! Attribute paths (`userName`, `name.givenName`, `urn:…:enterprise:2.0:User:department`)
//! and the case-insensitive lookups every part of SCIM makes with them.

use serde_json::{Map, Value};

use crate::error::{ScimError, ScimType};

/// `[schema URI ":"] attribute ["." sub-attribute]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttrPath {
    /// The schema URI it is qualified with, if any.
    pub uri: Option<String>,
    /// The attribute.
    pub attr: String,
    /// The sub-attribute.
    pub sub: Option<String>,
}

impl AttrPath {
    /// Reads a path; an empty or malformed one is an `invalidPath`.
    pub fn parse(text: &str) -> Result<AttrPath, ScimError> {
        let bad = || {
            ScimError::bad(
                ScimType::InvalidPath,
                format!("{text:?} is not an attribute path (name, name.sub or urn:...:name)"),
            )
        };
        let (uri, rest) = if text.len() > 4 && text[..4].eq_ignore_ascii_case("urn:") {
            let cut = text.rfind(':').ok_or_else(bad)?;
            (Some(text[..cut].to_owned()), &text[cut + 1..])
        } else {
            (None, text)
        };
        let (attr, sub) = match rest.split_once('.') {
            Some((a, s)) => (a, Some(s)),
            None => (rest, None),
        };
        let name_ok = |s: &str| {
            !s.is_empty()
                && s.chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '$'))
        };
        if !name_ok(attr) || sub.is_some_and(|s| !name_ok(s)) {
            return Err(bad());
        }
        Ok(AttrPath {
            uri,
            attr: attr.to_owned(),
            sub: sub.map(str::to_owned),
        })
    }

    /// The path with no sub-attribute.
    pub fn top(&self) -> AttrPath {
        AttrPath {
            sub: None,
            ..self.clone()
        }
    }

    /// `name.givenName`, without its URI.
    pub fn dotted(&self) -> String {
        match &self.sub {
            Some(s) => format!("{}.{s}", self.attr),
            None => self.attr.clone(),
        }
    }
}

/// The key of `obj` that equals `name` ignoring case.
pub fn key_of(obj: &Map<String, Value>, name: &str) -> Option<String> {
    obj.keys().find(|k| k.eq_ignore_ascii_case(name)).cloned()
}

/// The value under `name`, ignoring case.
pub fn get_ci<'a>(obj: &'a Map<String, Value>, name: &str) -> Option<&'a Value> {
    obj.iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v)
}

/// The object a path's attribute lives in: the resource itself, or the extension object the
/// path's URI names (`core` is the resource's own schema, which needs no extension object).
pub fn container<'a>(
    doc: &'a Map<String, Value>,
    path: &AttrPath,
    core: &str,
) -> Option<&'a Map<String, Value>> {
    match &path.uri {
        Some(u) if !u.eq_ignore_ascii_case(core) => get_ci(doc, u)?.as_object(),
        _ => Some(doc),
    }
}

/// [`container`], writable, creating the extension object when it is missing.
pub fn container_mut<'a>(
    doc: &'a mut Map<String, Value>,
    path: &AttrPath,
    core: &str,
) -> Result<&'a mut Map<String, Value>, ScimError> {
    match &path.uri {
        Some(u) if !u.eq_ignore_ascii_case(core) => {
            let key = key_of(doc, u).unwrap_or_else(|| u.clone());
            let slot = doc.entry(key).or_insert_with(|| Value::Object(Map::new()));
            if !slot.is_object() {
                *slot = Value::Object(Map::new());
            }
            Ok(slot.as_object_mut().expect("made an object"))
        }
        _ => Ok(doc),
    }
}

/// The values a path names in a resource: one per element of a multi-valued attribute (the
/// sub-attribute of each, when the path has one), none when it is absent.
pub fn values<'a>(doc: &'a Map<String, Value>, path: &AttrPath, core: &str) -> Vec<&'a Value> {
    let Some(top) = container(doc, path, core).and_then(|c| get_ci(c, &path.attr)) else {
        return Vec::new();
    };
    let items: Vec<&Value> = match top {
        Value::Array(a) => a.iter().collect(),
        Value::Null => Vec::new(),
        v => vec![v],
    };
    match &path.sub {
        None => items,
        Some(sub) => items
            .into_iter()
            .filter_map(|i| i.as_object().and_then(|o| get_ci(o, sub)))
            .flat_map(|v| match v {
                Value::Array(a) => a.iter().collect::<Vec<_>>(),
                v => vec![v],
            })
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn paths_read_with_and_without_a_schema_uri() {
        let p = AttrPath::parse("name.givenName").unwrap();
        assert_eq!(
            (p.uri, p.attr.as_str(), p.sub.as_deref()),
            (None, "name", Some("givenName"))
        );
        let p = AttrPath::parse(
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value",
        )
        .unwrap();
        assert_eq!(
            p.uri.as_deref(),
            Some("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User")
        );
        assert_eq!(
            (p.attr.as_str(), p.sub.as_deref()),
            ("manager", Some("value"))
        );
        for bad in ["", "a b", "name.", ".x", "a.b.c"] {
            let e = AttrPath::parse(bad).unwrap_err();
            assert_eq!(e.scim_type, Some(ScimType::InvalidPath), "{bad}");
        }
    }

    #[test]
    fn values_ignore_case_and_flatten_multi_valued_attributes() {
        let doc = json!({"userName": "a", "emails": [{"value": "x@e"}, {"value": "y@e"}]});
        let doc = doc.as_object().unwrap();
        let core = crate::USER;
        let p = AttrPath::parse("EMAILS.Value").unwrap();
        assert_eq!(values(doc, &p, core), [&json!("x@e"), &json!("y@e")]);
        let p = AttrPath::parse("urn:ietf:params:scim:schemas:core:2.0:User:username").unwrap();
        assert_eq!(values(doc, &p, core), [&json!("a")]);
        assert!(values(doc, &AttrPath::parse("title").unwrap(), core).is_empty());
    }
}
