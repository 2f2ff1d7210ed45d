//! The `updated_at` poller, for Magento Open Source (no webhooks): customers with
//! `updated_at >= cursor`, sorted by `updated_at` then id, in pages of 300. Customers changed
//! in the cursor's own second and already delivered are skipped, so many changes within one
//! second are neither missed nor doubled; the cursor moves in the transaction that queues the
//! runs.

use mageflow_magento::{Condition, Direction, Filter, SearchCriteria};
use mageflow_model::PollCursor;
use mageflow_model::workflow::Trigger;
use mageflow_model::{EngineError, Event, Result, magento_time};
use mageflow_store::{CursorGuard, CursorMove, cursor_json, read_cursor};

use crate::engine::Engine;

/// Customers handed to one run.
const PER_RUN: usize = 100;

/// How long one worker holds a poll's cursor while it asks Magento, at most: another worker
/// polls in its place once this has passed.
const POLL_LEASE: std::time::Duration = std::time::Duration::from_secs(300);

impl Engine {
    /// Polls a `poll` workflow once at `now` (Unix seconds): queues runs for the customers
    /// changed since the cursor and moves it. The cursor is leased first, Magento is asked
    /// outside any transaction, and the runs and the move are written only if the lease's
    /// fence still holds: of several workers, one polls at a time and one queues each change.
    /// Returns the runs queued.
    pub async fn poll(&self, workflow: &str, now: u64) -> Result<Vec<u64>> {
        let loaded = self.workflow(workflow)?;
        let Trigger::Poll { filters, start, .. } = &loaded.def.trigger else {
            return Err(EngineError::Trigger {
                workflow: workflow.to_owned(),
                why: "it has no poll trigger".into(),
            });
        };
        let key = format!("poll/{workflow}");
        let Some(lease) = self.store().lease_cursor(&key, POLL_LEASE)? else {
            return Ok(Vec::new());
        };
        let stored: Option<PollCursor> = lease.value.map(|v| read_cursor(&key, v)).transpose()?;
        let cursor = stored.unwrap_or_else(|| PollCursor {
            at: match start.as_str() {
                "now" => magento_time(now),
                "beginning" => "1970-01-01 00:00:00".to_owned(),
                given => given.to_owned(),
            },
            seen: Vec::new(),
        });
        // Nothing new moves nothing, but lets the lease go (and sets a first cursor).
        let unchanged = cursor_json(&key, &cursor)?;
        let idle = CursorMove {
            key: &key,
            to: &unchanged,
            guard: CursorGuard::Fence(lease.fence),
        };
        let mut criteria = SearchCriteria::new()
            .filter("updated_at", Condition::Gteq, cursor.at.clone())
            .sort("updated_at", Direction::Asc)
            .page_size(300);
        for f in filters {
            let f = Filter::parse(f).map_err(|why| EngineError::Trigger {
                workflow: workflow.to_owned(),
                why,
            })?;
            criteria = criteria.any(vec![f]);
        }
        let found = loaded.client().customers(criteria).collect().await;
        let found = match found {
            Ok(found) => found,
            Err(source) => {
                // Let the lease go: any worker may try at the next interval.
                self.queue_moving(workflow, &[], "", None, idle)?;
                return Err(EngineError::Magento {
                    workflow: workflow.to_owned(),
                    source,
                });
            }
        };
        let fresh: Vec<_> = found
            .into_iter()
            .filter(|c| !(c.updated_at == cursor.at && cursor.seen.contains(&c.id)))
            .collect();
        let Some(last) = fresh.last() else {
            self.queue_moving(workflow, &[], "", None, idle)?;
            return Ok(Vec::new());
        };
        let at = last.updated_at.clone();
        let mut seen: Vec<u64> = if at == cursor.at {
            cursor.seen.clone()
        } else {
            Vec::new()
        };
        seen.extend(fresh.iter().filter(|c| c.updated_at == at).map(|c| c.id));
        let moved = cursor_json(&key, &PollCursor { at, seen })?;
        let events: Vec<Event> = fresh
            .chunks(PER_RUN)
            .map(|chunk| Event::Poll {
                customers: chunk.to_vec(),
            })
            .collect();
        self.queue_moving(
            workflow,
            &events,
            &format!("poll:{workflow}"),
            None,
            CursorMove { to: &moved, ..idle },
        )
    }
}
