//! A guard around a piece of work: asked before every request the work sends to Magento, it
//! can stop a request unsent. The engine sets one around each attempt at a run, so a worker
//! that no longer holds the run's lease, or whose lease would end before the request's
//! timeout, sends nothing more for it, retries and reconciliation included.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use crate::{Error, Result};

/// Answers whether a request that may take the given timeout may still be sent; `Err` says
/// why not.
pub type Guard = Arc<dyn Fn(Duration) -> std::result::Result<(), String> + Send + Sync>;

tokio::task_local! {
    static GUARD: Guard;
}

/// Runs `work` with `guard` asked before each request it sends (on this task).
pub async fn guarded<F: Future>(guard: Guard, work: F) -> F::Output {
    GUARD.scope(guard, work).await
}

/// Whether the current task's guard, if any, lets a request with `timeout` go.
pub(crate) fn check(timeout: Duration) -> Result<()> {
    match GUARD.try_with(|g| g(timeout)) {
        Ok(Err(why)) => Err(Error::Halted(why)),
        _ => Ok(()),
    }
}
