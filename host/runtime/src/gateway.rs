//! Every Magento operation a plugin can cause, as data. A host call that reaches Magento
//! becomes one [`Call`], sent through a [`Gateway`] and answered by one [`Reply`] or one
//! [`Failure`]. Replies and failures serialize, so a journal can store and replay them; a call
//! serializes (passwords left out) so a journal can store its digest.
//!
//! [`MagentoClient`] is the gateway that talks to Magento. Because calls are plain values, a
//! gateway can also answer them from elsewhere: the engine wraps the client to journal each
//! answer and to replay it, or to turn writes into a plan (dry run); tests and benchmarks
//! answer from memory. Grants are checked by the host before a call reaches any gateway.

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use mageflow_magento::{
    AdminUser, BULK_CHUNK, BulkReceipt, BulkStatus, Customer, Error, Group, MagentoClient,
    NewAdminUser, NewCustomer, Patch, Refusal, Role, SearchCriteria, SearchPage, Wait, Write,
    Wrote,
};
use serde::{Deserialize, Serialize};

use mageflow_model::CallKind;

/// One Magento operation requested by a plugin (after its grants were checked).
#[derive(Debug, Clone, Serialize)]
#[non_exhaustive]
pub enum Call {
    /// One page of a customer search.
    SearchCustomers(SearchCriteria),
    /// One customer by id.
    GetCustomer(u64),
    /// The customer with this email, in this website when given.
    FindCustomerByEmail(String, Option<u32>),
    /// Create a customer (the password, when given, is inside).
    CreateCustomer(Box<NewCustomer>),
    /// PUT-merge a patch into a customer.
    UpdateCustomer(u64, Patch),
    /// Delete a customer.
    DeleteCustomer(u64),
    /// Every customer group.
    ListGroups,
    /// Every admin user matching the criteria (all pages).
    SearchAdminUsers(SearchCriteria),
    /// One admin user by id.
    GetAdminUser(u64),
    /// The admin user with this email.
    FindAdminUserByEmail(String),
    /// Create an admin user (the password is inside).
    CreateAdminUser(Box<NewAdminUser>),
    /// PUT-merge a patch into an admin user.
    UpdateAdminUser(u64, Patch),
    /// Set an admin user inactive.
    DeactivateAdminUser(u64),
    /// Delete an admin user.
    DeleteAdminUser(u64),
    /// Every admin role.
    ListRoles,
    /// Submit customer patches as asynchronous bulk updates.
    SubmitBulkUpdates(Vec<(u64, Patch)>),
    /// The status of one bulk.
    BulkStatus(String),
    /// Wait until every bulk is final; fail when nothing finishes for the duration.
    WaitBulks(Vec<String>, Duration),
}

impl Call {
    /// The call's kind: its row in the table of calls.
    pub fn kind(&self) -> CallKind {
        match self {
            Call::SearchCustomers(_) => CallKind::SearchCustomers,
            Call::GetCustomer(_) => CallKind::GetCustomer,
            Call::FindCustomerByEmail(..) => CallKind::FindCustomerByEmail,
            Call::CreateCustomer(_) => CallKind::CreateCustomer,
            Call::UpdateCustomer(..) => CallKind::UpdateCustomer,
            Call::DeleteCustomer(_) => CallKind::DeleteCustomer,
            Call::ListGroups => CallKind::ListGroups,
            Call::SearchAdminUsers(_) => CallKind::SearchAdminUsers,
            Call::GetAdminUser(_) => CallKind::GetAdminUser,
            Call::FindAdminUserByEmail(_) => CallKind::FindAdminUserByEmail,
            Call::CreateAdminUser(_) => CallKind::CreateAdminUser,
            Call::UpdateAdminUser(..) => CallKind::UpdateAdminUser,
            Call::DeactivateAdminUser(_) => CallKind::DeactivateAdminUser,
            Call::DeleteAdminUser(_) => CallKind::DeleteAdminUser,
            Call::ListRoles => CallKind::ListRoles,
            Call::SubmitBulkUpdates(_) => CallKind::SubmitBulkUpdates,
            Call::BulkStatus(_) => CallKind::BulkStatus,
            Call::WaitBulks(..) => CallKind::WaitBulks,
        }
    }

    /// The WIT function that makes this call, e.g. `customers.get`.
    pub fn name(&self) -> &'static str {
        self.kind().name()
    }

    /// The write this call makes, or the call back when it only reads. `since` is a time no
    /// later than the write's first sending (a bulk in doubt is looked for in Magento's
    /// operation log from there).
    #[expect(
        clippy::result_large_err,
        reason = "the call comes back whole to be sent as a read; boxing it would cost every read"
    )]
    pub fn into_write(self, since: u64) -> Result<Write, Call> {
        Ok(match self {
            Call::CreateCustomer(new) => Write::CreateCustomer(new),
            Call::UpdateCustomer(id, patch) => Write::UpdateCustomer(id, patch),
            Call::DeleteCustomer(id) => Write::DeleteCustomer(id),
            Call::CreateAdminUser(new) => Write::CreateAdminUser(new),
            Call::UpdateAdminUser(id, patch) => Write::UpdateAdminUser(id, patch),
            Call::DeactivateAdminUser(id) => {
                Write::UpdateAdminUser(id, Patch::new().set("is_active", false))
            }
            Call::DeleteAdminUser(id) => Write::DeleteAdminUser(id),
            Call::SubmitBulkUpdates(updates) => Write::BulkUpdateCustomers {
                updates,
                chunk: BULK_CHUNK,
                since,
            },
            read => return Err(read),
        })
    }

    /// Whether the call changes Magento (a dry run plans these instead of sending them).
    pub fn writes(&self) -> bool {
        self.kind().writes()
    }
}

/// The answer to a [`Call`]. Each call has exactly one reply shape; the host treats any other
/// shape as a broken gateway and stops the run.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[non_exhaustive]
pub enum Reply {
    /// A page of customers.
    CustomerPage(SearchPage<Customer>),
    /// One customer.
    Customer(Box<Customer>),
    /// A customer, or none.
    MaybeCustomer(Option<Box<Customer>>),
    /// Customer groups.
    Groups(Vec<Group>),
    /// Admin users.
    AdminUsers(Vec<AdminUser>),
    /// One admin user.
    AdminUser(Box<AdminUser>),
    /// An admin user, or none.
    MaybeAdminUser(Option<Box<AdminUser>>),
    /// Admin roles.
    Roles(Vec<Role>),
    /// Bulk receipts.
    Receipts(Vec<BulkReceipt>),
    /// One bulk status.
    BulkStatus(BulkStatus),
    /// Several bulk statuses.
    BulkStatuses(Vec<BulkStatus>),
    /// Done, nothing to report (deletes).
    Done,
}

/// Why a call did not do what was asked, as data a journal can keep.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, thiserror::Error)]
#[non_exhaustive]
pub enum Failure {
    /// Magento refused the request (its status, template and parameters kept whole).
    #[error("{0}")]
    Refused(Box<Refusal>),
    /// A check made before sending failed (password rules, unknown website or role, ...).
    #[error("{field}: {message}")]
    Invalid {
        /// What was checked.
        field: String,
        /// Why it failed.
        message: String,
    },
    /// The workflow's policy does not allow the call (the reason is named).
    #[error("{0}")]
    Denied(String),
    /// Magento could not be reached or kept failing, or the client met another fault.
    #[error("{0}")]
    Unavailable(String),
    /// No answer came from Magento: the connection failed, dropped or timed out.
    #[error("{0}")]
    Unreachable(String),
    /// Not an answer: the call failed for a while that a retry policy may wait out, and the
    /// run stops here to be resumed later by replay (the engine's durable retries). Never
    /// journaled, never shown to a plugin.
    #[error("{reason}; retrying in {after:?}")]
    Postponed {
        /// The last failure.
        reason: String,
        /// How long until the next attempt.
        after: Duration,
    },
}

impl From<Error> for Failure {
    fn from(e: Error) -> Failure {
        match e {
            Error::Refused(r) => Failure::Refused(r),
            Error::Invalid { field, message } => Failure::Invalid { field, message },
            e @ (Error::Transport { .. } | Error::Timeout { .. }) => {
                Failure::Unreachable(format!("{e:#}"))
            }
            other => Failure::Unavailable(other.to_string()),
        }
    }
}

impl Failure {
    /// Whether asking again later may succeed: Magento could not be reached, or answered 429
    /// or 5xx. Refusals that retrying cannot fix (400, 401, 404, denied, invalid) are not.
    pub fn is_transient(&self) -> bool {
        match self {
            Failure::Refused(r) => r.status == 429 || r.status >= 500,
            Failure::Unreachable(_) => true,
            _ => false,
        }
    }
}

impl From<Wrote> for Reply {
    fn from(w: Wrote) -> Reply {
        match w {
            Wrote::Customer(c) => Reply::Customer(Box::new(c)),
            Wrote::AdminUser(u) => Reply::AdminUser(Box::new(u)),
            Wrote::Deleted => Reply::Done,
            Wrote::Receipts(r) => Reply::Receipts(r),
        }
    }
}

/// A gateway's answer in flight.
pub type Pending<'a> = Pin<Box<dyn Future<Output = Result<Reply, Failure>> + Send + 'a>>;

/// Something that answers Magento calls: Magento itself through [`MagentoClient`], or a
/// wrapper that journals, replays or plans.
pub trait Gateway: Send + Sync + std::fmt::Debug {
    /// Answers one call.
    fn call(&self, call: Call) -> Pending<'_>;
}

impl Gateway for MagentoClient {
    fn call(&self, call: Call) -> Pending<'_> {
        Box::pin(async move { carry_out(self, call).await.map_err(Failure::from) })
    }
}

/// How the client carries out each call: writes through [`MagentoClient::write`], which sends
/// each exactly once, reads as they are.
async fn carry_out(client: &MagentoClient, call: Call) -> Result<Reply, Error> {
    let since = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let read = match call.into_write(since) {
        Ok(w) => return Ok(client.write(&w, false).await?.wrote.into()),
        Err(read) => read,
    };
    // Every variant is named (no wildcard), so a new call is a compile error until it is
    // carried out here or made a write in `into_write`.
    Ok(match read {
        Call::SearchCustomers(c) => Reply::CustomerPage(client.search_customers(&c).await?),
        Call::GetCustomer(id) => Reply::Customer(Box::new(client.customer(id).await?)),
        Call::FindCustomerByEmail(email, website) => Reply::MaybeCustomer(
            client
                .find_customer_by_email(&email, website)
                .await?
                .map(Box::new),
        ),
        Call::ListGroups => Reply::Groups(client.customer_groups().await?),
        Call::SearchAdminUsers(c) => Reply::AdminUsers(client.admin_users(c).collect().await?),
        Call::GetAdminUser(id) => Reply::AdminUser(Box::new(client.admin_user(id).await?)),
        Call::FindAdminUserByEmail(email) => {
            Reply::MaybeAdminUser(client.find_admin_user_by_email(&email).await?.map(Box::new))
        }
        Call::ListRoles => Reply::Roles(client.roles().await?),
        Call::BulkStatus(uuid) => Reply::BulkStatus(client.bulk_status(&uuid).await?),
        Call::WaitBulks(uuids, stall_after) => {
            let wait = Wait {
                stall_after,
                ..Wait::default()
            };
            Reply::BulkStatuses(client.wait_bulks(&uuids, &wait, |_, _| {}).await?)
        }
        Call::CreateCustomer(_)
        | Call::UpdateCustomer(..)
        | Call::DeleteCustomer(_)
        | Call::CreateAdminUser(_)
        | Call::UpdateAdminUser(..)
        | Call::DeactivateAdminUser(_)
        | Call::DeleteAdminUser(_)
        | Call::SubmitBulkUpdates(_) => {
            unreachable!("into_write takes every write, not {}", read.name())
        }
    })
}
