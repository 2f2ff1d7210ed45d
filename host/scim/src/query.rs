//! List queries (`filter`, `startIndex`, `count`, RFC 7644 §3.4.2), the ListResponse, and
//! `attributes` / `excludedAttributes` projection (§3.4.2.5).

use serde_json::{Map, Value, json};

use crate::error::{ScimError, ScimType};
use crate::filter::Filter;
use crate::path::{self, AttrPath};
use crate::schema::Schema;

/// A parsed list query.
#[derive(Debug, Clone, Default)]
pub struct ListQuery {
    /// The filter, if any.
    pub filter: Option<Filter>,
    /// 1-based; below 1 reads as 1.
    pub start_index: usize,
    /// How many at most; negative reads as 0; capped at the root's maximum.
    pub count: usize,
    /// The projection.
    pub projection: Projection,
}

/// Which attributes an answer carries.
#[derive(Debug, Clone, Default)]
pub struct Projection {
    /// Only these (and `id`, `schemas`), when not empty.
    pub attributes: Vec<AttrPath>,
    /// Not these.
    pub excluded: Vec<AttrPath>,
}

fn paths(text: &str) -> Result<Vec<AttrPath>, ScimError> {
    text.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| AttrPath::parse(s).map_err(|e| ScimError::bad(ScimType::InvalidValue, e.detail)))
        .collect()
}

impl Projection {
    /// From `attributes` and `excludedAttributes`.
    pub fn parse(
        attributes: Option<&str>,
        excluded: Option<&str>,
    ) -> Result<Projection, ScimError> {
        Ok(Projection {
            attributes: attributes.map(paths).transpose()?.unwrap_or_default(),
            excluded: excluded.map(paths).transpose()?.unwrap_or_default(),
        })
    }

    /// The resource as this projection shows it.
    pub fn apply(&self, doc: &Map<String, Value>, schema: &Schema) -> Map<String, Value> {
        let always = |k: &str| ["id", "schemas"].iter().any(|a| a.eq_ignore_ascii_case(k));
        if !self.attributes.is_empty() {
            let mut out = Map::new();
            for (k, v) in doc {
                if always(k) {
                    out.insert(k.clone(), v.clone());
                }
            }
            for p in &self.attributes {
                copy(doc, &mut out, p, schema);
            }
            return out;
        }
        let mut out = doc.clone();
        for p in &self.excluded {
            if p.uri.is_none() && always(&p.attr) {
                continue;
            }
            let Ok(holder) = path::container_mut(&mut out, p, schema.core) else {
                continue;
            };
            let Some(key) = path::key_of(holder, &p.attr) else {
                continue;
            };
            match &p.sub {
                None => {
                    holder.remove(&key);
                }
                Some(sub) => match holder.get_mut(&key) {
                    Some(Value::Object(o)) => {
                        if let Some(k) = path::key_of(o, sub) {
                            o.remove(&k);
                        }
                    }
                    Some(Value::Array(items)) => {
                        for o in items.iter_mut().filter_map(Value::as_object_mut) {
                            if let Some(k) = path::key_of(o, sub) {
                                o.remove(&k);
                            }
                        }
                    }
                    _ => {}
                },
            }
        }
        // An extension object left empty is dropped.
        if let Some(uri) = schema.extension_uri()
            && out
                .get(uri)
                .and_then(Value::as_object)
                .is_some_and(Map::is_empty)
        {
            out.remove(uri);
        }
        out
    }
}

/// Copies one requested attribute (or sub-attribute) from `doc` into `out`.
fn copy(doc: &Map<String, Value>, out: &mut Map<String, Value>, p: &AttrPath, schema: &Schema) {
    let Some(from) = path::container(doc, p, schema.core) else {
        return;
    };
    let Some(key) = path::key_of(from, &p.attr) else {
        return;
    };
    let Ok(to) = path::container_mut(out, p, schema.core) else {
        return;
    };
    let value = &from[&key];
    match &p.sub {
        None => {
            to.insert(key, value.clone());
        }
        Some(sub) => {
            let pick = |o: &Map<String, Value>| -> Option<(String, Value)> {
                path::key_of(o, sub).map(|k| (k.clone(), o[&k].clone()))
            };
            match value {
                Value::Object(o) => {
                    if let Some((k, v)) = pick(o) {
                        let slot = to.entry(key).or_insert_with(|| Value::Object(Map::new()));
                        if let Some(t) = slot.as_object_mut() {
                            t.insert(k, v);
                        }
                    }
                }
                Value::Array(items) => {
                    let picked: Vec<Value> = items
                        .iter()
                        .filter_map(Value::as_object)
                        .filter_map(|o| pick(o).map(|(k, v)| json!({ k: v })))
                        .collect();
                    to.insert(key, Value::Array(picked));
                }
                _ => {}
            }
        }
    }
}

/// Reads one query parameter ignoring the case of its name.
fn param<'a>(params: &'a [(String, String)], name: &str) -> Option<&'a str> {
    params
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

impl ListQuery {
    /// From the query string's pairs; `count` is capped at `max`.
    pub fn parse(params: &[(String, String)], max: usize) -> Result<ListQuery, ScimError> {
        let number = |name: &str| -> Result<Option<i64>, ScimError> {
            param(params, name)
                .map(|v| {
                    v.trim().parse::<i64>().map_err(|_| {
                        ScimError::bad(
                            ScimType::InvalidValue,
                            format!("{name}={v:?} is not an integer"),
                        )
                    })
                })
                .transpose()
        };
        Ok(ListQuery {
            filter: param(params, "filter")
                .filter(|f| !f.trim().is_empty())
                .map(Filter::parse)
                .transpose()?,
            start_index: number("startIndex")?.map_or(1, |s| s.max(1) as usize),
            count: number("count")?.map_or(max, |c| (c.max(0) as usize).min(max)),
            projection: Projection::parse(
                param(params, "attributes"),
                param(params, "excludedAttributes"),
            )?,
        })
    }

    /// A ListResponse of one page of `matched` (all the matching resources, in their stable
    /// order, each with its schema), each projected.
    pub fn respond(&self, matched: &[(&Schema, &Map<String, Value>)]) -> Value {
        let page: Vec<Value> = matched
            .iter()
            .skip(self.start_index - 1)
            .take(self.count)
            .map(|(schema, d)| Value::Object(self.projection.apply(d, schema)))
            .collect();
        json!({
            "schemas": [crate::LIST_RESPONSE],
            "totalResults": matched.len(),
            "startIndex": self.start_index,
            "itemsPerPage": page.len(),
            "Resources": page,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(pairs: &[(&str, &str)]) -> Result<ListQuery, ScimError> {
        let p: Vec<(String, String)> = pairs
            .iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect();
        ListQuery::parse(&p, 100)
    }

    #[test]
    fn paging_follows_the_rfc_edge_cases() {
        let docs: Vec<Map<String, Value>> = (1..=5)
            .map(|i| {
                json!({"id": i.to_string(), "userName": format!("u{i}")})
                    .as_object()
                    .unwrap()
                    .clone()
            })
            .collect();
        let s = Schema::user();
        let all: Vec<(&Schema, &Map<String, Value>)> = docs.iter().map(|d| (&s, d)).collect();
        let r = q(&[("startIndex", "0"), ("count", "2")])
            .unwrap()
            .respond(&all);
        assert_eq!(
            (
                r["startIndex"].clone(),
                r["itemsPerPage"].clone(),
                r["totalResults"].clone()
            ),
            (json!(1), json!(2), json!(5))
        );
        let r = q(&[("startIndex", "5"), ("count", "10")])
            .unwrap()
            .respond(&all);
        assert_eq!(r["Resources"][0]["id"], "5");
        let r = q(&[("count", "-3")]).unwrap().respond(&all);
        assert_eq!(
            (r["itemsPerPage"].clone(), r["Resources"].clone()),
            (json!(0), json!([]))
        );
        assert_eq!(q(&[("count", "500")]).unwrap().count, 100);
        assert_eq!(
            q(&[("count", "x")]).unwrap_err().scim_type,
            Some(ScimType::InvalidValue)
        );
        assert_eq!(
            q(&[("filter", "userName eq")]).unwrap_err().scim_type,
            Some(ScimType::InvalidFilter)
        );
    }

    #[test]
    fn projection_keeps_id_and_schemas_and_drops_what_is_excluded() {
        let s = Schema::user();
        let doc = json!({
            "schemas": [crate::USER], "id": "1", "userName": "a",
            "name": {"givenName": "A", "familyName": "B"},
            "emails": [{"value": "a@x", "type": "work"}],
        });
        let doc = doc.as_object().unwrap();
        let p = Projection::parse(Some("userName,name.givenName,emails.value"), None).unwrap();
        assert_eq!(
            Value::Object(p.apply(doc, &s)),
            json!({"schemas": [crate::USER], "id": "1", "userName": "a", "name": {"givenName": "A"}, "emails": [{"value": "a@x"}]})
        );
        let p = Projection::parse(None, Some("emails,name.familyName,id")).unwrap();
        assert_eq!(
            Value::Object(p.apply(doc, &s)),
            json!({"schemas": [crate::USER], "id": "1", "userName": "a", "name": {"givenName": "A"}})
        );
    }
}
