//! What the identity provider changes: users (each Magento change a run, the leaver path
//! first and never waiting), groups (their members' roles or customer groups follow), and
//! deletes (a deactivation at once, the hard delete a second run).

use mageflow_model::now_secs;
use mageflow_scim::{Kind, Schema, ScimError, ScimType, patch};
use mageflow_store::Status;
use serde_json::{Map, Value, json};

use super::{Bridge, Ctx, digest, fresh_id, internal, members, refusal};
use crate::scim::account::{Account, Plan, plan};
use crate::scim::config::{Risk, Target};
use crate::scim::records::Record;

impl Bridge {
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
