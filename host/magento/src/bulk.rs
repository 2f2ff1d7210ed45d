//! Asynchronous bulk writes: submit customer creates and updates to `/async/bulk/V1/...` in
//! chunks, then poll `/V1/bulk/{uuid}/status` with backoff until every operation is final, and
//! report each item. Operations that stay open are reported as a stalled consumer.
//!
//! Bulk saves run outside Magento's REST merge: each update is sent as the whole customer
//! (read, patched), so nothing is wiped even though the consumer does a full save.

use std::time::{Duration, Instant};

use reqwest::Method;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::client::{MagentoClient, Repeat};
use crate::customers::NewCustomer;
use crate::error::{Error, Result};
use crate::patch::Patch;
use crate::write::{Write, Wrote, now_secs};

/// Operations per bulk request unless a caller chooses otherwise: the host's `bulk` interface
/// and `mageflow magento customers bulk-update` both send this many.
pub const BULK_CHUNK: usize = 200;

/// What Magento answers (202) for a bulk submission.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BulkReceipt {
    /// The bulk to poll.
    pub bulk_uuid: String,
    /// One entry per submitted item.
    pub request_items: Vec<RequestItem>,
    /// Whether any item was rejected when scheduled.
    pub errors: bool,
}

/// A submitted item's scheduling outcome.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RequestItem {
    /// Position in the submission.
    pub id: u64,
    /// `accepted` or `rejected`.
    pub status: String,
    /// Why it was rejected.
    #[serde(default)]
    pub error_message: Option<String>,
}

/// An operation's status (`Magento\Framework\Bulk\OperationInterface`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum OpStatus {
    /// 1: applied.
    Complete,
    /// 2: failed, may be retried.
    RetriablyFailed,
    /// 3: failed for good.
    Failed,
    /// 4: not processed yet.
    Open,
    /// 5: rejected when scheduled.
    Rejected,
}

impl OpStatus {
    fn from_code(code: u64) -> OpStatus {
        match code {
            1 => OpStatus::Complete,
            2 => OpStatus::RetriablyFailed,
            3 => OpStatus::Failed,
            5 => OpStatus::Rejected,
            _ => OpStatus::Open,
        }
    }
}

/// One operation in a bulk status.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Operation {
    /// Position in its submission.
    pub index: u64,
    /// Status.
    pub status: OpStatus,
    /// Magento's result message (the failure reason for failed operations).
    pub message: Option<String>,
}

/// `/V1/bulk/{uuid}/status`, read.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BulkStatus {
    /// The bulk uuid.
    pub uuid: String,
    /// Its operations.
    pub operations: Vec<Operation>,
}

impl BulkStatus {
    /// Operations not yet processed.
    pub fn open(&self) -> usize {
        self.operations
            .iter()
            .filter(|o| o.status == OpStatus::Open)
            .count()
    }
}

#[derive(Deserialize)]
struct RawStatus {
    bulk_id: String,
    operations_list: Vec<RawOp>,
}

#[derive(Deserialize)]
struct RawOp {
    id: u64,
    status: u64,
    #[serde(default)]
    result_message: Option<String>,
}

/// Options for waiting on bulks.
#[derive(Debug, Clone)]
pub struct Wait {
    /// Give up when no operation finishes for this long.
    pub stall_after: Duration,
    /// First poll interval; grows to `max_interval`.
    pub first_interval: Duration,
    /// Longest poll interval.
    pub max_interval: Duration,
}

impl Default for Wait {
    fn default() -> Self {
        Wait {
            stall_after: Duration::from_secs(60),
            first_interval: Duration::from_millis(50),
            max_interval: Duration::from_secs(2),
        }
    }
}

impl MagentoClient {
    /// Submits customer creates in chunks of `chunk`. Not retried on an unknown outcome: a
    /// resubmitted create could land twice.
    pub async fn bulk_create_customers(
        &self,
        customers: &[NewCustomer],
        chunk: usize,
    ) -> Result<Vec<BulkReceipt>> {
        let mut receipts = Vec::new();
        for part in customers.chunks(chunk.max(1)) {
            let body = Value::Array(part.iter().map(NewCustomer::body).collect());
            let v = self
                .request(
                    Method::POST,
                    "/async/bulk/V1/customers",
                    "",
                    Some(&body),
                    Repeat::IfUnsent,
                )
                .await?;
            receipts.push(decode_receipt(v)?);
        }
        Ok(receipts)
    }

    /// Reads each customer, applies its patch, and submits the whole objects as bulk updates in
    /// chunks of `chunk` (whole objects, so the consumer's full save keeps every field). A chunk
    /// whose answer is lost is looked for in Magento's operation log before it is sent again.
    pub async fn bulk_update_customers(
        &self,
        updates: &[(u64, Patch)],
        chunk: usize,
    ) -> Result<Vec<BulkReceipt>> {
        let write = Write::BulkUpdateCustomers {
            updates: updates.to_vec(),
            chunk,
            since: now_secs(),
        };
        match self.write(&write, false).await?.wrote {
            Wrote::Receipts(r) => Ok(r),
            other => unreachable!("a bulk update answers receipts, not {other:?}"),
        }
    }

    /// The status of one bulk.
    pub async fn bulk_status(&self, uuid: &str) -> Result<BulkStatus> {
        let raw: RawStatus = self
            .read(Method::GET, &format!("/V1/bulk/{uuid}/status"), "", None)
            .await?;
        Ok(BulkStatus {
            uuid: raw.bulk_id,
            operations: raw
                .operations_list
                .into_iter()
                .map(|o| Operation {
                    index: o.id,
                    status: OpStatus::from_code(o.status),
                    message: o.result_message,
                })
                .collect(),
        })
    }

    /// Polls every bulk with backoff until all operations are final. `progress` hears
    /// `(finished, total)` after each poll. Fails with [`Error::BulkStalled`] when nothing
    /// finishes for `wait.stall_after`.
    pub async fn wait_bulks(
        &self,
        uuids: &[String],
        wait: &Wait,
        mut progress: impl FnMut(usize, usize),
    ) -> Result<Vec<BulkStatus>> {
        let mut interval = wait.first_interval;
        let mut last_done = usize::MAX;
        let mut last_change = Instant::now();
        let started = Instant::now();
        loop {
            let mut statuses = Vec::with_capacity(uuids.len());
            for uuid in uuids {
                statuses.push(self.bulk_status(uuid).await?);
            }
            let total: usize = statuses.iter().map(|s| s.operations.len()).sum();
            let open: usize = statuses.iter().map(BulkStatus::open).sum();
            let done = total - open;
            progress(done, total);
            if open == 0 {
                return Ok(statuses);
            }
            if done != last_done {
                last_done = done;
                last_change = Instant::now();
            } else if last_change.elapsed() >= wait.stall_after {
                let stalled = statuses
                    .iter()
                    .find(|s| s.open() > 0)
                    .map_or_else(String::new, |s| s.uuid.clone());
                return Err(Error::BulkStalled {
                    uuid: stalled,
                    open,
                    secs: started.elapsed().as_secs(),
                });
            }
            tokio::time::sleep(interval).await;
            interval = (interval * 2).min(wait.max_interval);
        }
    }
}

pub(crate) fn decode_receipt(v: Value) -> Result<BulkReceipt> {
    serde_json::from_value(v).map_err(|e| Error::Decode {
        method: "bulk".into(),
        path: "/async/bulk/V1/customers".into(),
        detail: e.to_string(),
    })
}
