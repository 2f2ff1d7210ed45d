//! Triggers, in one place: cron schedules (`cron.rs`), `updated_at` polling (`poll.rs`), and
//! the loops that fire them and wake runs whose time has come (retries whose backoff has
//! passed, approvals that expire). Webhooks arrive over HTTP and are checked by the server,
//! which queues them through [`Engine::queue`].
//!
//! On a shared store (PostgreSQL, several workers) each worker also claims runs it did not
//! queue itself: runs another worker queued but has no room for, runs woken by a decision
//! taken elsewhere, retries whose time has come, and runs whose worker died. It claims when
//! woken by the store (`LISTEN/NOTIFY`) and every second besides, since notifications can be
//! lost. Approval expiry is done by one worker at a time, under a lease.
//!
//! The loops take the wall clock as a function and sleep on tokio's clock, so a test can run
//! them under paused time.

mod cron;
mod poll;

use std::collections::BTreeMap;
use std::time::Duration;

use mageflow_model::workflow::Trigger;
use tokio::time::Instant;

use crate::engine::{CAPACITY, Engine};

/// How often cron and poll triggers are looked at, retrying runs for being due, and approvals
/// for expiry; and how often a worker on a shared store looks for runs to claim.
const TICK: Duration = Duration::from_secs(1);

/// The least time between two claims on a wake-up: many runs queued at once wake a worker
/// once, not once each.
const CLAIM_SPACING: Duration = Duration::from_millis(100);

/// The lease a worker takes to expire approvals: renewed every tick while it lives.
const EXPIRY_LEASE: Duration = Duration::from_secs(10);

impl Engine {
    /// Fires what is due at `now` (Unix seconds): every cron workflow's ticks, and each poll
    /// workflow whose interval has passed since `polled` says it last ran. The runs queued.
    /// A trigger that fails is logged with its causes and the others go on.
    pub async fn fire_triggers(
        &self,
        now: u64,
        polled: &mut BTreeMap<String, Instant>,
    ) -> Vec<u64> {
        let mut queued = Vec::new();
        for w in self.workflows() {
            let name = w.def.name.as_str();
            let fired = match &w.def.trigger {
                Trigger::Cron { .. } => self.cron_tick(name, now),
                Trigger::Poll { interval, .. } => {
                    if polled.get(name).is_some_and(|t| t.elapsed() < *interval) {
                        continue;
                    }
                    polled.insert(name.to_owned(), Instant::now());
                    self.poll(name, now).await
                }
                Trigger::Manual | Trigger::Webhook { .. } => continue,
            };
            match fired {
                Ok(runs) => queued.extend(runs),
                Err(e) => {
                    tracing::warn!(workflow = name, error = %e.with_causes(), "trigger failed");
                }
            }
        }
        queued
    }

    /// Claims due runs from a shared store, as many as this worker has room for; their ids
    /// go to `dispatch`, which executes each with the claim already made.
    pub async fn claim_due(&self, now: u64) -> Vec<u64> {
        let room = CAPACITY.saturating_sub(self.busy());
        if room == 0 || !self.store().shared() {
            return Vec::new();
        }
        match self.store().blocking(move |s| s.claim_due(room, now)).await {
            Ok(claimed) => self.keep_claimed(claimed),
            Err(e) => {
                tracing::warn!(error = %e, "claiming due runs failed: trying again in a second");
                Vec::new()
            }
        }
    }

    /// Whether this worker is the one that expires approvals now (always, on a store of one
    /// process's).
    async fn expires_approvals(&self) -> bool {
        match self
            .store()
            .blocking(|s| s.lease_cursor("job/expire-approvals", EXPIRY_LEASE))
            .await
        {
            Ok(lease) => lease.is_some(),
            Err(e) => {
                tracing::warn!(error = %e, "the approval expiry lease could not be taken");
                false
            }
        }
    }

    /// Runs the trigger loop and the wake-up loop until the process ends, every second:
    /// runs that triggers queue and retrying runs that are due go to `dispatch` (the
    /// workers); approvals whose time ran out are settled and their runs resumed. On a
    /// shared store, due runs are claimed too (see the module's notes). `clock` answers Unix
    /// seconds.
    pub async fn run_triggers(
        &self,
        clock: &(dyn Fn() -> u64 + Sync),
        dispatch: &(dyn Fn(u64) + Sync),
    ) {
        let firing = async {
            let mut polled = BTreeMap::new();
            let mut tick = tokio::time::interval(TICK);
            loop {
                tick.tick().await;
                for run in self.fire_triggers(clock(), &mut polled).await {
                    dispatch(run);
                }
            }
        };
        // Apart from firing, so that a slow poll of Magento delays no expiry or retry.
        let waking = async {
            let mut tick = tokio::time::interval(TICK);
            loop {
                tick.tick().await;
                for run in self.due_retries(clock()) {
                    dispatch(run);
                }
                if self.expires_approvals().await
                    && let Err(e) = self.expire_due().await
                {
                    tracing::error!(error = %e.with_causes(), "expiring approvals failed");
                }
            }
        };
        let claiming = async {
            let Some(woken) = self.store().wakeups() else {
                return;
            };
            loop {
                tokio::select! {
                    () = woken.notified() => {}
                    () = tokio::time::sleep(TICK) => {}
                }
                for run in self.claim_due(clock()).await {
                    dispatch(run);
                }
                tokio::time::sleep(CLAIM_SPACING).await;
            }
        };
        tokio::join!(firing, waking, claiming);
    }
}
