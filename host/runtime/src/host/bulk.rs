//! `interface bulk`: asynchronous bulk updates and their status.

use std::sync::Arc;
use std::time::Duration;

use mageflow_magento::{MagentoClient, OpStatus, Wait};
use wasmtime::component::{HasSelf, Linker};

use crate::generated::mageflow::workflow::bulk;
use crate::generated::mageflow::workflow::types::{
    BulkOperation, BulkReceipt, BulkStatus, MagentoError, OperationStatus, Patch,
};
use crate::grants::{Grant, Grants};
use crate::host::types::{self as convert, convert_error, denied};

/// Operations per bulk request.
const CHUNK: usize = 200;

/// Host state of `interface bulk`.
#[derive(Debug)]
pub(crate) struct BulkHost {
    pub(crate) client: Arc<MagentoClient>,
    pub(crate) grants: Grants,
}

type Answer<T> = wasmtime::Result<Result<T, MagentoError>>;

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

impl bulk::Host for BulkHost {
    #[tracing::instrument(name = "bulk.submit-updates", skip_all)]
    async fn submit_updates(&mut self, updates: Vec<(u64, Patch)>) -> Answer<Vec<BulkReceipt>> {
        Ok(async {
            self.grants
                .check(Grant::Bulk, "bulk.submit-updates")
                .map_err(denied)?;
            let patches = updates
                .into_iter()
                .map(|(id, p)| Ok((id, convert::patch(p)?)))
                .collect::<Result<Vec<_>, MagentoError>>()?;
            self.client
                .bulk_update_customers(&patches, CHUNK)
                .await
                .map(|rs| {
                    rs.into_iter()
                        .map(|r| BulkReceipt {
                            items: r.request_items.len() as u32,
                            bulk_uuid: r.bulk_uuid,
                        })
                        .collect()
                })
                .map_err(convert_error)
        }
        .await)
    }

    #[tracing::instrument(name = "bulk.status", skip(self))]
    async fn status(&mut self, bulk_uuid: String) -> Answer<BulkStatus> {
        Ok(async {
            self.grants
                .check(Grant::Bulk, "bulk.status")
                .map_err(denied)?;
            self.client
                .bulk_status(&bulk_uuid)
                .await
                .map(status)
                .map_err(convert_error)
        }
        .await)
    }

    #[tracing::instrument(name = "bulk.wait", skip(self))]
    async fn wait(
        &mut self,
        bulk_uuids: Vec<String>,
        stall_after_secs: u32,
    ) -> Answer<Vec<BulkStatus>> {
        Ok(async {
            self.grants
                .check(Grant::Bulk, "bulk.wait")
                .map_err(denied)?;
            let wait = Wait {
                stall_after: Duration::from_secs(stall_after_secs.into()),
                ..Wait::default()
            };
            self.client
                .wait_bulks(&bulk_uuids, &wait, |_, _| {})
                .await
                .map(|l| l.into_iter().map(status).collect())
                .map_err(convert_error)
        }
        .await)
    }
}

/// Adds `interface bulk` to a linker.
pub(crate) fn add_to_linker<T: Send + 'static>(
    l: &mut Linker<T>,
    get: fn(&mut T) -> &mut BulkHost,
) -> wasmtime::Result<()> {
    bulk::add_to_linker::<T, HasSelf<BulkHost>>(l, get)
}
