//! Cron triggers. Each workflow's next fire time is persisted, so a restart neither loses nor
//! doubles a tick; ticks missed while mageflow was down follow the workflow's policy (skip,
//! run once, run each up to a bound), and a tick that finds the previous run unfinished
//! follows its overlap policy. Time is passed in, so tests drive the clock.

use std::str::FromStr;

use chrono::{DateTime, FixedOffset, TimeZone as _};
use mageflow_model::CronCursor;
use mageflow_model::workflow::{Missed, Overlap, Trigger};
use mageflow_model::{EngineError, Event, Result};
use mageflow_store::{CursorGuard, CursorMove, cursor_json, read_cursor};

use crate::engine::Engine;

/// A tick later than this is "missed" rather than due now.
const GRACE_SECS: u64 = 60;
/// The most ticks looked at after a long downtime.
const MAX_TICKS: usize = 100_000;

fn ticks_after(
    schedule: &cron::Schedule,
    zone: FixedOffset,
    after: u64,
) -> impl Iterator<Item = u64> + '_ {
    let start: DateTime<FixedOffset> = zone
        .timestamp_opt(i64::try_from(after).unwrap_or(i64::MAX), 0)
        .single()
        .unwrap_or_else(|| zone.timestamp_opt(0, 0).single().expect("the epoch exists"));
    schedule
        .after(&start)
        .map(|t| u64::try_from(t.timestamp()).unwrap_or(0))
}

impl Engine {
    /// Fires a cron workflow's due ticks at `now` (Unix seconds) and moves its next fire time,
    /// in one transaction that also checks the cursor still holds what was read (locked
    /// against other workers firing it meanwhile) and keys the runs by workflow and tick: of
    /// several workers, one fires each tick. Returns the runs queued.
    pub fn cron_tick(&self, workflow: &str, now: u64) -> Result<Vec<u64>> {
        let loaded = self.workflow(workflow)?;
        let Trigger::Cron {
            schedule,
            utc_offset_secs,
            missed,
            overlap,
        } = &loaded.def.trigger
        else {
            return Err(EngineError::Trigger {
                workflow: workflow.to_owned(),
                why: "it has no cron trigger".into(),
            });
        };
        let bad = |why: String| EngineError::Trigger {
            workflow: workflow.to_owned(),
            why,
        };
        let schedule = cron::Schedule::from_str(schedule).map_err(|e| bad(e.to_string()))?;
        let zone =
            FixedOffset::east_opt(*utc_offset_secs).ok_or_else(|| bad("bad UTC offset".into()))?;
        let key = format!("cron/{workflow}");
        let next_after_now = ticks_after(&schedule, zone, now)
            .next()
            .ok_or_else(|| bad("the schedule never fires again".into()))?;
        let Some(was) = self.store().cursor_value(&key)? else {
            // First start: the schedule begins now; nothing is owed for the past. The first
            // worker to start sets it.
            let first = cursor_json(
                &key,
                &CronCursor {
                    next: next_after_now,
                },
            )?;
            let guard = CursorGuard::Was(None);
            self.queue_moving(
                workflow,
                &[],
                "",
                None,
                CursorMove {
                    key: &key,
                    to: &first,
                    guard,
                },
            )?;
            return Ok(Vec::new());
        };
        let cursor: CronCursor = read_cursor(&key, was.clone())?;
        if cursor.next > now {
            return Ok(Vec::new());
        }
        let due: Vec<u64> = std::iter::once(cursor.next)
            .chain(ticks_after(&schedule, zone, cursor.next))
            .take_while(|t| *t <= now)
            .take(MAX_TICKS)
            .collect();
        let on_time = |t: &u64| now - *t < GRACE_SECS;
        let mut fire: Vec<u64> = match missed {
            Missed::Skip => due
                .iter()
                .rev()
                .find(|t| on_time(t))
                .copied()
                .into_iter()
                .collect(),
            Missed::Once => due.last().copied().into_iter().collect(),
            Missed::All(n) => {
                let skip = due.len().saturating_sub(*n as usize);
                due[skip..].to_vec()
            }
        };
        if *overlap == Overlap::Skip && !fire.is_empty() && self.store().unfinished(workflow)? {
            tracing::info!(
                workflow,
                ticks = fire.len(),
                "previous run unfinished: ticks skipped (overlap = skip)"
            );
            fire.clear();
        }
        if due.len() > fire.len() {
            tracing::info!(
                workflow,
                missed = due.len() - fire.len(),
                "cron ticks dropped by the missed-run policy"
            );
        }
        let moved = cursor_json(
            &key,
            &CronCursor {
                next: next_after_now,
            },
        )?;
        let events: Vec<Event> = fire.iter().map(|&at| Event::Schedule { at }).collect();
        let tick = fire.first().map(|t| format!("cron/{workflow}/{t}"));
        self.queue_moving(
            workflow,
            &events,
            &format!("cron:{workflow}"),
            tick.as_deref(),
            CursorMove {
                key: &key,
                to: &moved,
                guard: CursorGuard::Was(Some(&was)),
            },
        )
    }
}
