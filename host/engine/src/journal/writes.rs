//! Writes, exactly once: a write in doubt is reconciled by the client (looked up, re-applied
//! only where it did not land), never sent again blindly; every write leaves audit entries.

use mageflow_magento::Change;
use mageflow_model::now_secs;
use mageflow_runtime::{Call, Failure, Gateway, Reply};
use mageflow_store::{AuditEntry, FieldChange};

use super::Journaled;

impl Journaled {
    pub(super) fn audit(
        &self,
        call: &str,
        entity: String,
        changes: Vec<FieldChange>,
        note: Option<&str>,
    ) {
        let entry = AuditEntry {
            run: self.scope.run,
            workflow: self.scope.workflow.clone(),
            approver: self
                .scope
                .approved_by
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .clone(),
            call: call.into(),
            entity,
            changes,
            note: note.map(str::to_owned),
            at: now_secs(),
        };
        if let Err(e) = self.scope.store.audit(&entry) {
            tracing::error!(run = self.scope.run, error = %e, "an audit entry could not be written");
        }
    }

    /// A write whose answer was lost: look first, write only what did not land.
    pub(super) async fn reconcile(&self, call: Call) -> Result<Reply, Failure> {
        if self.scope.dry_run {
            return self.plan(call).await;
        }
        tracing::info!(
            run = self.scope.run,
            call = call.name(),
            "reconciling a write in doubt"
        );
        self.write(call, true).await
    }

    /// Sends a write with its audit entries. `in_doubt`: the write may have landed already,
    /// so the client checks before it sends (the same check it makes when an answer is lost).
    pub(super) async fn write(&self, call: Call, in_doubt: bool) -> Result<Reply, Failure> {
        let name = call.name();
        let write = match call.into_write(self.since) {
            Ok(w) => w,
            Err(read) => return Gateway::call(&*self.client, read).await,
        };
        let written = self.client.write(&write, in_doubt).await?;
        for (entity, changes) in written.changed {
            self.audit(name, entity, convert(changes), None);
        }
        for entity in written.landed {
            self.audit(
                name,
                entity,
                Vec::new(),
                Some("reconciled after a restart: the write had landed before"),
            );
        }
        Ok(written.wrote.into())
    }
}

pub(super) fn convert(changes: Vec<Change>) -> Vec<FieldChange> {
    changes
        .into_iter()
        .map(
            |Change {
                 field,
                 before,
                 after,
             }| FieldChange {
                field,
                before,
                after,
            },
        )
        .collect()
}
