//! Durable retries, after Temporal's activity retry policy: a Magento call that keeps failing
//! for a reason time may cure (unreachable, 429, 5xx, after the client's own quick retries)
//! does not fail the run. The run stops at that call, `retrying`, holding no worker and
//! nothing in memory but a wake-up time, and is replayed from its journal when the backoff has
//! passed: recorded answers come back, and the call is asked again (a write in doubt is
//! reconciled first). Errors no retry can fix (400, 401, 404, denied) reach the plugin at
//! once; so does `unavailable` once the policy gives up.
//!
//! ```toml
//! [retry]                  # the defaults
//! initial-interval = "1s"
//! backoff = 2.0
//! max-interval = "5m"
//! max-elapsed = "24h"
//! max-attempts = 0         # 0: bounded by max-elapsed only; 1: no durable retries
//! ```

use std::time::Duration;

use mageflow_store::Retrying;
use serde::Deserialize;
use toml::Spanned;

/// A workflow's retry policy for transient Magento failures.
#[derive(Debug, Clone, PartialEq)]
pub struct RetryPolicy {
    /// Wait before the second attempt.
    pub initial_interval: Duration,
    /// Each wait is this many times the one before.
    pub backoff: f64,
    /// Longest wait between attempts.
    pub max_interval: Duration,
    /// Give up when the next attempt would come later than this after the first failure.
    pub max_elapsed: Duration,
    /// Give up after this many attempts of one call (0: no bound but `max_elapsed`).
    pub max_attempts: u32,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            initial_interval: Duration::from_secs(1),
            backoff: 2.0,
            max_interval: Duration::from_secs(300),
            max_elapsed: Duration::from_secs(86_400),
            max_attempts: 0,
        }
    }
}

/// `[retry]` as written.
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub(crate) struct RetryFile {
    initial_interval: Option<Spanned<String>>,
    backoff: Option<Spanned<f64>>,
    max_interval: Option<Spanned<String>>,
    max_elapsed: Option<Spanned<String>>,
    max_attempts: Option<Spanned<u32>>,
}

impl RetryFile {
    /// The policy, or the span and message of the first bad value.
    pub(crate) fn policy(&self) -> Result<RetryPolicy, (std::ops::Range<usize>, String)> {
        let mut p = RetryPolicy::default();
        let duration = |v: &Spanned<String>, key: &str| {
            crate::workflow::parse_duration(v.get_ref()).ok_or_else(|| {
                (
                    v.span(),
                    format!(
                        "{key} {:?} is not a duration: write e.g. \"1s\", \"5m\" or \"24h\"",
                        v.get_ref()
                    ),
                )
            })
        };
        if let Some(v) = &self.initial_interval {
            p.initial_interval = duration(v, "initial-interval")?;
            if p.initial_interval.is_zero() {
                return Err((v.span(), "initial-interval must be more than 0".into()));
            }
        }
        if let Some(v) = &self.max_interval {
            p.max_interval = duration(v, "max-interval")?;
        }
        if let Some(v) = &self.max_elapsed {
            p.max_elapsed = duration(v, "max-elapsed")?;
        }
        if let Some(v) = &self.backoff {
            if !(v.get_ref().is_finite() && *v.get_ref() >= 1.0) {
                return Err((
                    v.span(),
                    format!("backoff {} must be a number of at least 1.0", v.get_ref()),
                ));
            }
            p.backoff = *v.get_ref();
        }
        if let Some(v) = &self.max_attempts {
            p.max_attempts = *v.get_ref();
        }
        if p.max_interval < p.initial_interval {
            let span = self
                .max_interval
                .as_ref()
                .or(self.initial_interval.as_ref())
                .map(Spanned::span)
                .unwrap_or_default();
            return Err((
                span,
                format!(
                    "max-interval ({:?}) is shorter than initial-interval ({:?})",
                    p.max_interval, p.initial_interval
                ),
            ));
        }
        Ok(p)
    }
}

impl RetryPolicy {
    /// After call `seq` (`name`) failed with `error` at `now`, with `before` the run's retry
    /// state: the state to keep and the wait until the next attempt, or `None` when the
    /// policy gives up (the plugin then gets the failure). `jitter` in `[0, 1)` spreads
    /// retries of many runs.
    pub fn next(
        &self,
        before: Option<&Retrying>,
        seq: u64,
        name: &str,
        error: &str,
        now: u64,
        jitter: f64,
    ) -> Option<(Retrying, Duration)> {
        let (attempts, first) = match before {
            Some(r) if r.call == seq => (r.attempts + 1, r.first_failed_at),
            _ => (1, now),
        };
        if self.max_attempts != 0 && attempts >= self.max_attempts {
            return None;
        }
        let exp = self
            .backoff
            .powi(i32::try_from(attempts - 1).unwrap_or(i32::MAX));
        let full = self
            .initial_interval
            .mul_f64(exp.min(1e9))
            .min(self.max_interval);
        // Between 80 % and 120 % of the computed wait, never past the longest.
        let wait = full.mul_f64(0.8 + 0.4 * jitter).min(self.max_interval);
        let wait = wait.max(Duration::from_secs(1));
        if Duration::from_secs(now.saturating_sub(first)) + wait > self.max_elapsed {
            return None;
        }
        Some((
            Retrying {
                call: seq,
                name: name.to_owned(),
                attempts,
                first_failed_at: first,
                next_at: now + wait.as_secs_f64().ceil() as u64,
                last_error: error.to_owned(),
            },
            wait,
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_grow_to_the_longest_and_give_up_after_the_elapsed_bound() {
        let p = RetryPolicy::default();
        let (first, wait) = p
            .next(None, 7, "customers.update", "503", 1000, 0.5)
            .unwrap();
        assert_eq!((first.attempts, first.first_failed_at), (1, 1000));
        assert_eq!(wait, Duration::from_secs(1));
        let mut state = first;
        let mut waits = Vec::new();
        for i in 0..12 {
            let (next, wait) = p
                .next(Some(&state), 7, "customers.update", "503", 1000 + i, 0.5)
                .unwrap();
            waits.push(wait.as_secs());
            state = next;
        }
        assert_eq!(&waits[..4], &[2, 4, 8, 16]);
        assert_eq!(*waits.last().unwrap(), 300, "capped at max-interval");
        assert!(
            p.next(
                Some(&state),
                7,
                "customers.update",
                "503",
                1000 + 86_400,
                0.5
            )
            .is_none(),
            "a day after the first failure it gives up"
        );
        let (other, _) = p
            .next(Some(&state), 8, "customers.get", "503", 5000, 0.5)
            .unwrap();
        assert_eq!(other.attempts, 1, "another call starts its own count");
    }

    #[test]
    fn one_attempt_means_no_durable_retries() {
        let p = RetryPolicy {
            max_attempts: 1,
            ..RetryPolicy::default()
        };
        assert!(p.next(None, 0, "customers.get", "503", 0, 0.0).is_none());
    }
}
