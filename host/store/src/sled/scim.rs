//! The SCIM bridge's resources in sled, each under its id and its unique name (lower-cased),
//! both in one atomic batch.

use serde_json::Value;

use super::Sled;
use crate::{Error, Result, ScimStore};

fn record_key(scope: &str, id: &str) -> Vec<u8> {
    format!("r/{scope}/{id}").into_bytes()
}

fn name_key(scope: &str, name: &str) -> Vec<u8> {
    format!("n/{scope}/{}", name.to_lowercase()).into_bytes()
}

impl ScimStore for Sled {
    /// The resource `id` of `scope` (`admin/User`, `customers/Group`, ...).
    fn scim_get(&self, scope: &str, id: &str) -> Result<Option<Value>> {
        self.scim
            .get(record_key(scope, id))?
            .map(|b| serde_json::from_slice(&b).map_err(|e| Error::Corrupt(e.to_string())))
            .transpose()
    }

    /// The id of the resource of `scope` whose unique name is `name` (ignoring case).
    fn scim_named(&self, scope: &str, name: &str) -> Result<Option<String>> {
        Ok(self
            .scim
            .get(name_key(scope, name))?
            .map(|b| String::from_utf8_lossy(&b).into_owned()))
    }

    /// Writes a resource under `id` and its unique `name`, releasing `old_name` when the
    /// name changed. Not flushed: the caller flushes, or a later flush covers it (sled keeps
    /// writes in order, so a flush makes every earlier write durable too).
    fn scim_put(
        &self,
        scope: &str,
        id: &str,
        name: &str,
        old_name: Option<&str>,
        record: &Value,
    ) -> Result<()> {
        let mut batch = sled::Batch::default();
        if let Some(old) = old_name
            && !old.eq_ignore_ascii_case(name)
        {
            batch.remove(name_key(scope, old));
        }
        batch.insert(name_key(scope, name), id.as_bytes());
        batch.insert(
            record_key(scope, id),
            serde_json::to_vec(record).map_err(|e| Error::Corrupt(e.to_string()))?,
        );
        self.scim.apply_batch(batch)?;
        Ok(())
    }

    /// Removes a resource and its name (not flushed, as [`Store::scim_put`]).
    fn scim_remove(&self, scope: &str, id: &str, name: &str) -> Result<()> {
        let mut batch = sled::Batch::default();
        batch.remove(name_key(scope, name));
        batch.remove(record_key(scope, id));
        self.scim.apply_batch(batch)?;
        Ok(())
    }

    /// Every resource of `scope`, in id order.
    fn scim_list(&self, scope: &str) -> Result<Vec<Value>> {
        self.scim
            .scan_prefix(format!("r/{scope}/"))
            .map(|kv| {
                let (_, v) = kv?;
                serde_json::from_slice(&v).map_err(|e| Error::Corrupt(e.to_string()))
            })
            .collect()
    }
}
