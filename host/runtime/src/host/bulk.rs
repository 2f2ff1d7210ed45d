//! `interface bulk`: asynchronous bulk updates and their status.

use std::time::Duration;

use mageflow_magento::OpStatus;
use mageflow_model::CallKind;
use wasmtime::component::{HasSelf, Linker};

use crate::gateway::{Call, Reply};
use crate::generated::mageflow::workflow::bulk;
use crate::generated::mageflow::workflow::types::{
    BulkOperation, BulkReceipt, BulkStatus, MagentoError, OperationStatus, Patch,
};
use crate::host::magento::{Answer, MagentoHost};
use crate::host::types::{self as convert, answer};

fn status(s: mageflow_magento::BulkStatus) -> BulkStatus {
    BulkStatus {
        bulk_uuid: s.uuid,
        operations: s
            .operations
            .into_iter()
            .map(|o| BulkOperation {
                index: o.index as u32,
                status: match o.status {
                    OpStatus::Complete => OperationStatus::Complete,
                    OpStatus::RetriablyFailed => OperationStatus::RetriablyFailed,
                    OpStatus::Failed => OperationStatus::Failed,
                    OpStatus::Open => OperationStatus::Open,
                    OpStatus::Rejected => OperationStatus::Rejected,
                },
                message: o.message,
            })
            .collect(),
    }
}

impl bulk::Host for MagentoHost {
    #[tracing::instrument(name = "bulk.submit-updates", skip_all)]
    async fn submit_updates(&mut self, updates: Vec<(u64, Patch)>) -> Answer<Vec<BulkReceipt>> {
        let kind = CallKind::SubmitBulkUpdates;
        let got = self
            .ask(kind, || {
                let patches = updates
                    .into_iter()
                    .map(|(id, p)| Ok((id, convert::patch(p)?)))
                    .collect::<Result<Vec<_>, MagentoError>>()?;
                Ok(Call::SubmitBulkUpdates(patches))
            })
            .await;
        answer(kind, got, |r| match r {
            Reply::Receipts(rs) => Ok(rs
                .into_iter()
                .map(|r| BulkReceipt {
                    items: r.request_items.len() as u32,
                    bulk_uuid: r.bulk_uuid,
                })
                .collect()),
            other => Err(other),
        })
    }

    #[tracing::instrument(name = "bulk.status", skip(self))]
    async fn status(&mut self, bulk_uuid: String) -> Answer<BulkStatus> {
        let kind = CallKind::BulkStatus;
        let got = self.ask(kind, || Ok(Call::BulkStatus(bulk_uuid))).await;
        answer(kind, got, |r| match r {
            Reply::BulkStatus(s) => Ok(status(s)),
            other => Err(other),
        })
    }

    #[tracing::instrument(name = "bulk.wait", skip(self))]
    async fn wait(
        &mut self,
        bulk_uuids: Vec<String>,
        stall_after_secs: u32,
    ) -> Answer<Vec<BulkStatus>> {
        let kind = CallKind::WaitBulks;
        let stall_after = Duration::from_secs(stall_after_secs.into());
        let got = self
            .ask(kind, || Ok(Call::WaitBulks(bulk_uuids, stall_after)))
            .await;
        answer(kind, got, |r| match r {
            Reply::BulkStatuses(l) => Ok(l.into_iter().map(status).collect()),
            other => Err(other),
        })
    }
}

/// Adds `interface bulk` to a linker.
pub(crate) fn add_to_linker<T: Send + 'static>(
    l: &mut Linker<T>,
    get: fn(&mut T) -> &mut MagentoHost,
) -> wasmtime::Result<()> {
    bulk::add_to_linker::<T, HasSelf<MagentoHost>>(l, get)
}
