//! The fake's bulks, applied at once and reported per operation; approvals and runtime.

use super::Fake;
use crate::approvals::{ApprovalRequest, Decision};
use crate::runtime::Level;
use crate::{
    BulkOperation, BulkReceipt, BulkStatus, MagentoError, OperationStatus, Patch, Refusal,
};

impl Fake {
    pub(crate) fn submit_updates(
        &mut self,
        updates: &[(u64, Patch)],
    ) -> Result<Vec<BulkReceipt>, MagentoError> {
        self.calls.push("bulk.submit-updates");
        let mut receipts = Vec::new();
        for chunk in updates.chunks(200) {
            let uuid = format!("fake-bulk-{}", self.bulks.len() + 1);
            let operations = chunk
                .iter()
                .enumerate()
                .map(|(index, (id, patch))| {
                    let (status, message) = match self.apply(*id, patch) {
                        Ok(_) => (OperationStatus::Complete, None),
                        Err(e) => (OperationStatus::Failed, Some(format!("{e:?}"))),
                    };
                    BulkOperation {
                        index: index as u32,
                        status,
                        message,
                    }
                })
                .collect();
            self.bulks.insert(
                uuid.clone(),
                BulkStatus {
                    bulk_uuid: uuid.clone(),
                    operations,
                },
            );
            receipts.push(BulkReceipt {
                bulk_uuid: uuid,
                items: chunk.len() as u32,
            });
        }
        Ok(receipts)
    }

    pub(crate) fn bulk_status(&mut self, uuid: &str) -> Result<BulkStatus, MagentoError> {
        self.calls.push("bulk.status");
        self.find_bulk(uuid)
    }

    fn find_bulk(&self, uuid: &str) -> Result<BulkStatus, MagentoError> {
        self.bulks.get(uuid).cloned().ok_or_else(|| {
            MagentoError::NotFound(Refusal {
                status: 404,
                message: format!("Bulk uuid {uuid} not exist"),
                template: "Bulk uuid %bulkUuid not exist".into(),
                parameters_json: Some(format!("{{\"bulkUuid\":\"{uuid}\"}}")),
            })
        })
    }

    pub(crate) fn wait_bulks(
        &mut self,
        uuids: &[String],
        _stall_after_secs: u32,
    ) -> Result<Vec<BulkStatus>, MagentoError> {
        self.calls.push("bulk.wait");
        uuids.iter().map(|u| self.find_bulk(u)).collect()
    }

    pub(crate) fn request_approval(
        &mut self,
        request: &ApprovalRequest,
    ) -> Result<Decision, MagentoError> {
        self.calls.push("approvals.request");
        self.approvals.push(request.clone());
        self.decision.clone().ok_or_else(|| {
            MagentoError::Denied(format!(
                "approval {:?} needs a decision: give the fake one with Fake::deciding",
                request.title
            ))
        })
    }

    pub(crate) fn write_log(&mut self, level: Level, message: &str) {
        self.log.push((level, message.to_owned()));
    }

    pub(crate) fn now(&mut self) -> u64 {
        self.now
    }

    pub(crate) fn config(&mut self, key: &str) -> Option<String> {
        self.config.get(key).cloned()
    }

    pub(crate) fn state_get(&mut self, key: &str) -> Option<String> {
        self.state.get(key).cloned()
    }

    pub(crate) fn state_set(&mut self, key: &str, value: &str) {
        self.state.insert(key.to_owned(), value.to_owned());
    }
}
