//! Writes that land exactly once.
//!
//! A write whose answer never came (a 5xx or 429, a timeout, a dropped connection after the
//! request left) may or may not have landed. It is never sent again blindly: every save moves
//! `updated_at`, fires observers and webhooks, reindexes, and shows as a second write in every
//! audit. Instead the entity is read, and the write is sent again only if it did not land:
//!
//! | write | landed when |
//! |---|---|
//! | PUT-merge of a customer or admin user | every field the patch sets holds the new value |
//! | create a customer | a customer with the email exists (in the website, when given) |
//! | create an admin user | an admin user with the username exists |
//! | delete | the entity answers 404 |
//! | bulk update | Magento's operation log (`GET /V1/bulk`) holds, since the submission, an operation for each customer carrying the patched values |
//!
//! A failure that provably came before the request was sent (a refused connection, DNS) is
//! retried as it is, by the transport. The same check serves a crash: a journal that recorded
//! a write's intent but not its answer asks [`MagentoClient::write`] with `in_doubt`, which
//! looks before it sends at all. There is one reconciler, here.

use std::collections::{BTreeSet, HashMap};
use std::future::Future;
use std::time::{SystemTime, UNIX_EPOCH};

use futures_util::stream::{self, StreamExt, TryStreamExt};
use reqwest::Method;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::admin_users::NewAdminUser;
use crate::bulk::BulkReceipt;
use crate::client::{MagentoClient, Repeat};
use crate::criteria::{Condition, SearchCriteria};
use crate::customers::NewCustomer;
use crate::error::{Error, Result};
use crate::patch::{Change, Patch};
use crate::types::{AdminUser, Customer, Record};

/// The bulk topic of a customer save (`CustomerRepositoryInterface::save`, PUT).
const SAVE_TOPIC: &str = "async.magento.customer.api.customerrepositoryinterface.save.put";

/// How far before a bulk submission the operation log is read, for clock skew between
/// mageflow and Magento.
const CLOCK_SKEW_SECS: u64 = 300;

/// A write to Magento, described so that whether it landed can be checked.
#[derive(Debug, Clone)]
pub enum Write {
    /// Create a customer.
    CreateCustomer(Box<NewCustomer>),
    /// PUT-merge a patch into a customer.
    UpdateCustomer(u64, Patch),
    /// Delete a customer.
    DeleteCustomer(u64),
    /// Read, patch and submit customers as asynchronous bulk updates.
    BulkUpdateCustomers {
        /// Each customer and its patch.
        updates: Vec<(u64, Patch)>,
        /// Operations per bulk request.
        chunk: usize,
        /// Unix seconds no later than the first submission (for a write in doubt, the time
        /// its run began): the operation log is read from there.
        since: u64,
    },
    /// Create an admin user.
    CreateAdminUser(Box<NewAdminUser>),
    /// PUT-merge a patch into an admin user (deactivating is `is_active: false`).
    UpdateAdminUser(u64, Patch),
    /// Delete an admin user.
    DeleteAdminUser(u64),
}

/// What a write left in Magento.
#[derive(Debug, Clone, PartialEq)]
pub enum Wrote {
    /// The customer as saved.
    Customer(Customer),
    /// The admin user as saved.
    AdminUser(AdminUser),
    /// The entity is gone.
    Deleted,
    /// The bulks that carry the updates.
    Receipts(Vec<BulkReceipt>),
}

/// A write carried out, with what it changed, for an audit.
#[derive(Debug, Clone, PartialEq)]
pub struct Written {
    /// Each entity written (`customer 5`) with its fields before and after.
    pub changed: Vec<(String, Vec<Change>)>,
    /// Entities a write in doubt found written already: nothing was sent for them.
    pub landed: Vec<String>,
    /// What Magento holds now.
    pub wrote: Wrote,
}

impl Written {
    fn sent(entity: String, changes: Vec<Change>, wrote: Wrote) -> Written {
        Written {
            changed: vec![(entity, changes)],
            landed: Vec::new(),
            wrote,
        }
    }

    fn found(entity: String, wrote: Wrote) -> Written {
        Written {
            changed: Vec::new(),
            landed: vec![entity],
            wrote,
        }
    }
}

/// The records a single write changes, and how each is addressed.
#[derive(Debug, Clone, Copy)]
enum Kind {
    Customer,
    AdminUser,
}

impl Kind {
    fn noun(self) -> &'static str {
        match self {
            Kind::Customer => "customer",
            Kind::AdminUser => "admin user",
        }
    }

    fn path(self) -> &'static str {
        match self {
            Kind::Customer => "/V1/customers",
            Kind::AdminUser => "/V1/users",
        }
    }

    /// The key a request body wraps the record in.
    fn body_key(self) -> &'static str {
        match self {
            Kind::Customer => "customer",
            Kind::AdminUser => "user",
        }
    }

    /// What a create is looked up by (with the website, for customers).
    fn natural_key(self) -> &'static str {
        match self {
            Kind::Customer => "email",
            Kind::AdminUser => "username",
        }
    }

    fn wrote(self, method: &str, path: &str, v: Value) -> Result<Wrote> {
        Ok(match self {
            Kind::Customer => Wrote::Customer(decode(method, path, v)?),
            Kind::AdminUser => Wrote::AdminUser(decode(method, path, v)?),
        })
    }
}

impl Wrote {
    /// The id of the record written (0 for a delete or receipts).
    fn id(&self) -> u64 {
        match self {
            Wrote::Customer(c) => c.id,
            Wrote::AdminUser(u) => u.id,
            Wrote::Deleted | Wrote::Receipts(_) => 0,
        }
    }
}

/// One customer of a bulk update: its id, its patch, and the whole object to send.
#[derive(Debug, Clone)]
pub struct Patched {
    /// Customer id.
    pub id: u64,
    /// The patch (what a check of the operation log looks for).
    pub patch: Patch,
    /// The stored customer with the patch applied.
    pub object: Value,
}

impl Error {
    /// Whether the request may have taken effect although no success came back: it was sent,
    /// then a 5xx or 429 came, or no answer at all.
    pub fn fate_unknown(&self) -> bool {
        let never_sent = matches!(self, Error::Transport { source, .. } if source.is_connect());
        self.is_transient() && !never_sent
    }

    /// Whether asking again later may succeed: Magento could not be reached or answered 429
    /// or 5xx.
    pub fn is_transient(&self) -> bool {
        match self {
            Error::Transport { .. } | Error::Timeout { .. } => true,
            Error::Refused(r) => r.status >= 500 || r.status == 429,
            _ => false,
        }
    }
}

pub(crate) fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

fn decode<T: serde::de::DeserializeOwned>(method: &str, path: &str, v: Value) -> Result<T> {
    serde_json::from_value(v).map_err(|e| Error::Decode {
        method: method.into(),
        path: path.into(),
        detail: e.to_string(),
    })
}

/// Whether a lookup says the entity does not exist.
fn gone<T>(found: Result<T>) -> Result<bool> {
    match found {
        Ok(_) => Ok(false),
        Err(e) if e.status() == Some(404) => Ok(true),
        Err(e) => Err(e),
    }
}

/// The bulk whose logged save of customer `id` carries every value `patch` sets, if any.
fn queued_in<'a>(
    logged: &'a HashMap<u64, (String, Value)>,
    id: u64,
    patch: &Patch,
) -> Option<&'a str> {
    let (uuid, saved) = logged.get(&id)?;
    patch
        .changes(saved, id)
        .is_ok_and(|ch| ch.is_empty())
        .then_some(uuid.as_str())
}

/// Receipts naming bulks found in the operation log (their items are not known here).
fn receipts_of(uuids: BTreeSet<String>) -> Vec<BulkReceipt> {
    uuids
        .into_iter()
        .map(|bulk_uuid| BulkReceipt {
            bulk_uuid,
            request_items: Vec::new(),
            errors: false,
        })
        .collect()
}

/// One operation of Magento's log, as far as a check needs it.
#[derive(Deserialize)]
struct LoggedOp {
    #[serde(default)]
    id: u64,
    bulk_uuid: String,
    #[serde(default)]
    serialized_data: String,
}

impl Record for LoggedOp {
    fn record_id(&self) -> u64 {
        self.id
    }
}

impl LoggedOp {
    /// The customer object the operation saves: `serialized_data` holds the request item as
    /// JSON text in `meta_information`.
    fn customer(&self) -> Option<Value> {
        let data: Value = serde_json::from_str(&self.serialized_data).ok()?;
        let item: Value = serde_json::from_str(data.get("meta_information")?.as_str()?).ok()?;
        item.get("customer").cloned()
    }
}

impl MagentoClient {
    /// Carries out a write exactly once. When its answer is lost, it is checked and sent
    /// again only if it did not land. `in_doubt`: the write may have been sent before (a
    /// journal recorded its intent and no answer), so it is checked before anything is sent.
    pub async fn write(&self, write: &Write, in_doubt: bool) -> Result<Written> {
        match write {
            Write::UpdateCustomer(id, patch) => {
                self.write_patch(Kind::Customer, *id, patch, in_doubt).await
            }
            Write::UpdateAdminUser(id, patch) => {
                self.write_patch(Kind::AdminUser, *id, patch, in_doubt)
                    .await
            }
            Write::DeleteCustomer(id) => self.write_delete(Kind::Customer, *id, in_doubt).await,
            Write::DeleteAdminUser(id) => self.write_delete(Kind::AdminUser, *id, in_doubt).await,
            Write::CreateCustomer(new) => {
                self.check_new_customer(new).await?;
                let look = move || async move {
                    let found = self
                        .find_customer_by_email(&new.email, new.website_id)
                        .await?;
                    Ok(found.map(|c| serde_json::to_value(c).unwrap_or_default()))
                };
                self.write_create(Kind::Customer, &new.email, &new.body(), look, in_doubt)
                    .await
            }
            Write::CreateAdminUser(new) => {
                self.check_new_admin_user(new).await?;
                let look = move || async move {
                    let found = self.find_admin_user_by_username(&new.username).await?;
                    Ok(found.map(|u| serde_json::to_value(u).unwrap_or_default()))
                };
                self.write_create(Kind::AdminUser, &new.username, &new.body(), look, in_doubt)
                    .await
            }
            Write::BulkUpdateCustomers {
                updates,
                chunk,
                since,
            } => self.write_bulk(updates, *chunk, *since, in_doubt).await,
        }
    }

    /// Sends a write with `send`; when its fate is unknown, waits a backoff (a request still
    /// in flight inside Magento may yet finish), asks `landed`, and sends again only when it
    /// answers `None`, up to the connection's retries.
    async fn settle<T, S, SF, L, LF>(&self, what: &str, send: S, landed: L) -> Result<T>
    where
        S: Fn() -> SF,
        SF: Future<Output = Result<T>>,
        L: Fn() -> LF,
        LF: Future<Output = Result<Option<T>>>,
    {
        let mut attempt = 0;
        loop {
            let failure = match send().await {
                Ok(v) => return Ok(v),
                Err(e) if e.fate_unknown() => e,
                Err(e) => return Err(e),
            };
            tokio::time::sleep(self.backoff(attempt)).await;
            self.observe_retry(&Method::GET, "in-doubt");
            tracing::debug!(write = what, error = %failure, "the write's fate is unknown: checking whether it landed");
            if let Some(v) = landed().await? {
                tracing::debug!(write = what, "the write had landed: not sent again");
                return Ok(v);
            }
            if attempt >= self.conn.retry.max_retries {
                return Err(failure);
            }
            self.observe_retry(&Method::PUT, "not-landed");
            attempt += 1;
        }
    }

    /// A record as stored, without the fields that are never sent back (a password).
    async fn stored(&self, kind: Kind, id: u64) -> Result<Value> {
        let path = format!("{}/{id}", kind.path());
        let mut stored = self
            .request(Method::GET, &path, "", None, Repeat::Safe)
            .await?;
        if let Some(obj) = stored.as_object_mut() {
            obj.remove("password");
        }
        Ok(stored)
    }

    /// The record when every field `patch` sets holds its value (the PUT-merge landed).
    async fn patch_landed(&self, kind: Kind, id: u64, patch: &Patch) -> Result<Option<Value>> {
        let stored = self.stored(kind, id).await?;
        Ok(patch.changes(&stored, id)?.is_empty().then_some(stored))
    }

    async fn write_patch(
        &self,
        kind: Kind,
        id: u64,
        patch: &Patch,
        in_doubt: bool,
    ) -> Result<Written> {
        let entity = format!("{} {id}", kind.noun());
        let path = format!("{}/{id}", kind.path());
        let before = self.stored(kind, id).await?;
        let changes = patch.changes(&before, id)?;
        if in_doubt && changes.is_empty() {
            return Ok(Written::found(entity, kind.wrote("GET", &path, before)?));
        }
        let body = json!({ kind.body_key(): patch.apply(before, id)? });
        let (path_ref, body) = (path.as_str(), &body);
        let saved = self
            .settle(
                &entity,
                move || self.request(Method::PUT, path_ref, "", Some(body), Repeat::IfUnsent),
                move || self.patch_landed(kind, id, patch),
            )
            .await?;
        Ok(Written::sent(
            entity,
            changes,
            kind.wrote("PUT", &path, saved)?,
        ))
    }

    async fn write_delete(&self, kind: Kind, id: u64, in_doubt: bool) -> Result<Written> {
        let entity = format!("{} {id}", kind.noun());
        let is_gone = move || async move {
            Ok(gone(self.stored(kind, id).await)?.then_some(Value::Bool(true)))
        };
        if in_doubt && is_gone().await?.is_some() {
            return Ok(Written::found(entity, Wrote::Deleted));
        }
        let path = format!("{}/{id}", kind.path());
        let path = path.as_str();
        self.settle(
            &entity,
            move || self.request(Method::DELETE, path, "", None, Repeat::IfUnsent),
            is_gone,
        )
        .await?;
        Ok(Written::sent(entity, Vec::new(), Wrote::Deleted))
    }

    /// Creates a record whose natural key is `key`; `look` finds it by that key.
    async fn write_create<L, LF>(
        &self,
        kind: Kind,
        key: &str,
        body: &Value,
        look: L,
        in_doubt: bool,
    ) -> Result<Written>
    where
        L: Fn() -> LF,
        LF: Future<Output = Result<Option<Value>>>,
    {
        let search = format!("{}/search", kind.path());
        if in_doubt && let Some(found) = look().await? {
            let wrote = kind.wrote("GET", &search, found)?;
            return Ok(Written::found(
                format!("{} {}", kind.noun(), wrote.id()),
                wrote,
            ));
        }
        let created = self
            .settle(
                &format!("new {} {key}", kind.noun()),
                move || self.request(Method::POST, kind.path(), "", Some(body), Repeat::IfUnsent),
                look,
            )
            .await?;
        let wrote = kind.wrote("POST", kind.path(), created)?;
        let changes = vec![Change {
            field: kind.natural_key().into(),
            before: Value::Null,
            after: json!(key),
        }];
        Ok(Written::sent(
            format!("{} {}", kind.noun(), wrote.id()),
            changes,
            wrote,
        ))
    }

    /// The admin user with this username (the natural key of a create).
    pub async fn find_admin_user_by_username(&self, username: &str) -> Result<Option<AdminUser>> {
        let c = SearchCriteria::new()
            .filter("username", Condition::Eq, username)
            .page_size(2);
        let page: crate::types::SearchPage<AdminUser> = self
            .call(
                Method::GET,
                "/V1/users/search",
                &c.to_query(),
                None,
                Repeat::Safe,
            )
            .await?;
        Ok(page.items.into_iter().next())
    }

    async fn write_bulk(
        &self,
        updates: &[(u64, Patch)],
        chunk: usize,
        since: u64,
        in_doubt: bool,
    ) -> Result<Written> {
        let concurrency = self.conn.concurrency;
        // Futures built first, then driven: see `bulk_update_customers`.
        let reads: Vec<_> = updates
            .iter()
            .map(|(id, _)| self.customer_json(*id))
            .collect();
        let stored: Vec<Value> = stream::iter(reads)
            .buffered(concurrency)
            .try_collect()
            .await?;
        let logged = if in_doubt {
            self.logged_saves(since).await?
        } else {
            HashMap::new()
        };
        let mut written = Written {
            changed: Vec::new(),
            landed: Vec::new(),
            wrote: Wrote::Receipts(Vec::new()),
        };
        let mut found_in = BTreeSet::new();
        let mut to_send = Vec::new();
        for ((id, patch), before) in updates.iter().zip(stored) {
            let entity = format!("customer {id}");
            if in_doubt && let Some(uuid) = queued_in(&logged, *id, patch) {
                // Queued in a bulk that applies it, or applied by it already.
                found_in.insert(uuid.to_owned());
                written.landed.push(entity);
                continue;
            }
            let changes = patch.changes(&before, *id)?;
            if in_doubt && changes.is_empty() {
                written.landed.push(entity);
                continue;
            }
            written.changed.push((entity, changes));
            to_send.push(Patched {
                id: *id,
                patch: patch.clone(),
                object: patch.apply(before, *id)?,
            });
        }
        let mut receipts = receipts_of(found_in);
        if !to_send.is_empty() {
            receipts.extend(self.submit_patched(&to_send, chunk).await?);
        }
        written.wrote = Wrote::Receipts(receipts);
        Ok(written)
    }

    /// Submits patched customers as bulk updates, `chunk` to a request (whole objects, so the
    /// consumer's full save keeps every field). A chunk whose answer is lost is looked for in
    /// Magento's operation log before it is submitted again.
    pub async fn submit_patched(
        &self,
        patched: &[Patched],
        chunk: usize,
    ) -> Result<Vec<BulkReceipt>> {
        let mut receipts = Vec::new();
        for part in patched.chunks(chunk.max(1)) {
            let since = now_secs();
            let body = Value::Array(
                part.iter()
                    .map(|p| json!({ "customer": p.object }))
                    .collect(),
            );
            let body = &body;
            let sent = self
                .settle(
                    &format!("bulk update of {} customers", part.len()),
                    move || async move {
                        let v = self
                            .request(
                                Method::PUT,
                                "/async/bulk/V1/customers/byCustomerId",
                                "",
                                Some(body),
                                Repeat::IfUnsent,
                            )
                            .await?;
                        Ok(vec![crate::bulk::decode_receipt(v)?])
                    },
                    move || self.bulk_landed(part, since),
                )
                .await?;
            receipts.extend(sent);
        }
        Ok(receipts)
    }

    /// The bulks holding an operation for every one of `part` with its patched values, logged
    /// since `since`; `None` when any is missing.
    async fn bulk_landed(&self, part: &[Patched], since: u64) -> Result<Option<Vec<BulkReceipt>>> {
        let logged = self.logged_saves(since).await?;
        let mut uuids = BTreeSet::new();
        for p in part {
            match queued_in(&logged, p.id, &p.patch) {
                Some(uuid) => uuids.insert(uuid.to_owned()),
                None => return Ok(None),
            };
        }
        Ok(Some(receipts_of(uuids)))
    }

    /// Every customer save in Magento's operation log since `since` (less the clock skew
    /// allowance): customer id -> (bulk uuid, the object saved), the latest per customer.
    async fn logged_saves(&self, since: u64) -> Result<HashMap<u64, (String, Value)>> {
        let from =
            chrono::DateTime::from_timestamp(since.saturating_sub(CLOCK_SKEW_SECS) as i64, 0)
                .unwrap_or_default()
                .format("%Y-%m-%d %H:%M:%S")
                .to_string();
        let criteria = SearchCriteria::new()
            .filter("topic_name", Condition::Eq, SAVE_TOPIC)
            .filter("start_time", Condition::Gteq, from);
        let ops: Vec<LoggedOp> = crate::pages::Pages::new(self, "/V1/bulk", "id", criteria)
            .collect()
            .await?;
        let mut out = HashMap::new();
        for op in ops {
            if let Some(c) = op.customer()
                && let Some(id) = c.get("id").and_then(|v| {
                    v.as_u64()
                        .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
                })
            {
                out.insert(id, (op.bulk_uuid, c));
            }
        }
        Ok(out)
    }
}
