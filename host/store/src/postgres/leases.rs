//! Fenced leases in PostgreSQL: what this worker holds, and its heartbeat. (Claiming is in
//! `claims.rs`.)
//!
//! A claim increments the run's fence and sets its owner and `lease_until` (the lease's end
//! plus the owner's grace, so another worker's claim needs no knowledge of this one's
//! timeouts). The worker keeps its own deadline on its monotonic clock, started before the
//! claim was sent, so it never believes in a lease longer than the database grants it, and a
//! worker frozen past its deadline finds the lease lost when it wakes, whatever the database
//! says.

use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex, OnceLock, Weak};
use std::time::{Duration, Instant};

use super::pool::{Conn, Pool};
use super::{Postgres, big, id};
use crate::{Hold, LeaseTerms, Result, RunId};

/// A run this worker claimed.
#[derive(Debug, Clone, Copy)]
struct Held {
    fence: i64,
    /// When the lease ends, on this worker's clock.
    deadline: Instant,
    lost: bool,
}

/// The runs this worker holds, and how its leases last.
#[derive(Debug)]
pub(crate) struct Leases {
    owner: String,
    terms: Mutex<LeaseTerms>,
    held: Mutex<HashMap<RunId, Held>>,
    pool: Weak<Pool>,
    heartbeat: OnceLock<std::thread::Thread>,
    /// Held while this worker claims: a claim by id never takes a run this worker's claim
    /// loop is taking at the same moment.
    claiming: Mutex<()>,
}

impl Leases {
    pub(super) fn new(owner: &str, pool: Weak<Pool>) -> Leases {
        Leases {
            owner: owner.to_owned(),
            terms: Mutex::new(LeaseTerms::default()),
            held: Mutex::default(),
            pool,
            heartbeat: OnceLock::new(),
            claiming: Mutex::default(),
        }
    }

    /// Serialises this worker's claims.
    pub(super) fn claiming(&self) -> std::sync::MutexGuard<'_, ()> {
        self.claiming.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Whether this worker holds `run` under a lease it has not lost.
    pub(super) fn holds(&self, run: RunId) -> bool {
        matches!(self.hold_of(run).0, Hold::Held(_))
    }

    pub(super) fn owner(&self) -> &str {
        &self.owner
    }

    pub(super) fn set_terms(&self, terms: LeaseTerms) {
        *self.terms.lock().unwrap_or_else(|e| e.into_inner()) = terms;
    }

    pub(super) fn terms(&self) -> LeaseTerms {
        *self.terms.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// `lease_until` as the database sets it: the lease and the grace, in seconds.
    pub(super) fn until_secs(&self) -> f64 {
        let t = self.terms();
        (t.ttl + t.grace).as_secs_f64()
    }

    fn held(&self) -> std::sync::MutexGuard<'_, HashMap<RunId, Held>> {
        self.held.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Notes a claim of `run` under `fence`, sent at `since`, and starts the heartbeat.
    pub(super) fn take(self: &Arc<Leases>, run: RunId, fence: i64, since: Instant) {
        let deadline = since + self.terms().ttl;
        let mut held = self.held();
        // A later claim's fence is the one that counts.
        if held.get(&run).is_none_or(|h| h.fence < fence) {
            held.insert(
                run,
                Held {
                    fence,
                    deadline,
                    lost: false,
                },
            );
        }
        drop(held);
        self.heartbeat
            .get_or_init(|| beat_forever(Arc::downgrade(self)));
    }

    /// The fence this worker holds `run` under, when it claimed it: `Err` when lost.
    pub(super) fn fence_of(&self, run: RunId) -> Result<Option<i64>> {
        match self.hold_of(run) {
            (Hold::Lost, _) => Err(crate::Error::LeaseLost(run)),
            (_, fence) => Ok(fence),
        }
    }

    pub(super) fn hold_of(&self, run: RunId) -> (Hold, Option<i64>) {
        let mut held = self.held();
        let Some(h) = held.get_mut(&run) else {
            return (Hold::Unleased, None);
        };
        let now = Instant::now();
        if !h.lost && now >= h.deadline {
            h.lost = true;
            tracing::warn!(run, worker = %self.owner, "lease lost: its time ran out before a heartbeat renewed it; this worker sends and writes nothing more for the run");
        }
        if h.lost {
            (Hold::Lost, Some(h.fence))
        } else {
            (Hold::Held(h.deadline - now), Some(h.fence))
        }
    }

    /// Of `runs`, those this worker holds, as `(run, fence)` to check, and those already lost.
    pub(super) fn fences(&self, runs: &BTreeSet<i64>) -> (Vec<(i64, i64)>, BTreeSet<i64>) {
        let mut check = Vec::new();
        let mut lost = BTreeSet::new();
        for &run in runs {
            match self.hold_of(id(run)) {
                (Hold::Lost, _) => {
                    lost.insert(run);
                }
                (_, Some(fence)) => check.push((run, fence)),
                (_, None) => {}
            }
        }
        (check, lost)
    }

    /// Checks fences in the transaction `tx`, locking the runs' rows against a claim until it
    /// ends: answers the runs whose fence moved (another worker claimed them).
    pub(super) fn check_fences(
        &self,
        tx: &mut Conn,
        fenced: &[(i64, i64)],
    ) -> Result<BTreeSet<i64>> {
        if fenced.is_empty() {
            return Ok(BTreeSet::new());
        }
        let ids: Vec<i64> = fenced.iter().map(|f| f.0).collect();
        let rows = tx.query(
            "SELECT id, fence FROM runs WHERE id = ANY($1) ORDER BY id FOR SHARE",
            &[&ids],
        )?;
        let now: HashMap<i64, i64> = rows.iter().map(|r| (r.get(0), r.get(1))).collect();
        Ok(fenced
            .iter()
            .filter(|(run, fence)| now.get(run) != Some(fence))
            .map(|f| f.0)
            .collect())
    }

    /// Marks runs lost (their fence moved).
    pub(super) fn lose(&self, runs: &BTreeSet<i64>) {
        let mut held = self.held();
        for run in runs {
            if let Some(h) = held.get_mut(&id(*run)) {
                if !h.lost {
                    tracing::warn!(run, worker = %self.owner, "lease lost: another worker took the run over; this worker sends and writes nothing more for it");
                }
                h.lost = true;
            }
        }
    }

    /// Forgets `run`.
    pub(super) fn forget(&self, run: RunId) {
        self.held().remove(&run);
    }

    /// Renews every lease this worker holds, in one statement; a run whose fence moved, or
    /// that this worker's clock says ran out first, is lost.
    fn beat(&self, pool: &Pool) -> Result<()> {
        let since = Instant::now();
        let live: Vec<(RunId, i64)> = self
            .held()
            .iter()
            .filter(|(_, h)| !h.lost && h.deadline > since)
            .map(|(run, h)| (*run, h.fence))
            .collect();
        if live.is_empty() {
            return Ok(());
        }
        let ids: Vec<i64> = live.iter().map(|l| big(l.0)).collect::<Result<_>>()?;
        let fences: Vec<i64> = live.iter().map(|l| l.1).collect();
        let rows = pool.get()?.query(
            "UPDATE runs r SET lease_until = now() + make_interval(secs => $3)
             FROM unnest($1::bigint[], $2::bigint[]) AS h(id, fence)
             WHERE r.id = h.id AND r.fence = h.fence AND r.lease_owner = $4
             RETURNING r.id",
            &[&ids, &fences, &self.until_secs(), &self.owner],
        )?;
        let renewed: BTreeSet<i64> = rows.iter().map(|r| r.get(0)).collect();
        let deadline = since + self.terms().ttl;
        let mut lost = BTreeSet::new();
        {
            let mut held = self.held();
            let now = Instant::now();
            for (run, fence) in live {
                let Some(h) = held.get_mut(&run) else {
                    continue;
                };
                if h.fence != fence || h.lost {
                    continue;
                }
                if !renewed.contains(&big(run)?) {
                    lost.insert(big(run)?);
                } else if h.deadline > now {
                    h.deadline = h.deadline.max(deadline);
                }
            }
        }
        self.lose(&lost);
        Ok(())
    }
}

/// The heartbeat's thread: renews this worker's leases every quarter lease until the store
/// is dropped. (A frozen process freezes it too, which is the point.)
fn beat_forever(leases: Weak<Leases>) -> std::thread::Thread {
    let spawned = std::thread::Builder::new()
        .name("mageflow-heartbeat".into())
        .spawn(move || {
            loop {
                let every = match leases.upgrade() {
                    Some(l) => (l.terms().ttl / 4).max(Duration::from_millis(50)),
                    None => return,
                };
                std::thread::park_timeout(every);
                let Some(l) = leases.upgrade() else { return };
                let Some(pool) = l.pool.upgrade() else { return };
                if let Err(e) = l.beat(&pool) {
                    tracing::warn!(worker = %l.owner, error = %e, "the lease heartbeat failed: runs stop sending when their leases run out");
                }
            }
        });
    match spawned {
        Ok(handle) => handle.thread().clone(),
        Err(e) => {
            tracing::error!(error = %e, "the lease heartbeat could not start: leases run out unrenewed");
            std::thread::current()
        }
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        // Let the heartbeat see the store is gone.
        if let Some(t) = self.leases.heartbeat.get() {
            t.unpark();
        }
    }
}
