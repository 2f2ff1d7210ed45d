//! The SCIM bridge's resources in PostgreSQL: a record table and a name table, written
//! together in one transaction.

use serde_json::Value;

use super::{Postgres, read, text};
use crate::{Result, ScimStore};

impl ScimStore for Postgres {
    fn scim_get(&self, scope: &str, id: &str) -> Result<Option<Value>> {
        self.conn()?
            .query_opt(
                "SELECT record FROM scim_records WHERE scope = $1 AND id = $2",
                &[&scope, &id],
            )?
            .map(|r| read(r.get(0)))
            .transpose()
    }

    fn scim_named(&self, scope: &str, name: &str) -> Result<Option<String>> {
        Ok(self
            .conn()?
            .query_opt(
                "SELECT id FROM scim_names WHERE scope = $1 AND name = $2",
                &[&scope, &name.to_lowercase()],
            )?
            .map(|r| r.get(0)))
    }

    fn scim_put(
        &self,
        scope: &str,
        id: &str,
        name: &str,
        old_name: Option<&str>,
        record: &Value,
    ) -> Result<()> {
        let record = text(record)?;
        let name = name.to_lowercase();
        self.conn()?.transaction(false, |tx| {
            if let Some(old) = old_name
                && old.to_lowercase() != name
            {
                tx.execute(
                    "DELETE FROM scim_names WHERE scope = $1 AND name = $2",
                    &[&scope, &old.to_lowercase()],
                )?;
            }
            tx.execute(
                "INSERT INTO scim_names (scope, name, id) VALUES ($1, $2, $3)
                 ON CONFLICT (scope, name) DO UPDATE SET id = excluded.id",
                &[&scope, &name, &id],
            )?;
            tx.execute(
                "INSERT INTO scim_records (scope, id, record) VALUES ($1, $2, $3)
                 ON CONFLICT (scope, id) DO UPDATE SET record = excluded.record",
                &[&scope, &id, &record],
            )?;
            Ok(())
        })
    }

    fn scim_remove(&self, scope: &str, id: &str, name: &str) -> Result<()> {
        self.conn()?.transaction(false, |tx| {
            tx.execute(
                "DELETE FROM scim_names WHERE scope = $1 AND name = $2",
                &[&scope, &name.to_lowercase()],
            )?;
            tx.execute(
                "DELETE FROM scim_records WHERE scope = $1 AND id = $2",
                &[&scope, &id],
            )?;
            Ok(())
        })
    }

    fn scim_list(&self, scope: &str) -> Result<Vec<Value>> {
        let rows = self.conn()?.query(
            "SELECT record FROM scim_records WHERE scope = $1 ORDER BY id",
            &[&scope],
        )?;
        rows.iter().map(|r| read(r.get(0))).collect()
    }
}
