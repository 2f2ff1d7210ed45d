//! The SCIM bridge's resources: each root's users and groups as the identity provider sent
//! them, with the link to the Magento record and where its last change stands. The server
//! owns their shape; the store keeps each under its id and its unique name (a user's
//! `userName`, a group's `displayName`, lower-cased), both in one atomic batch.

use serde_json::Value;

use crate::Result;

/// The SCIM bridge's resources, by scope (`admin/User`, `customers/Group`, ...).
pub trait ScimStore {
    /// The resource `id` of `scope`.
    fn scim_get(&self, scope: &str, id: &str) -> Result<Option<Value>>;

    /// The id of the resource of `scope` whose unique name is `name` (ignoring case).
    fn scim_named(&self, scope: &str, name: &str) -> Result<Option<String>>;

    /// Writes a resource under `id` and its unique `name`, releasing `old_name` when the
    /// name changed. Not necessarily durable until the next flush; a flush makes every
    /// earlier write durable too, so a record written before a run is queued is kept once
    /// that run's first write intent is.
    fn scim_put(
        &self,
        scope: &str,
        id: &str,
        name: &str,
        old_name: Option<&str>,
        record: &Value,
    ) -> Result<()>;

    /// Removes a resource and its name (durable as [`ScimStore::scim_put`]).
    fn scim_remove(&self, scope: &str, id: &str, name: &str) -> Result<()>;

    /// Every resource of `scope`, in id order.
    fn scim_list(&self, scope: &str) -> Result<Vec<Value>>;
}
