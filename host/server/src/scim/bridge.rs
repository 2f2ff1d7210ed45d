//! The bridge: SCIM requests in, mageflow runs of the root's workflow out. Every change that
//! reaches Magento is one run (durable, exactly once, audited, visible in runs and metrics),
//! queued under a dedupe key made of the resource, the change and how many changes settled
//! before it, so an identity provider's retry joins the run instead of starting another.

use std::collections::BTreeMap;
use std::sync::Arc;

use mageflow_model::{Event, Operations, now_secs, rfc3339};
use mageflow_scim::{
    Kind, Schema, ScimError, ScimType, patch, query::ListQuery, query::Projection,
};
use mageflow_store::{Queued, Run, Status};
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};
use tokio::sync::Mutex;

use super::account::{Account, Plan, plan};
use super::config::{Risk, RootConfig, ScimConfig, Target};
use super::records::{InFlight, Record, Rejected};

/// The approval state a resource shows while its change waits or after it was rejected.
pub const APPROVAL_EXTENSION: &str = "urn:mageflow:params:scim:schemas:extension:approval:2.0:User";

/// The most resources a list answers at once.
pub(crate) const MAX_RESULTS: usize = 200;

/// One request's context.
#[derive(Debug, Clone)]
pub(crate) struct Ctx<'a> {
    pub(crate) root: &'a RootConfig,
    /// `http://host/scim/v2/admin`.
    pub(crate) base: String,
    /// The principal the runs are requested by.
    pub(crate) who: String,
    /// The identity provider's request id, or one of ours.
    pub(crate) request: String,
}

impl Ctx<'_> {
    fn scope(&self, kind: Kind) -> String {
        format!("{}/{}", self.root.target.name(), kind.name())
    }
}

/// The SCIM side of the server.
#[derive(Debug)]
pub(crate) struct Bridge {
    pub(crate) engine: Arc<dyn Operations>,
    pub(crate) config: ScimConfig,
    /// Writes of one root, one at a time (uniqueness checks and group membership read what
    /// the last write left).
    locks: BTreeMap<&'static str, Mutex<()>>,
}

fn internal(e: impl std::fmt::Display) -> ScimError {
    ScimError::new(500, format!("mageflow could not keep the change: {e}"))
}

fn digest(v: &Value) -> String {
    Sha256::digest(v.to_string().as_bytes())
        .iter()
        .take(12)
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn fresh_id() -> String {
    let seed = rand::random::<[u8; 16]>();
    let h: String = seed.iter().map(|b| format!("{b:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &h[..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..]
    )
}

/// A failed run's error as the identity provider reads it: the plugin's
/// `scim:<status>:<scimType>:<detail>`, else a 500 naming the run.
fn refusal(run: &Run) -> ScimError {
    let text = run.error.clone().unwrap_or_default();
    if let Some(at) = text.find("scim:") {
        let mut parts = text[at + 5..].splitn(3, ':');
        let status = parts
            .next()
            .and_then(|s| s.parse::<u16>().ok())
            .unwrap_or(500);
        let kind = match parts.next().unwrap_or("") {
            "uniqueness" => Some(ScimType::Uniqueness),
            "invalidValue" => Some(ScimType::InvalidValue),
            _ => None,
        };
        let detail = parts.next().unwrap_or("").trim().to_owned();
        return ScimError {
            status,
            scim_type: kind,
            detail: format!("{detail} (mageflow run {})", run.id),
        };
    }
    ScimError::new(500, format!("mageflow run {} failed: {text}", run.id))
}

impl Bridge {
    pub(crate) fn new(engine: Arc<dyn Operations>, config: ScimConfig) -> Bridge {
        let locks = [Target::Admin, Target::Customers]
            .into_iter()
            .map(|t| (t.name(), Mutex::new(())))
            .collect();
        Bridge {
            engine,
            config,
            locks,
        }
    }

    async fn lock(&self, ctx: &Ctx<'_>) -> tokio::sync::MutexGuard<'_, ()> {
        self.locks[ctx.root.target.name()].lock().await
    }

    fn load(&self, ctx: &Ctx<'_>, kind: Kind, id: &str) -> Result<Option<Record>, ScimError> {
        Ok(self
            .engine
            .store()
            .scim_get(&ctx.scope(kind), id)
            .map_err(internal)?
            .and_then(Record::from_value))
    }

    fn save(
        &self,
        ctx: &Ctx<'_>,
        kind: Kind,
        r: &Record,
        old_name: Option<&str>,
    ) -> Result<(), ScimError> {
        self.engine
            .store()
            .scim_put(&ctx.scope(kind), r.id(), &r.name(), old_name, &r.to_value())
            .map_err(internal)
    }

    fn all(&self, ctx: &Ctx<'_>, kind: Kind) -> Result<Vec<Record>, ScimError> {
        let mut all: Vec<Record> = self
            .engine
            .store()
            .scim_list(&ctx.scope(kind))
            .map_err(internal)?
            .into_iter()
            .filter_map(Record::from_value)
            .collect();
        all.sort_by(|a, b| (a.created, a.id()).cmp(&(b.created, b.id())));
        Ok(all)
    }

    /// Brings a record's change in flight up to date with its run.
    fn settle(&self, ctx: &Ctx<'_>, kind: Kind, r: Record) -> Result<Record, ScimError> {
        let Some(InFlight { run, key, .. }) = r.pending.clone() else {
            return Ok(r);
        };
        // The record is written before its run is queued, and linked to it after; a crash
        // in between leaves the key to find it by.
        let found = match run {
            Some(id) => Some(id),
            None => self.engine.store().dedupe_run(&key).map_err(internal)?,
        };
        let Some(id) = found else {
            return Ok(r);
        };
        let run = self.engine.store().run(id).map_err(internal)?;
        if !run.status.is_final() {
            return Ok(r);
        }
        self.settle_run(ctx, kind, r, &run)
    }

    /// Settles a record with its run as it stands: a final run's outcome lands in the record;
    /// a run still going is linked. The record is saved either way.
    fn settle_run(
        &self,
        ctx: &Ctx<'_>,
        kind: Kind,
        mut r: Record,
        run: &Run,
    ) -> Result<Record, ScimError> {
        let id = run.id;
        let Some(InFlight {
            fingerprint,
            hard_delete,
            ..
        }) = r.pending.clone()
        else {
            return Ok(r);
        };
        if !run.status.is_final() {
            if let Some(p) = r.pending.as_mut() {
                p.run = Some(id);
            }
            self.save(ctx, kind, &r, None)?;
            return Ok(r);
        }
        let out: Value = run
            .output_json
            .as_deref()
            .and_then(|o| serde_json::from_str(o).ok())
            .unwrap_or(Value::Null);
        r.pending = None;
        r.settled += 1;
        let rejected = out.get("rejected").cloned();
        match (run.status, rejected) {
            (Status::Succeeded, None) => {
                if hard_delete {
                    r.magento = None;
                } else {
                    if let Some(m) = out
                        .get("admin")
                        .or_else(|| out.get("customer"))
                        .and_then(|a| a.get("id"))
                        .and_then(Value::as_u64)
                    {
                        r.magento = Some(m);
                    }
                    r.applied = Some(r.doc.clone());
                }
            }
            (status, rejected) => {
                if !hard_delete {
                    match r.applied.clone() {
                        Some(a) => r.doc = a,
                        None => r.deleted = true,
                    }
                }
                // A rejection refuses the same change sent again; a failure does not (the
                // next attempt is a new run, which may succeed).
                match rejected {
                    Some(j) => {
                        let detail = format!(
                            "the change was rejected by {} ({}); change the request, or ask an approver of workflow {}",
                            j["by"].as_str().unwrap_or("an approver"),
                            j["why"].as_str().unwrap_or(""),
                            ctx.root.workflow
                        );
                        r.rejected = Some(Rejected {
                            fingerprint,
                            detail,
                        });
                    }
                    None => tracing::warn!(
                        run = id,
                        status = status.name(),
                        error = %refusal(run).detail,
                        "a SCIM change failed and was undone in the SCIM view"
                    ),
                }
            }
        }
        r.modified = now_secs();
        self.save(ctx, kind, &r, None)?;
        Ok(r)
    }

    /// Queues (or joins) the run of a change and carries it as far as it goes now.
    async fn run(
        &self,
        ctx: &Ctx<'_>,
        resource: &str,
        steps: &[Value],
        approval: Option<Value>,
        key: &str,
    ) -> Result<Run, ScimError> {
        let input = json!({"request": ctx.request, "resource": resource, "approval": approval, "steps": steps});
        let event = Event::Manual {
            input: input.to_string(),
        };
        let queued = self
            .engine
            .queue(
                &ctx.root.workflow,
                &[event],
                &ctx.who,
                false,
                Some(key),
                None,
            )
            .map_err(internal)?;
        let id = match queued {
            Queued::Runs(runs) => runs
                .first()
                .map(|r| r.id)
                .ok_or_else(|| internal("no run was queued"))?,
            Queued::Duplicate(id) => id,
        };
        let run = self.engine.store().run(id).map_err(internal)?;
        if run.status == Status::Queued || run.status == Status::Running {
            return self
                .engine
                .execute(id)
                .await
                .map_err(|e| internal(e.with_causes()));
        }
        Ok(run)
    }

    fn approval(&self, ctx: &Ctx<'_>, title: &str, p: &Plan) -> Option<Value> {
        let gated: Vec<&str> = p
            .risks
            .iter()
            .filter(|r| ctx.root.gates(**r))
            .map(|r| r.name())
            .collect();
        (!gated.is_empty()).then(|| {
            json!({
                "title": title,
                "summary": format!("SCIM request {} from {} on /scim/v2/{}: {}", ctx.request, ctx.who, ctx.root.target.name(), gated.join(", ")),
                "details": {"changes": p.changes, "needs-approval": gated},
            })
        })
    }

    /// The role or customer group a user's groups map to.
    fn mapped_group(&self, ctx: &Ctx<'_>, user: &str) -> Result<u32, ScimError> {
        let groups = self.all(ctx, Kind::Group)?;
        for m in &ctx.root.groups {
            let hit = groups.iter().filter(|g| !g.deleted).any(|g| {
                let named = g.name().eq_ignore_ascii_case(&m.group)
                    || g.doc.get("externalId").and_then(Value::as_str) == Some(&m.group);
                named && members(&g.doc).iter().any(|v| v == user)
            });
            if hit {
                return Ok(m.target);
            }
        }
        Ok(ctx.root.default_target)
    }

    /// Makes what this request wrote durable (a request that ran a Magento write needs none:
    /// the write's intent was flushed after the record, and what followed is read back from
    /// the run).
    fn flush(&self) -> Result<(), ScimError> {
        self.engine.store().flush().map_err(internal)
    }

    /// Records the change as in flight, queues (or joins) its run under a dedupe key of the
    /// resource, the change and the changes settled before it, and runs it as far as it goes
    /// ([`Bridge::settle_run`] then links the record to it).
    #[allow(
        clippy::too_many_arguments,
        reason = "one call site each for users and deletes"
    )]
    async fn launch(
        &self,
        ctx: &Ctx<'_>,
        kind: Kind,
        r: &mut Record,
        steps: &[Value],
        approval: Option<Value>,
        fingerprint: &str,
        hard_delete: bool,
        old_name: Option<&str>,
    ) -> Result<Run, ScimError> {
        let id = r.id().to_owned();
        let key = format!(
            "scim:{}:{id}:{fingerprint}:{}",
            ctx.root.target.name(),
            r.settled
        );
        r.pending = Some(InFlight {
            run: None,
            fingerprint: fingerprint.to_owned(),
            hard_delete,
            key: key.clone(),
        });
        self.save(ctx, kind, r, old_name)?;
        self.run(ctx, &id, steps, approval, &key).await
    }

    /// Takes Magento from the record's applied document to `doc`, and keeps `doc`.
    async fn write_user(
        &self,
        ctx: &Ctx<'_>,
        mut r: Record,
        doc: Map<String, Value>,
        old_name: Option<String>,
    ) -> Result<Record, ScimError> {
        let id = doc
            .get("id")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_owned();
        let group = self.mapped_group(ctx, &id)?;
        let new = Account::of(&doc, ctx.root, group)?;
        let old = match &r.applied {
            Some(a) => Some(
                Account::of(a, ctx.root, group).or_else(|_| Account::of(&doc, ctx.root, group))?,
            ),
            None => None,
        };
        let old = old.map(|mut o| {
            // The role Magento has is the one last applied; group changes compare against it.
            o.group = r
                .applied
                .as_ref()
                .and_then(|a| a.get("x-magento-group"))
                .and_then(Value::as_u64)
                .map_or(group, |g| g as u32);
            o
        });
        let mut p = plan(ctx.root, r.magento, old.as_ref(), &new);
        let mut doc = doc;
        doc.insert("x-magento-group".into(), json!(group));
        if !p.now.is_empty() {
            // The leaver path: never waits, whatever else is in flight.
            let key = format!(
                "scim:{}:{id}:now:{}:{}",
                ctx.root.target.name(),
                digest(&Value::Array(p.now.clone())),
                r.settled
            );
            let run = self.run(ctx, &id, &p.now, None, &key).await?;
            if run.status != Status::Succeeded {
                return Err(match run.status {
                    Status::Failed => refusal(&run),
                    s => ScimError::new(
                        503,
                        format!(
                            "the deactivation is run {} and is {}: Magento did not answer; it will be applied",
                            run.id,
                            s.name()
                        ),
                    ),
                });
            }
            let mut applied = r.applied.clone().unwrap_or_default();
            applied.insert("active".into(), json!(false));
            r.applied = Some(applied);
            r.settled += 1;
            p.now.clear();
        }
        if p.rest.is_empty() {
            r.doc = doc;
            if r.pending.is_none() {
                r.applied = Some(r.doc.clone());
            }
            r.modified = now_secs();
            r.deleted = false;
            self.save(ctx, Kind::User, &r, old_name.as_deref())?;
            self.flush()?;
            return Ok(r);
        }
        let fingerprint = digest(&json!([id, p.rest]));
        if let Some(f) = &r.pending {
            if f.fingerprint == fingerprint {
                return Ok(r);
            }
            return Err(ScimError::new(
                409,
                format!(
                    "another change to {} waits{} ; send this one again once it is decided",
                    r.name(),
                    f.run
                        .map(|n| format!(" in mageflow run {n} (see mageflow approvals)"))
                        .unwrap_or_default()
                ),
            ));
        }
        if let Some(j) = &r.rejected
            && j.fingerprint == fingerprint
        {
            return Err(ScimError::new(403, j.detail.clone()));
        }
        let title = match (r.magento, ctx.root.target) {
            (None, Target::Admin) => format!("Create admin user {}", new.username),
            (None, Target::Customers) => format!("Create customer {}", new.email),
            (Some(_), Target::Admin) => format!("Change admin user {}", new.username),
            (Some(_), Target::Customers) => format!("Change customer {}", new.email),
        };
        let approval = self.approval(ctx, &title, &p);
        r.doc = doc;
        r.deleted = false;
        r.modified = now_secs();
        let launched = self
            .launch(
                ctx,
                Kind::User,
                &mut r,
                &p.rest,
                approval,
                &fingerprint,
                false,
                old_name.as_deref(),
            )
            .await;
        let run = match launched {
            Ok(run) => run,
            Err(e) => {
                r.pending = None;
                r.doc = r.applied.clone().unwrap_or_default();
                r.deleted = r.applied.is_none();
                self.save(ctx, Kind::User, &r, None)?;
                self.flush()?;
                return Err(e);
            }
        };
        let r = self.settle_run(ctx, Kind::User, r, &run)?;
        if run.status == Status::Failed {
            return Err(refusal(&run));
        }
        if let Some(j) = r.rejected.as_ref().filter(|_| {
            run.status == Status::Succeeded
                && r.pending.is_none()
                && r.applied.as_ref() != Some(&r.doc)
        }) {
            return Err(ScimError::new(403, j.detail.clone()));
        }
        Ok(r)
    }

    /// Reads a record that the identity provider may see.
    fn visible(&self, ctx: &Ctx<'_>, kind: Kind, id: &str) -> Result<Record, ScimError> {
        let r = self.load(ctx, kind, id)?.filter(|r| !r.deleted);
        let r = r.ok_or_else(|| {
            ScimError::not_found(format!(
                "no {} {id} at /scim/v2/{}",
                kind.name(),
                ctx.root.target.name()
            ))
        })?;
        let r = self.settle(ctx, kind, r)?;
        if r.deleted {
            return Err(ScimError::not_found(format!(
                "no {} {id} at /scim/v2/{}",
                kind.name(),
                ctx.root.target.name()
            )));
        }
        Ok(r)
    }

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

    /// Reads a body into a normalized document of `kind`.
    fn document(kind: Kind, body: &Value) -> Result<Map<String, Value>, ScimError> {
        let mut doc = body.as_object().cloned().ok_or_else(|| {
            ScimError::bad(ScimType::InvalidSyntax, "the body is not a JSON object")
        })?;
        patch::normalize(&mut doc, &Schema::of(kind));
        for k in ["meta", "groups", "x-magento-group"] {
            doc.remove(k);
        }
        // Passwords are never kept or forwarded (see the README's SCIM section).
        doc.remove("password");
        Ok(doc)
    }

    fn check_name(
        &self,
        ctx: &Ctx<'_>,
        kind: Kind,
        doc: &Map<String, Value>,
        id: &str,
    ) -> Result<String, ScimError> {
        let field = kind.unique_attribute();
        let name = doc
            .get(field)
            .and_then(Value::as_str)
            .filter(|s| !s.trim().is_empty())
            .ok_or_else(|| ScimError::bad(ScimType::InvalidValue, format!("{field} is required")))?
            .to_owned();
        if let Some(other) = self
            .engine
            .store()
            .scim_named(&ctx.scope(kind), &name)
            .map_err(internal)?
            && other != id
            && self
                .load(ctx, kind, &other)?
                .is_some_and(|o| !o.deleted || o.pending.is_some())
        {
            return Err(ScimError::conflict(format!(
                "{field} {name:?} is taken by {} {other}",
                kind.name()
            )));
        }
        Ok(name)
    }

    /// `POST /{kind}`: the resource and whether it was created now (201) or joined (a retry).
    pub(crate) async fn create(
        &self,
        ctx: &Ctx<'_>,
        kind: Kind,
        body: &Value,
    ) -> Result<Value, ScimError> {
        let _one = self.lock(ctx).await;
        let mut doc = Bridge::document(kind, body)?;
        let field = kind.unique_attribute();
        let name = doc
            .get(field)
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_owned();
        // A retry of a create that waits, or one that was rejected, reuses its record.
        let existing = match self
            .engine
            .store()
            .scim_named(&ctx.scope(kind), &name)
            .map_err(internal)?
        {
            Some(id) => self
                .load(ctx, kind, &id)?
                .map(|r| self.settle(ctx, kind, r))
                .transpose()?,
            None => None,
        };
        let now = now_secs();
        let mut r = match existing {
            Some(r) if !r.deleted && r.pending.is_none() => {
                return Err(ScimError::conflict(format!(
                    "{field} {name:?} is taken by {} {}",
                    kind.name(),
                    r.id()
                )));
            }
            Some(r) => r,
            None => Record {
                created: now,
                modified: now,
                ..Record::default()
            },
        };
        let id = if r.id().is_empty() {
            fresh_id()
        } else {
            r.id().to_owned()
        };
        doc.insert("id".into(), json!(id));
        self.check_name(ctx, kind, &doc, &id)?;
        if r.doc.is_empty() {
            r.doc = doc.clone();
        }
        let r = match kind {
            Kind::User => self.write_user(ctx, r, doc, None).await?,
            Kind::Group => {
                r.doc = doc;
                r.deleted = false;
                r.modified = now;
                self.save(ctx, kind, &r, None)?;
                self.flush()?;
                self.sync_members(ctx, &[], &members(&r.doc)).await?;
                r
            }
        };
        let groups = self.all(ctx, Kind::Group)?;
        Ok(Value::Object(self.render(ctx, kind, &r, &groups)))
    }

    /// `PUT` (`patch: None`) or `PATCH` of `/{kind}/{id}`.
    pub(crate) async fn change(
        &self,
        ctx: &Ctx<'_>,
        kind: Kind,
        id: &str,
        body: &Value,
        is_patch: bool,
    ) -> Result<Value, ScimError> {
        let _one = self.lock(ctx).await;
        let r = self.visible(ctx, kind, id)?;
        let schema = Schema::of(kind);
        let mut doc = if is_patch {
            let ops = patch::parse(body)?;
            let mut d = r.doc.clone();
            patch::apply(&mut d, &ops, &schema)?;
            d
        } else {
            let mut d = Bridge::document(kind, body)?;
            // PUT replaces what the client may write; the Magento link stays.
            if let Some(x) = r.doc.get("x-magento-group") {
                d.insert("x-magento-group".into(), x.clone());
            }
            d
        };
        doc.remove("password");
        doc.insert("id".into(), json!(id));
        let old_name = r.name();
        self.check_name(ctx, kind, &doc, id)?;
        let r = match kind {
            Kind::User => self.write_user(ctx, r, doc, Some(old_name)).await?,
            Kind::Group => {
                let before = members(&r.doc);
                let mut r = r;
                r.doc = doc;
                r.modified = now_secs();
                self.save(ctx, kind, &r, Some(&old_name))?;
                self.flush()?;
                let after = members(&r.doc);
                self.sync_members(ctx, &before, &after).await?;
                r
            }
        };
        let groups = self.all(ctx, Kind::Group)?;
        Ok(Value::Object(self.render(ctx, kind, &r, &groups)))
    }

    /// After a group changed: each user whose membership changed gets their mapped role or
    /// customer group (a role upgrade waits where the root gates it).
    async fn sync_members(
        &self,
        ctx: &Ctx<'_>,
        before: &[String],
        after: &[String],
    ) -> Result<(), ScimError> {
        let mut touched: Vec<&String> = before
            .iter()
            .filter(|m| !after.contains(m))
            .chain(after.iter().filter(|m| !before.contains(m)))
            .collect();
        touched.sort();
        touched.dedup();
        for user in touched {
            let Some(r) = self.load(ctx, Kind::User, user)? else {
                continue;
            };
            let r = self.settle(ctx, Kind::User, r)?;
            if r.deleted || r.pending.is_some() || r.magento.is_none() {
                continue;
            }
            let doc = r.doc.clone();
            if let Err(e) = self.write_user(ctx, r, doc, None).await {
                tracing::warn!(user = %user, error = %e, "a group change could not be applied to a member");
            }
        }
        Ok(())
    }

    /// `DELETE /{kind}/{id}`: a user is deactivated at once and hidden; its Magento record is
    /// deleted by a separate run, after an approval where the root gates `hard-delete`.
    pub(crate) async fn delete(
        &self,
        ctx: &Ctx<'_>,
        kind: Kind,
        id: &str,
    ) -> Result<(), ScimError> {
        let _one = self.lock(ctx).await;
        let r = self.visible(ctx, kind, id)?;
        if kind == Kind::Group {
            let before = members(&r.doc);
            self.engine
                .store()
                .scim_remove(&ctx.scope(kind), id, &r.name())
                .map_err(internal)?;
            self.flush()?;
            return self.sync_members(ctx, &before, &[]).await;
        }
        if let Some(p) = &r.pending {
            return Err(ScimError::new(
                409,
                format!(
                    "a change to {} waits{}; decide it first (mageflow approvals), then delete",
                    r.name(),
                    p.run.map(|n| format!(" in run {n}")).unwrap_or_default()
                ),
            ));
        }
        let Some(magento) = r.magento else {
            self.engine
                .store()
                .scim_remove(&ctx.scope(kind), id, &r.name())
                .map_err(internal)?;
            return self.flush();
        };
        let mut doc = r.doc.clone();
        doc.insert("active".into(), json!(false));
        let mut r = self.write_user(ctx, r, doc, None).await?;
        r.deleted = true;
        let step = match ctx.root.target {
            Target::Admin => json!({"do": "delete-admin", "id": magento}),
            Target::Customers => json!({"do": "delete-customer", "id": magento}),
        };
        let p = Plan {
            rest: vec![step.clone()],
            risks: vec![Risk::HardDelete],
            changes: [("deleted".to_owned(), json!({"from": false, "to": true}))]
                .into_iter()
                .collect(),
            ..Plan::default()
        };
        let approval = self.approval(
            ctx,
            &format!(
                "Delete {} {} from Magento",
                if ctx.root.target == Target::Admin {
                    "admin user"
                } else {
                    "customer"
                },
                r.name()
            ),
            &p,
        );
        let fingerprint = digest(&json!([id, [step]]));
        let run = self
            .launch(
                ctx,
                kind,
                &mut r,
                &p.rest,
                approval,
                &fingerprint,
                true,
                None,
            )
            .await?;
        self.settle_run(ctx, kind, r, &run)?;
        Ok(())
    }
}

/// The member ids of a group document.
pub(crate) fn members(doc: &Map<String, Value>) -> Vec<String> {
    doc.get("members")
        .and_then(Value::as_array)
        .map(|m| {
            m.iter()
                .filter_map(|e| e.get("value").and_then(Value::as_str).map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}
