//! PATCH (RFC 7644 §3.5.2) applied to a resource held as JSON, with what real identity
//! providers send beyond the RFC: capitalised ops (`Replace`), string booleans (`"False"`),
//! path-less values with dotted keys (`"name.givenName"`), `remove` of members with a value
//! array, and a filtered `replace` of a missing element (`emails[type eq "work"].value`),
//! which adds it.

use serde_json::{Map, Value};

use crate::error::{ScimError, ScimType};
use crate::filter::{Filter, Op};
use crate::path::{self, AttrPath};
use crate::schema::Schema;

/// What an operation does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// `add`
    Add,
    /// `remove`
    Remove,
    /// `replace`
    Replace,
}

/// `attr[filter].sub`, as a PATCH path.
#[derive(Debug, Clone, PartialEq)]
pub struct Target {
    /// The attribute (with its sub-attribute when there is no filter).
    pub attr: AttrPath,
    /// The filter on a multi-valued attribute's elements.
    pub filter: Option<Filter>,
}

/// One operation.
#[derive(Debug, Clone, PartialEq)]
pub struct Operation {
    /// What it does.
    pub kind: Kind,
    /// Where; `None` for a path-less `add` or `replace`.
    pub target: Option<Target>,
    /// The value.
    pub value: Option<Value>,
}

fn syntax(detail: impl Into<String>) -> ScimError {
    ScimError::bad(ScimType::InvalidSyntax, detail)
}

impl Target {
    /// An attribute with no filter.
    pub fn of(attr: AttrPath) -> Target {
        Target { attr, filter: None }
    }

    /// Reads `members[value eq "x"]`, `emails[type eq "work"].value`, `name.givenName`.
    pub fn parse(text: &str) -> Result<Target, ScimError> {
        let Some(open) = text.find('[') else {
            return Ok(Target {
                attr: AttrPath::parse(text)?,
                filter: None,
            });
        };
        let close = text.rfind(']').ok_or_else(|| {
            ScimError::bad(
                ScimType::InvalidPath,
                format!("{text:?} opens [ and never closes it"),
            )
        })?;
        let mut attr = AttrPath::parse(&text[..open])?;
        if attr.sub.is_some() {
            return Err(ScimError::bad(
                ScimType::InvalidPath,
                format!("{text:?}: a filter applies to an attribute, not a sub-attribute"),
            ));
        }
        let filter = Filter::parse(&text[open + 1..close]).map_err(|e| {
            ScimError::bad(
                ScimType::InvalidPath,
                format!("in the path {text:?}: {}", e.detail),
            )
        })?;
        let rest = &text[close + 1..];
        if let Some(sub) = rest.strip_prefix('.') {
            attr.sub = Some(sub.to_owned());
        } else if !rest.is_empty() {
            return Err(ScimError::bad(
                ScimType::InvalidPath,
                format!("{text:?}: only .subAttribute may follow ]"),
            ));
        }
        Ok(Target {
            attr,
            filter: Some(filter),
        })
    }
}

/// Reads a PatchOp message.
pub fn parse(body: &Value) -> Result<Vec<Operation>, ScimError> {
    let ops = body
        .as_object()
        .and_then(|o| path::get_ci(o, "Operations"))
        .and_then(Value::as_array)
        .ok_or_else(|| {
            syntax("a PATCH body is {\"schemas\": [\"urn:ietf:params:scim:api:messages:2.0:PatchOp\"], \"Operations\": [...]}")
        })?;
    ops.iter()
        .enumerate()
        .map(|(i, op)| {
            let o = op
                .as_object()
                .ok_or_else(|| syntax(format!("operation {} is not an object", i + 1)))?;
            let kind = match path::get_ci(o, "op")
                .and_then(Value::as_str)
                .map(str::to_ascii_lowercase)
            {
                Some(k) if k == "add" => Kind::Add,
                Some(k) if k == "remove" => Kind::Remove,
                Some(k) if k == "replace" => Kind::Replace,
                other => {
                    return Err(syntax(format!(
                        "operation {}: op is {}, not add, remove or replace",
                        i + 1,
                        other.map_or("missing".into(), |k| format!("{k:?}"))
                    )));
                }
            };
            let target = match path::get_ci(o, "path") {
                Some(Value::String(p)) if !p.is_empty() => Some(Target::parse(p)?),
                Some(Value::String(_)) | Some(Value::Null) | None => None,
                Some(_) => {
                    return Err(syntax(format!("operation {}: path is not a string", i + 1)));
                }
            };
            let value = path::get_ci(o, "value").cloned();
            if kind == Kind::Remove && target.is_none() {
                return Err(ScimError::bad(
                    ScimType::NoTarget,
                    format!("operation {}: remove needs a path", i + 1),
                ));
            }
            if kind != Kind::Remove && value.is_none() {
                return Err(syntax(format!(
                    "operation {}: {kind:?} needs a value",
                    i + 1
                )));
            }
            Ok(Operation {
                kind,
                target,
                value,
            })
        })
        .collect()
}

/// Applies the operations in order; any that fails leaves `doc` as it was.
pub fn apply(
    doc: &mut Map<String, Value>,
    ops: &[Operation],
    schema: &Schema,
) -> Result<(), ScimError> {
    let mut work = doc.clone();
    for op in ops {
        match &op.target {
            None => {
                let value = op
                    .value
                    .as_ref()
                    .and_then(Value::as_object)
                    .ok_or_else(|| {
                        syntax(format!(
                            "a {:?} without a path takes an object of attributes",
                            op.kind
                        ))
                    })?;
                for (key, v) in value {
                    pathless(&mut work, op.kind, key, v, schema)?;
                }
            }
            Some(t) if whole_extension(t, schema).is_some() => {
                let uri = whole_extension(t, schema).expect("checked");
                match (op.kind, &op.value) {
                    (Kind::Remove, _) => {
                        if let Some(k) = path::key_of(&work, uri) {
                            work.remove(&k);
                        }
                    }
                    (kind, Some(v)) => pathless(&mut work, kind, uri, v, schema)?,
                    (_, None) => {}
                }
            }
            Some(t) => {
                if schema.is_read_only(&t.attr) {
                    return Err(ScimError::bad(
                        ScimType::Mutability,
                        format!("{} is read-only", t.attr.dotted()),
                    ));
                }
                at(&mut work, op.kind, t, op.value.as_ref(), schema)?;
            }
        }
    }
    normalize(&mut work, schema);
    *doc = work;
    Ok(())
}

/// The extension URI a path names whole (`urn:…:enterprise:2.0:User`), which reads like an
/// attribute `User` of a schema `urn:…:enterprise:2.0`.
fn whole_extension(t: &Target, schema: &Schema) -> Option<&'static str> {
    let uri = schema.extension_uri()?;
    let named = format!("{}:{}", t.attr.uri.as_deref()?, t.attr.attr);
    (t.filter.is_none() && t.attr.sub.is_none() && named.eq_ignore_ascii_case(uri)).then_some(uri)
}

fn pathless(
    doc: &mut Map<String, Value>,
    kind: Kind,
    key: &str,
    v: &Value,
    schema: &Schema,
) -> Result<(), ScimError> {
    // An extension's attributes as one object under its URI.
    if let Some(uri) = schema.extension_uri()
        && key.eq_ignore_ascii_case(uri)
        && let Some(inner) = v.as_object()
    {
        for (k, v) in inner {
            let mut p = AttrPath::parse(k)?;
            p.uri = Some(uri.to_owned());
            at(doc, kind, &Target::of(p), Some(v), schema)?;
        }
        return Ok(());
    }
    let p = AttrPath::parse(key)?;
    // Okta's group rename sends the id with the new name; read-only values are not changed.
    if schema.is_read_only(&p) || key.eq_ignore_ascii_case("schemas") {
        return Ok(());
    }
    at(doc, kind, &Target::of(p), Some(v), schema)
}

fn at(
    doc: &mut Map<String, Value>,
    kind: Kind,
    t: &Target,
    value: Option<&Value>,
    schema: &Schema,
) -> Result<(), ScimError> {
    let a = &t.attr;
    let name = schema.canonical(None, a.uri.as_deref(), &a.attr);
    let holder = path::container_mut(doc, a, schema.core)?;
    let key = path::key_of(holder, &a.attr).unwrap_or(name.clone());
    let multi = schema.is_multi(a) || holder.get(&key).is_some_and(Value::is_array);

    if let Some(filter) = &t.filter {
        let items = holder
            .entry(key.clone())
            .or_insert_with(|| Value::Array(Vec::new()));
        if !items.is_array() {
            *items = Value::Array(vec![items.take()]);
        }
        let list = items.as_array_mut().expect("made an array");
        let hits: Vec<usize> = list
            .iter()
            .enumerate()
            .filter(|(_, e)| {
                e.as_object()
                    .is_some_and(|o| filter.matches_element(o, schema, &name))
            })
            .map(|(i, _)| i)
            .collect();
        if kind == Kind::Remove {
            let mut i = 0;
            list.retain_mut(|e| {
                let hit = hits.contains(&i);
                i += 1;
                match (&a.sub, hit) {
                    (_, false) => true,
                    (None, true) => false,
                    (Some(sub), true) => {
                        if let Some(o) = e.as_object_mut()
                            && let Some(k) = path::key_of(o, sub)
                        {
                            o.remove(&k);
                        }
                        true
                    }
                }
            });
            if list.is_empty() {
                holder.remove(&key);
            }
            return Ok(());
        }
        let v = value.cloned().unwrap_or(Value::Null);
        if hits.is_empty() {
            // `emails[type eq "work"].value` for an element that is not there yet: add it,
            // as Entra ID expects, when the filter says what the element is.
            if let (Some(sub), Filter::Compare(fp, Op::Eq, fv)) = (&a.sub, filter)
                && fp.sub.is_none()
            {
                let mut e = Map::new();
                e.insert(schema.canonical(Some(&name), None, &fp.attr), fv.clone());
                e.insert(schema.canonical(Some(&name), None, sub), v);
                list.push(Value::Object(e));
                return Ok(());
            }
            return Err(ScimError::bad(
                ScimType::NoTarget,
                format!("no element of {name} matches the path's filter"),
            ));
        }
        for i in hits {
            let e = &mut list[i];
            match &a.sub {
                Some(sub) => {
                    if let Some(o) = e.as_object_mut() {
                        let k = path::key_of(o, sub)
                            .unwrap_or_else(|| schema.canonical(Some(&name), None, sub));
                        o.insert(k, v.clone());
                    }
                }
                None => match (kind, e.as_object_mut(), v.as_object()) {
                    (Kind::Add, Some(o), Some(new)) => merge(o, new),
                    _ => *e = v.clone(),
                },
            }
        }
        return Ok(());
    }

    if let Some(sub) = &a.sub {
        let sub_key = schema.canonical(Some(&name), a.uri.as_deref(), sub);
        let slot = holder
            .entry(key.clone())
            .or_insert_with(|| Value::Object(Map::new()));
        let set = |o: &mut Map<String, Value>| {
            let k = path::key_of(o, sub).unwrap_or(sub_key.clone());
            match kind {
                Kind::Remove => {
                    o.remove(&k);
                }
                _ => {
                    o.insert(k, value.cloned().unwrap_or(Value::Null));
                }
            }
        };
        match &mut *slot {
            Value::Object(o) => set(o),
            Value::Array(list) => list
                .iter_mut()
                .filter_map(Value::as_object_mut)
                .for_each(set),
            other => {
                let mut o = Map::new();
                set(&mut o);
                *other = Value::Object(o);
            }
        }
        if slot.as_object().is_some_and(Map::is_empty) {
            holder.remove(&key);
        }
        return Ok(());
    }

    match kind {
        Kind::Remove => {
            // Entra: {"op":"Remove","path":"members","value":[{"value":"u1"}]} removes those.
            if let (Some(Value::Array(gone)), Some(Value::Array(list))) =
                (value, holder.get_mut(&key))
            {
                let ids: Vec<&Value> = gone.iter().map(element_value).collect();
                list.retain(|e| !ids.contains(&element_value(e)));
                if list.is_empty() {
                    holder.remove(&key);
                }
            } else {
                holder.remove(&key);
            }
        }
        Kind::Add if multi => {
            let new = match value.cloned().unwrap_or(Value::Null) {
                Value::Array(a) => a,
                Value::Null => Vec::new(),
                v => vec![v],
            };
            let slot = holder
                .entry(key)
                .or_insert_with(|| Value::Array(Vec::new()));
            if !slot.is_array() {
                *slot = Value::Array(vec![slot.take()]);
            }
            let list = slot.as_array_mut().expect("made an array");
            for v in new {
                if !list.iter().any(|e| same_element(e, &v)) {
                    list.push(v);
                }
            }
        }
        Kind::Replace if multi => {
            let new = match value.cloned().unwrap_or(Value::Null) {
                Value::Array(a) => a,
                Value::Null => Vec::new(),
                v => vec![v],
            };
            holder.insert(key, Value::Array(new));
        }
        _ => {
            let v = value.cloned().unwrap_or(Value::Null);
            match (holder.get_mut(&key), v) {
                (Some(Value::Object(old)), Value::Object(new)) => merge(old, &new),
                (_, v) => {
                    holder.insert(key, v);
                }
            }
        }
    }
    Ok(())
}

impl Filter {
    /// Whether an element of the multi-valued attribute `within` matches.
    pub(crate) fn matches_element(
        &self,
        e: &Map<String, Value>,
        schema: &Schema,
        within: &str,
    ) -> bool {
        let wrapped: Map<String, Value> = [(
            within.to_owned(),
            Value::Array(vec![Value::Object(e.clone())]),
        )]
        .into_iter()
        .collect();
        let lifted = Filter::Elements(
            AttrPath {
                uri: None,
                attr: within.to_owned(),
                sub: None,
            },
            Box::new(self.clone()),
        );
        lifted.matches(&wrapped, schema)
    }
}

fn merge(old: &mut Map<String, Value>, new: &Map<String, Value>) {
    for (k, v) in new {
        let key = path::key_of(old, k).unwrap_or_else(|| k.clone());
        old.insert(key, v.clone());
    }
}

fn element_value(e: &Value) -> &Value {
    e.as_object()
        .and_then(|o| path::get_ci(o, "value"))
        .unwrap_or(e)
}

fn same_element(a: &Value, b: &Value) -> bool {
    a == b
        || (a.is_object()
            && b.is_object()
            && element_value(a) == element_value(b)
            && !element_value(a).is_object())
}

/// Puts a resource into the schema's shape: attribute names spelled as the schema spells them,
/// and booleans sent as strings (`"False"`) made booleans.
pub fn normalize(doc: &mut Map<String, Value>, schema: &Schema) {
    let uri = schema.extension_uri();
    let renamed: Vec<(String, Value)> = std::mem::take(doc).into_iter().collect();
    for (k, mut v) in renamed {
        let is_ext = uri.is_some_and(|u| k.eq_ignore_ascii_case(u));
        let name = if is_ext {
            uri.expect("checked").to_owned()
        } else {
            schema.canonical(None, None, &k)
        };
        if is_ext {
            if let Some(o) = v.as_object_mut() {
                shape(o, schema, uri, None);
            }
        } else {
            shape_value(&mut v, schema, None, &name);
        }
        doc.insert(name, v);
    }
}

fn shape(o: &mut Map<String, Value>, schema: &Schema, uri: Option<&str>, within: Option<&str>) {
    let entries: Vec<(String, Value)> = std::mem::take(o).into_iter().collect();
    for (k, mut v) in entries {
        let name = schema.canonical(within, uri, &k);
        if within.is_none() {
            shape_value(&mut v, schema, uri, &name);
        } else {
            boolean(&mut v, schema, within, uri, &name);
        }
        o.insert(name, v);
    }
}

fn shape_value(v: &mut Value, schema: &Schema, uri: Option<&str>, name: &str) {
    match v {
        Value::Object(o) => shape(o, schema, uri, Some(name)),
        Value::Array(items) => {
            for i in items {
                if let Value::Object(o) = i {
                    shape(o, schema, uri, Some(name));
                }
            }
        }
        _ => boolean(v, schema, None, uri, name),
    }
}

fn boolean(v: &mut Value, schema: &Schema, within: Option<&str>, uri: Option<&str>, name: &str) {
    let p = AttrPath {
        uri: uri.map(str::to_owned),
        attr: name.to_owned(),
        sub: None,
    };
    if let Value::String(s) = v
        && schema.is_boolean(within, &p)
    {
        if s.eq_ignore_ascii_case("true") {
            *v = Value::Bool(true);
        } else if s.eq_ignore_ascii_case("false") {
            *v = Value::Bool(false);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn patched(doc: Value, ops: Value, schema: &Schema) -> Result<Value, ScimError> {
        let Value::Object(mut d) = doc else {
            panic!("a resource is an object")
        };
        let mut body = json!({"schemas": [crate::PATCH_OP]});
        body["Operations"] = ops;
        let ops = parse(&body)?;
        apply(&mut d, &ops, schema)?;
        Ok(Value::Object(d))
    }

    #[test]
    fn entra_capitalised_ops_string_booleans_and_dotted_keys() {
        let user =
            json!({"userName": "a", "active": true, "name": {"givenName": "A", "familyName": "B"}});
        let s = Schema::user();
        let out = patched(
            user.clone(),
            json!([{"op": "Replace", "path": "active", "value": "False"}]),
            &s,
        )
        .unwrap();
        assert_eq!(out["active"], json!(false));
        let out = patched(
            user,
            json!([{"op": "replace", "value": {"name.givenName": "Ann", "displayName": "Ann B", "active": "True"}}]),
            &s,
        )
        .unwrap();
        assert_eq!(out["name"], json!({"givenName": "Ann", "familyName": "B"}));
        assert_eq!(
            (out["displayName"].clone(), out["active"].clone()),
            (json!("Ann B"), json!(true))
        );
    }

    #[test]
    fn okta_pathless_active_and_value_path_filters() {
        let s = Schema::user();
        let user = json!({"userName": "a", "active": true, "emails": [{"value": "a@x", "type": "work", "primary": true}]});
        let out = patched(
            user.clone(),
            json!([{"op": "replace", "value": {"active": false}}]),
            &s,
        )
        .unwrap();
        assert_eq!(out["active"], json!(false));
        let out = patched(
            user.clone(),
            json!([{"op": "replace", "path": "emails[type eq \"work\"].value", "value": "b@x"}]),
            &s,
        )
        .unwrap();
        assert_eq!(
            out["emails"],
            json!([{"value": "b@x", "type": "work", "primary": true}])
        );
        // A missing element named by an eq filter is added; other misses are noTarget.
        let out = patched(
            user.clone(),
            json!([{"op": "Replace", "path": "emails[type eq \"home\"].value", "value": "h@x"}]),
            &s,
        )
        .unwrap();
        assert_eq!(out["emails"][1], json!({"type": "home", "value": "h@x"}));
        let e = patched(
            user,
            json!([{"op": "replace", "path": "emails[type co \"zz\"]", "value": {"value": "z"}}]),
            &s,
        )
        .unwrap_err();
        assert_eq!(e.scim_type, Some(ScimType::NoTarget));
    }

    #[test]
    fn members_are_added_once_and_removed_by_filter_or_by_value_array() {
        let s = Schema::group();
        let group = json!({"displayName": "G", "members": [{"value": "u1"}, {"value": "u2"}]});
        let out = patched(
            group.clone(),
            json!([
                {"op": "remove", "path": "members[value eq \"u1\"]"},
                {"op": "add", "path": "members", "value": [{"value": "u2"}, {"value": "u3", "display": "U3"}]}
            ]),
            &s,
        )
        .unwrap();
        assert_eq!(
            out["members"],
            json!([{"value": "u2"}, {"value": "u3", "display": "U3"}])
        );
        let out = patched(
            group.clone(),
            json!([{"op": "Remove", "path": "members", "value": [{"value": "u2"}]}]),
            &s,
        )
        .unwrap();
        assert_eq!(out["members"], json!([{"value": "u1"}]));
        let out = patched(
            group.clone(),
            json!([{"op": "replace", "path": "members", "value": []}]),
            &s,
        )
        .unwrap();
        assert_eq!(out["members"], json!([]));
        let out = patched(group, json!([{"op": "remove", "path": "members"}]), &s).unwrap();
        assert!(out.get("members").is_none());
    }

    #[test]
    fn extension_attributes_by_uri_path_and_by_object() {
        let s = Schema::user();
        let ext = crate::ENTERPRISE_USER;
        let out = patched(
            json!({"userName": "a"}),
            json!([
                {"op": "add", "path": format!("{ext}:department"), "value": "Sales"},
                {"op": "add", "value": {ext: {"manager": {"value": "m1"}}}}
            ]),
            &s,
        )
        .unwrap();
        assert_eq!(
            out[ext],
            json!({"department": "Sales", "manager": {"value": "m1"}})
        );
    }

    #[test]
    fn refusals_name_the_cause_and_leave_the_resource_unchanged() {
        let s = Schema::user();
        let user = json!({"userName": "a"});
        for (ops, kind) in [
            (json!([{"op": "remove"}]), ScimType::NoTarget),
            (
                json!([{"op": "move", "path": "x"}]),
                ScimType::InvalidSyntax,
            ),
            (
                json!([{"op": "add", "path": "id", "value": "x"}]),
                ScimType::Mutability,
            ),
            (
                json!([{"op": "add", "path": "emails[type eq]", "value": "x"}]),
                ScimType::InvalidPath,
            ),
            (
                json!([{"op": "add", "value": "x"}]),
                ScimType::InvalidSyntax,
            ),
        ] {
            assert_eq!(
                patched(user.clone(), ops.clone(), &s)
                    .unwrap_err()
                    .scim_type,
                Some(kind),
                "{ops}"
            );
        }
        let mut d = user.as_object().unwrap().clone();
        let ops = parse(&json!({"Operations": [
            {"op": "add", "path": "title", "value": "x"},
            {"op": "add", "path": "id", "value": "y"}
        ]}))
        .unwrap();
        assert!(apply(&mut d, &ops, &s).is_err());
        assert_eq!(Value::Object(d), user);
    }
}
