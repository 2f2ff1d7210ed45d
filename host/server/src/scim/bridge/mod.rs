//! The bridge: SCIM requests in, mageflow runs of the root's workflow out. Every change that
//! reaches Magento is one run (durable, exactly once, audited, visible in runs and metrics),
//! queued under a dedupe key made of the resource, the change and how many changes settled
//! before it, so an identity provider's retry joins the run instead of starting another.

use std::collections::BTreeMap;
use std::sync::Arc;

use mageflow_model::{Event, Operations, now_secs};
use mageflow_scim::{Kind, Schema, ScimError, ScimType, patch};
use mageflow_store::{Queued, Run, Status};
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};
use tokio::sync::Mutex;

use super::account::Plan;
use super::config::{RootConfig, ScimConfig, Target};
use super::records::{InFlight, Record, Rejected};

mod reads;
mod writes;

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
        // A run just queued is the one `queue` answered; only a joined one is read back.
        let run = match queued {
            Queued::Runs(mut runs) => runs.pop().ok_or_else(|| internal("no run was queued"))?,
            Queued::Duplicate(id) => self.engine.store().run(id).map_err(internal)?,
            Queued::Moved => return Err(internal("no run was queued")),
        };
        let id = run.id;
        if run.status == Status::Queued || run.status == Status::Running {
            return self
                .engine
                .settle(id)
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
