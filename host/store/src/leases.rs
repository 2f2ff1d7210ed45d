//! Leases: how several workers share one store without running a run twice, firing a trigger
//! twice, or letting a worker that lost its hold write again.
//!
//! A worker claims a run (queued, due to retry, or resumable after a decision) and holds it
//! under a lease with a fence number that every claim increments. Whatever the worker then
//! writes for the run (journal, status, the approval it opens, the workflow state it sets) is
//! checked against that fence in the same statement or transaction, so a worker whose lease
//! was taken writes nothing more: the store answers [`Error::LeaseLost`](crate::Error) or
//! drops what it held. The worker also knows locally how long its lease has left
//! ([`Hold::Held`]) and sends a Magento write only while that exceeds the write's timeout;
//! another worker takes the run only after the lease and a grace of that timeout have both
//! passed ([`LeaseTerms`]), so a write in flight has ended, one way or the other, before
//! anyone reconciles it.
//!
//! sled is one process's store: it leases nothing ([`Hold::Unleased`]), and every run is
//! dispatched by the process that queued it.

use std::time::Duration;

use serde_json::Value;

use crate::{Result, RunId, Started};

/// How a worker's leases last.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LeaseTerms {
    /// How long a claim or a heartbeat holds a run: heartbeats renew it every quarter of
    /// this.
    pub ttl: Duration,
    /// How long past a lease's end another worker still waits before it takes the run: the
    /// longest a Magento request of this worker may take, so a write sent in time has ended
    /// before anyone looks at it again.
    pub grace: Duration,
}

impl Default for LeaseTerms {
    /// 60 s leases with a 30 s grace: the Magento client's default request timeout.
    fn default() -> LeaseTerms {
        LeaseTerms {
            ttl: Duration::from_secs(60),
            grace: Duration::from_secs(30),
        }
    }
}

/// Where this worker stands with a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hold {
    /// The store leases nothing (sled) or this worker never claimed the run: nothing limits
    /// what it sends.
    Unleased,
    /// Held, with this long left before the lease ends.
    Held(Duration),
    /// Lost: another worker took the run, or the lease ran out before a heartbeat renewed
    /// it. Nothing more may be sent or written for the run by this worker.
    Lost,
}

impl Hold {
    /// Whether a request that may take `timeout` can still be sent: the lease outlives it.
    pub fn allows(self, timeout: Duration) -> bool {
        match self {
            Hold::Unleased => true,
            Hold::Held(left) => left > timeout,
            Hold::Lost => false,
        }
    }
}

/// A trigger cursor's move, queued with the runs it produced.
#[derive(Debug, Clone, Copy)]
pub struct CursorMove<'a> {
    /// The cursor (`cron/NAME`, `poll/NAME`).
    pub key: &'a str,
    /// Where it moves to.
    pub to: &'a Value,
    /// What must still hold for the move (and its runs) to be written.
    pub guard: CursorGuard<'a>,
}

/// What a cursor move checks first, so that of two workers firing the same trigger only one
/// queues its runs.
#[derive(Debug, Clone, Copy)]
pub enum CursorGuard<'a> {
    /// Nothing: the move is written whatever the cursor holds.
    None,
    /// The cursor still holds this value (`None`: it does not exist), and no other worker has
    /// it locked: a cron tick (`FOR UPDATE SKIP LOCKED` on PostgreSQL).
    Was(Option<&'a Value>),
    /// The cursor's lease, taken with [`LeaseStore::lease_cursor`], still has this fence: a
    /// poll, which asks Magento between taking the lease and moving the cursor. The move
    /// lets the lease go.
    Fence(i64),
}

impl<'a> CursorMove<'a> {
    /// Moves `key` to `to` unconditionally.
    pub fn set(key: &'a str, to: &'a Value) -> CursorMove<'a> {
        CursorMove {
            key,
            to,
            guard: CursorGuard::None,
        }
    }
}

/// A cursor's lease ([`LeaseStore::lease_cursor`]).
#[derive(Debug, Clone, PartialEq)]
pub struct CursorLease {
    /// The fence to move the cursor under ([`CursorGuard::Fence`]).
    pub fence: i64,
    /// The cursor's value as the lease found it.
    pub value: Option<Value>,
}

/// Runs waiting for a worker.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct QueueStats {
    /// Runs due now that no worker holds.
    pub depth: u64,
    /// When the oldest of them was created (Unix seconds).
    pub oldest_created_at: Option<u64>,
}

/// Sharing the store between workers.
pub trait LeaseStore {
    /// Whether several workers may use this store at once (PostgreSQL). When not, every run
    /// is executed by the process that queued it, and unfinished runs are resumed at start.
    fn shared(&self) -> bool;

    /// The name this worker goes by in leases, logs and metrics.
    fn worker(&self) -> String;

    /// Sets how this worker's leases last (before it claims anything).
    fn set_lease_terms(&self, terms: LeaseTerms);

    /// Where this worker stands with `run`.
    fn hold(&self, run: RunId) -> Hold;

    /// Forgets this worker's lease on `run` without writing anything: the run is left to
    /// whoever takes it once the lease has run out.
    fn release(&self, run: RunId);

    /// Claims up to `limit` runs that are due at `now` (Unix seconds) and that no worker
    /// holds (skipping those another worker is claiming), and begins an attempt at each.
    /// Empty where the store is not [`shared`](LeaseStore::shared).
    fn claim_due(&self, limit: usize, now: u64) -> Result<Vec<Started>>;

    /// The runs due at `now` that no other worker holds (this worker's own leases count as
    /// free: they are of attempts this process no longer runs), oldest first: what a worker
    /// resumes when it starts.
    fn unclaimed(&self, now: u64) -> Result<Vec<RunId>>;

    /// Takes the lease of a trigger cursor (a poll's, or a job such as approval expiry that
    /// one worker at a time should do) for `ttl`: its fence and value, or `None` while
    /// another worker holds it. This worker's own lease is renewed.
    fn lease_cursor(&self, key: &str, ttl: Duration) -> Result<Option<CursorLease>>;

    /// Runs due now that no worker holds, and the oldest one's age (for metrics).
    fn queue_stats(&self, now: u64) -> Result<QueueStats>;

    /// A handle that is notified when another worker may have queued or woken a run
    /// (PostgreSQL's `LISTEN/NOTIFY`). Notifications can be lost: claim on a timer too.
    fn wakeups(&self) -> Option<std::sync::Arc<tokio::sync::Notify>>;
}
