//! Triggers, in one place: cron schedules (`cron.rs`), `updated_at` polling (`poll.rs`), and
//! the loops that fire them and wake runs whose time has come (retries whose backoff has
//! passed, approvals that expire). Webhooks arrive over HTTP and are checked by the server,
//! which queues them through [`Engine::queue`].
//!
//! The loops take the wall clock as a function and sleep on tokio's clock, so a test can run
//! them under paused time.

mod cron;
mod poll;

use std::collections::BTreeMap;
use std::time::Duration;

use mageflow_model::workflow::Trigger;
use tokio::time::Instant;

use crate::engine::Engine;

/// How often cron and poll triggers are looked at, retrying runs for being due, and approvals
/// for expiry.
const TICK: Duration = Duration::from_secs(1);

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

    /// Runs the trigger loop and the wake-up loop until the process ends, every second:
    /// runs that triggers queue and retrying runs that are due go to `dispatch` (the
    /// workers); approvals whose time ran out are settled and their runs resumed. `clock`
    /// answers Unix seconds.
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
                if let Err(e) = self.expire_due().await {
                    tracing::error!(error = %e.with_causes(), "expiring approvals failed");
                }
            }
        };
        tokio::join!(firing, waking);
    }
}
