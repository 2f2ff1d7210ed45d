//! Sharing the store between workers ([`LeaseStore`] on PostgreSQL): claiming due runs with
//! `FOR UPDATE SKIP LOCKED`, the leases of trigger cursors, the queue's depth, and wake-ups.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::{CHANNEL, Postgres, big, id, read};
use crate::{
    CursorLease, Hold, LeaseStore, LeaseTerms, QueueStats, Result, Run, RunId, Started, Status,
};

impl LeaseStore for Postgres {
    fn shared(&self) -> bool {
        true
    }

    fn worker(&self) -> String {
        self.leases.owner().to_owned()
    }

    fn set_lease_terms(&self, terms: LeaseTerms) {
        self.leases.set_terms(terms);
    }

    fn hold(&self, run: RunId) -> Hold {
        self.leases.hold_of(run).0
    }

    fn release(&self, run: RunId) {
        let gone = BTreeSet::from([i64::try_from(run).unwrap_or(i64::MAX)]);
        self.pending_mut(|p| p.drop_runs(&gone));
        self.leases.forget(run);
    }

    fn claim_due(&self, limit: usize, now: u64) -> Result<Vec<Started>> {
        if limit == 0 {
            return Ok(Vec::new());
        }
        let _claiming = self.leases.claiming();
        let since = Instant::now();
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let now = big(now)?;
        let claimed = self.conn()?.transaction(false, |tx| {
            let rows = tx.query(
                "SELECT id, record FROM runs
                 WHERE due <= $1 AND (lease_until IS NULL OR lease_until < now())
                 ORDER BY due, id LIMIT $2
                 FOR UPDATE SKIP LOCKED",
                &[&now, &limit],
            )?;
            let mut runs = Vec::with_capacity(rows.len());
            let mut ended = Vec::new();
            for row in &rows {
                let mut run: Run = read(row.get(1))?;
                if run.begin(now.max(0) as u64) {
                    runs.push(run);
                } else {
                    ended.push(big(run.id)?);
                }
            }
            if !ended.is_empty() {
                // An ended run is never due: mend one that says otherwise.
                tx.execute("UPDATE runs SET due = NULL WHERE id = ANY($1)", &[&ended])?;
            }
            if runs.is_empty() {
                return Ok(Vec::new());
            }
            let ids: Vec<i64> = runs.iter().map(|r| big(r.id)).collect::<Result<_>>()?;
            let records: Vec<String> = runs.iter().map(super::text).collect::<Result<_>>()?;
            let rows = tx.query(
                "UPDATE runs r SET rev = r.rev + 1, record = u.record, status = 'running',
                     fence = r.fence + 1, lease_owner = $3,
                     lease_until = now() + make_interval(secs => $4)
                 FROM unnest($1::bigint[], $2::text[]) AS u(id, record)
                 WHERE r.id = u.id
                 RETURNING r.id, r.fence, r.rev",
                &[
                    &ids,
                    &records,
                    &self.leases.owner(),
                    &self.leases.until_secs(),
                ],
            )?;
            let stamps: HashMap<i64, (i64, i64)> = rows
                .iter()
                .map(|r| (r.get(0), (r.get(1), r.get(2))))
                .collect();
            Ok(runs
                .into_iter()
                .filter_map(|run| {
                    let (fence, rev) = *stamps.get(&big(run.id).ok()?)?;
                    Some((run, fence, rev))
                })
                .collect::<Vec<_>>())
        })?;
        Ok(claimed
            .into_iter()
            .map(|(run, fence, rev)| {
                self.leases.take(run.id, fence, since);
                debug_assert_eq!(run.status, Status::Running);
                Started {
                    run,
                    stamp: rev.to_be_bytes().to_vec(),
                }
            })
            .collect())
    }

    fn unclaimed(&self, now: u64) -> Result<Vec<RunId>> {
        let rows = self.conn()?.query(
            "SELECT id FROM runs
             WHERE due <= $1 AND (lease_until IS NULL OR lease_until < now() OR lease_owner = $2)
             ORDER BY due, id",
            &[&big(now)?, &self.leases.owner()],
        )?;
        Ok(rows.iter().map(|r| id(r.get(0))).collect())
    }

    fn lease_cursor(&self, key: &str, ttl: Duration) -> Result<Option<CursorLease>> {
        let row = self.conn()?.query_opt(
            "INSERT INTO cursors AS c (key, value, fence, lease_owner, lease_until)
             VALUES ($1, NULL, 1, $2, now() + make_interval(secs => $3))
             ON CONFLICT (key) DO UPDATE SET fence = c.fence + 1, lease_owner = $2,
                 lease_until = excluded.lease_until
             WHERE c.lease_until IS NULL OR c.lease_until < now() OR c.lease_owner = $2
             RETURNING fence, value",
            &[&key, &self.leases.owner(), &ttl.as_secs_f64()],
        )?;
        row.map(|r| {
            Ok(CursorLease {
                fence: r.get(0),
                value: r.get::<_, Option<&str>>(1).map(read).transpose()?,
            })
        })
        .transpose()
    }

    fn queue_stats(&self, now: u64) -> Result<QueueStats> {
        let row = self.conn()?.query_opt(
            "SELECT count(*), min(created_at) FROM runs
             WHERE due <= $1 AND (lease_until IS NULL OR lease_until < now())",
            &[&big(now)?],
        )?;
        Ok(row.map_or_else(QueueStats::default, |r| QueueStats {
            depth: r.get::<_, i64>(0).max(0) as u64,
            oldest_created_at: r.get::<_, Option<i64>>(1).map(|t| t.max(0) as u64),
        }))
    }

    fn wakeups(&self) -> Option<Arc<tokio::sync::Notify>> {
        Some(
            self.wakeups
                .get_or_init(|| super::listen::listen(&self.pool, &self.config, CHANNEL))
                .clone(),
        )
    }
}
