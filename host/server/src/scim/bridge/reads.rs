//! What the identity provider reads: a resource as served (with its groups, `meta` and the
//! approval state of a change that waits), one by id, and lists and searches.

use mageflow_model::rfc3339;
use mageflow_scim::query::{ListQuery, Projection};
use mageflow_scim::{Kind, Schema, ScimError};
use serde_json::{Map, Value, json};

use super::{APPROVAL_EXTENSION, Bridge, Ctx, members};
use crate::scim::records::Record;

impl Bridge {
    /// A resource as served.
    pub(crate) fn render(
        &self,
        ctx: &Ctx<'_>,
        kind: Kind,
        r: &Record,
        groups: &[Record],
    ) -> Map<String, Value> {
        let schema = Schema::of(kind);
        let mut out = Map::new();
        let mut schemas = vec![json!(schema.core)];
        if let Some(ext) = schema.extension_uri()
            && r.doc.contains_key(ext)
        {
            schemas.push(json!(ext));
        }
        out.insert("schemas".into(), json!(schemas));
        out.insert("id".into(), json!(r.id()));
        for (k, v) in &r.doc {
            if ![
                "id",
                "schemas",
                "meta",
                "password",
                "groups",
                "x-magento-group",
            ]
            .contains(&k.as_str())
            {
                out.insert(k.clone(), v.clone());
            }
        }
        if kind == Kind::User {
            let mine: Vec<Value> = groups
                .iter()
                .filter(|g| !g.deleted && members(&g.doc).iter().any(|m| m == r.id()))
                .map(|g| json!({"value": g.id(), "display": g.name(), "$ref": format!("{}/Groups/{}", ctx.base, g.id())}))
                .collect();
            if !mine.is_empty() {
                out.insert("groups".into(), Value::Array(mine));
            }
            let state = match (&r.pending, &r.rejected) {
                (Some(p), _) => Some(json!({"state": "pending", "run": p.run})),
                _ => None,
            };
            if let Some(s) = state {
                out.insert(APPROVAL_EXTENSION.into(), s);
                if let Some(Value::Array(list)) = out.get_mut("schemas") {
                    list.push(json!(APPROVAL_EXTENSION));
                }
            }
        }
        out.insert(
            "meta".into(),
            json!({
                "resourceType": kind.name(),
                "created": rfc3339(r.created),
                "lastModified": rfc3339(r.modified),
                "location": format!("{}{}/{}", ctx.base, kind.endpoint(), r.id()),
            }),
        );
        out
    }

    /// `GET /{kind}/{id}`.
    pub(crate) fn get(
        &self,
        ctx: &Ctx<'_>,
        kind: Kind,
        id: &str,
        projection: &Projection,
    ) -> Result<Value, ScimError> {
        let r = self.visible(ctx, kind, id)?;
        let groups = if kind == Kind::User {
            self.all(ctx, Kind::Group)?
        } else {
            Vec::new()
        };
        Ok(Value::Object(projection.apply(
            &self.render(ctx, kind, &r, &groups),
            &Schema::of(kind),
        )))
    }

    /// `GET /{kind}?filter=...`.
    pub(crate) fn list(
        &self,
        ctx: &Ctx<'_>,
        kind: Kind,
        q: &ListQuery,
    ) -> Result<Value, ScimError> {
        self.search(ctx, &[kind], q)
    }

    /// The resources of `kinds` that match, in a stable order (users first, then groups,
    /// each by creation), one page of them projected.
    pub(crate) fn search(
        &self,
        ctx: &Ctx<'_>,
        kinds: &[Kind],
        q: &ListQuery,
    ) -> Result<Value, ScimError> {
        let groups = self.all(ctx, Kind::Group)?;
        let schemas = [Schema::user(), Schema::group()];
        let mut docs = Vec::new();
        for &kind in kinds {
            let schema = &schemas[usize::from(kind == Kind::Group)];
            let records = if kind == Kind::Group {
                groups.clone()
            } else {
                self.all(ctx, kind)?
            };
            for r in records {
                let r = if r.pending.is_some() {
                    self.settle(ctx, kind, r)?
                } else {
                    r
                };
                if r.deleted {
                    continue;
                }
                let doc = self.render(ctx, kind, &r, &groups);
                if q.filter.as_ref().is_none_or(|f| f.matches(&doc, schema)) {
                    docs.push((schema, doc));
                }
            }
        }
        let matched: Vec<(&Schema, &Map<String, Value>)> =
            docs.iter().map(|(s, d)| (*s, d)).collect();
        Ok(q.respond(&matched))
    }
}
