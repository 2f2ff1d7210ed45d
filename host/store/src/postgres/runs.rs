//! Runs in PostgreSQL. Queueing is one transaction: the cursor's guard, the dedupe key (`ON
//! CONFLICT DO NOTHING`), the runs and the cursor move land together or not at all, so no
//! crash leaves a key without its run, and of two workers firing the same trigger one queues.
//! A run's record changes by compare-and-swap on its revision and, while this worker holds
//! it, on its fence.

use std::time::Instant;

use serde::Serialize;
use serde::de::DeserializeOwned;

use super::pool::Conn;
use super::{CHANNEL, Postgres, big, id, read, text};
use crate::{
    CursorGuard, CursorMove, Error, NewRun, Queued, Result, Run, RunId, RunStore, Started, Status,
};

const RUN: &str = "SELECT rev, record, fence FROM runs WHERE id = $1";

/// Writes a run's record at a revision, checking the fence when this worker holds the run
/// (`$6`), making it due from `$5` unless it waits for a pending approval, and with `$7` letting
/// the lease go.
const WRITE_RUN: &str = "UPDATE runs SET rev = rev + 1, record = $3, status = $4,
     due = CASE WHEN $4 = 'awaiting-approval' AND EXISTS (
         SELECT 1 FROM approvals a WHERE a.run = $1 AND a.status = 'pending') THEN NULL ELSE $5::bigint END,
     lease_owner = CASE WHEN $7 THEN NULL ELSE lease_owner END,
     lease_until = CASE WHEN $7 THEN NULL ELSE lease_until END
 WHERE id = $1 AND rev = $2 AND ($6::bigint IS NULL OR fence = $6)";

const NOTIFY: &str = "SELECT pg_notify($1, '')";

/// Queues runs in one statement: takes the dedupe key `$1` for run `$2` when one is given,
/// and only then (or without one) writes the runs (`$3`..`$6`) and wakes the workers on
/// `$7`. Answers how many runs it wrote.
const QUEUE: &str = "WITH taken AS (
    INSERT INTO dedupe (key, run) SELECT $1, $2 WHERE $1::text IS NOT NULL
    ON CONFLICT DO NOTHING RETURNING run
), queued AS (
    INSERT INTO runs (id, status, rev, record, workflow, created_at, due)
    SELECT t.id, 'queued', 0, t.record, t.workflow, t.created_at, t.created_at
    FROM unnest($3::bigint[], $4::text[], $5::text[], $6::bigint[])
        AS t(id, record, workflow, created_at)
    WHERE $1::text IS NULL OR EXISTS (SELECT 1 FROM taken)
    RETURNING id
), woken AS (
    SELECT pg_notify($7, '') FROM (SELECT 1 FROM queued LIMIT 1) AS one
)
SELECT (SELECT count(*) FROM queued) + 0 * (SELECT count(*) FROM woken)";

/// Runs to queue, as the columns [`QUEUE`] takes.
struct Rows {
    ids: Vec<i64>,
    texts: Vec<String>,
    workflows: Vec<String>,
    created: Vec<i64>,
}

impl Rows {
    fn of(runs: &[Run]) -> Result<Rows> {
        Ok(Rows {
            ids: runs.iter().map(|r| big(r.id)).collect::<Result<_>>()?,
            texts: runs.iter().map(text).collect::<Result<_>>()?,
            workflows: runs.iter().map(|r| r.workflow.clone()).collect(),
            created: runs
                .iter()
                .map(|r| big(r.created_at))
                .collect::<Result<_>>()?,
        })
    }
}

/// A record read, changed and written back by [`swap`].
pub(crate) struct Swapped<T> {
    pub(crate) value: T,
    /// Whether `change` asked for it to be written.
    pub(crate) wrote: bool,
}

/// Reads the record `key` with `select` (`rev, record`), lets `change` edit it, and writes it
/// back with `update` (`$1` key, `$2` the revision read, `$3` record, `$4` status) unless
/// `change` answers `false`; read again and retried when another writer came between.
pub(crate) fn swap<T: Serialize + DeserializeOwned>(
    conn: &mut Conn,
    (select, update): (&'static str, &'static str),
    key: i64,
    missing: impl Fn() -> Error,
    status: impl Fn(&T) -> &'static str,
    mut change: impl FnMut(&mut T) -> bool,
) -> Result<Swapped<T>> {
    loop {
        let row = conn.query_opt(select, &[&key])?.ok_or_else(&missing)?;
        let rev: i64 = row.get(0);
        let mut value: T = read(row.get(1))?;
        if !change(&mut value) {
            return Ok(Swapped {
                value,
                wrote: false,
            });
        }
        let written = conn.execute(update, &[&key, &rev, &text(&value)?, &status(&value)])?;
        if written == 1 {
            return Ok(Swapped { value, wrote: true });
        }
    }
}

/// When a run may be claimed, as it now stands: at once while unfinished (the database
/// holds back one that waits for a pending approval), at its next attempt when retrying,
/// never once ended.
fn due(run: &Run) -> Option<i64> {
    match run.status {
        Status::Succeeded | Status::Failed => None,
        Status::Retrying => Some(run.retry.as_ref().map_or(run.updated_at, |r| r.next_at)),
        Status::Queued | Status::Running | Status::AwaitingApproval => Some(run.updated_at),
    }
    .map(|t| i64::try_from(t).unwrap_or(i64::MAX))
}

impl Postgres {
    /// Writes `run` over revision `rev`, fenced when this worker holds it; `release` lets the
    /// lease go. `Ok(false)` when the revision moved.
    fn write_run(&self, conn: &mut Conn, run: &Run, rev: i64, release: bool) -> Result<bool> {
        let fence = self.leases.fence_of(run.id)?;
        let written = conn.execute(
            WRITE_RUN,
            &[
                &big(run.id)?,
                &rev,
                &text(run)?,
                &run.status.name(),
                &due(run),
                &fence,
                &release,
            ],
        )?;
        if written == 1 {
            return Ok(true);
        }
        // The revision moved, or the fence did: which?
        let row = conn
            .query_opt(RUN, &[&big(run.id)?])?
            .ok_or(Error::NoRun(run.id))?;
        if fence.is_some_and(|f| f != row.get::<_, i64>(2)) {
            self.leases.lose(&[big(run.id)?].into());
            return Err(Error::LeaseLost(run.id));
        }
        Ok(false)
    }

    /// Reads the run, changes it and writes it back (fenced), until no other writer came
    /// between.
    fn change_run(&self, id: RunId, change: &dyn Fn(&mut Run), release: bool) -> Result<Run> {
        let mut conn = self.conn()?;
        loop {
            let row = conn.query_opt(RUN, &[&big(id)?])?.ok_or(Error::NoRun(id))?;
            let mut run: Run = read(row.get(1))?;
            change(&mut run);
            if self.write_run(&mut conn, &run, row.get(0), release)? {
                return Ok(run);
            }
        }
    }

    /// Checks a cursor move's guard in `tx`: `false` when another worker fired the trigger
    /// first, or fires it now.
    fn guard_holds(&self, tx: &mut Conn, cursor: &CursorMove<'_>) -> Result<bool> {
        Ok(match cursor.guard {
            CursorGuard::None => true,
            CursorGuard::Was(None) => {
                // A cursor that does not exist yet: the first to create it fires.
                tx.execute(
                    "INSERT INTO cursors (key, value) VALUES ($1, NULL) ON CONFLICT DO NOTHING",
                    &[&cursor.key],
                )? == 1
                    || tx
                        .query_opt(
                            "SELECT 1 FROM cursors WHERE key = $1 AND value IS NULL
                             FOR UPDATE SKIP LOCKED",
                            &[&cursor.key],
                        )?
                        .is_some()
            }
            CursorGuard::Was(Some(was)) => {
                let row = tx.query_opt(
                    "SELECT value FROM cursors WHERE key = $1 FOR UPDATE SKIP LOCKED",
                    &[&cursor.key],
                )?;
                match row.and_then(|r| r.get::<_, Option<String>>(0)) {
                    Some(now) => read::<serde_json::Value>(&now)? == *was,
                    None => false,
                }
            }
            CursorGuard::Fence(fence) => tx
                .query_opt(
                    "SELECT 1 FROM cursors WHERE key = $1 AND fence = $2 AND lease_owner = $3
                     FOR UPDATE",
                    &[&cursor.key, &fence, &self.leases.owner()],
                )?
                .is_some(),
        })
    }
}

impl RunStore for Postgres {
    fn queue(
        &self,
        runs: Vec<NewRun>,
        dedupe: Option<&str>,
        cursor: Option<CursorMove<'_>>,
    ) -> Result<Queued> {
        let mut conn = self.conn()?;
        let count = i64::try_from(runs.len()).unwrap_or(i64::MAX);
        let ids = conn.query(
            "SELECT nextval('mageflow_ids') FROM generate_series(1, $1::bigint)",
            &[&count],
        )?;
        let records: Vec<Run> = runs
            .into_iter()
            .zip(ids)
            .map(|(n, row)| n.into_run(id(row.get(0)), dedupe))
            .collect();
        let rows = Rows::of(&records)?;
        let Some(cursor) = cursor else {
            // A delivery or a start: the key, the runs and the wake-up in one statement.
            let first = big(records.first().map_or(0, |r| r.id))?;
            let queued: i64 = conn
                .query_opt(
                    QUEUE,
                    &[
                        &dedupe,
                        &first,
                        &rows.ids,
                        &rows.texts,
                        &rows.workflows,
                        &rows.created,
                        &CHANNEL,
                    ],
                )?
                .map_or(0, |r| r.get(0));
            if queued == 0
                && let Some(key) = dedupe
            {
                let owner = conn
                    .query_opt("SELECT run FROM dedupe WHERE key = $1", &[&key])?
                    .map_or(0, |r| id(r.get(0)));
                return Ok(Queued::Duplicate(owner));
            }
            return Ok(Queued::Runs(records));
        };
        conn.transaction(false, |tx| {
            if !self.guard_holds(tx, &cursor)? {
                return Ok(Queued::Moved);
            }
            if let Some(key) = dedupe {
                let first = big(records.first().map_or(0, |r| r.id))?;
                let taken = tx.query_opt(
                    "INSERT INTO dedupe (key, run) VALUES ($1, $2)
                     ON CONFLICT DO NOTHING RETURNING run",
                    &[&key, &first],
                )?;
                if taken.is_none() {
                    let owner = tx
                        .query_opt("SELECT run FROM dedupe WHERE key = $1", &[&key])?
                        .map_or(0, |r| id(r.get(0)));
                    return Ok(Queued::Duplicate(owner));
                }
            }
            if !records.is_empty() {
                tx.query(
                    QUEUE,
                    &[
                        &None::<&str>,
                        &0i64,
                        &rows.ids,
                        &rows.texts,
                        &rows.workflows,
                        &rows.created,
                        &CHANNEL,
                    ],
                )?;
            }
            tx.execute(
                "INSERT INTO cursors (key, value) VALUES ($1, $2)
                 ON CONFLICT (key) DO UPDATE SET value = excluded.value,
                     lease_owner = NULL, lease_until = NULL",
                &[&cursor.key, &text(cursor.to)?],
            )?;
            Ok(Queued::Runs(records))
        })
    }

    fn dedupe_run(&self, key: &str) -> Result<Option<RunId>> {
        Ok(self
            .conn()?
            .query_opt("SELECT run FROM dedupe WHERE key = $1", &[&key])?
            .map(|r| id(r.get(0))))
    }

    fn restore_dedupe_key(&self, _run: &Run) -> Result<()> {
        // A run and its key are committed together: there is never one without the other.
        Ok(())
    }

    /// Claims the run: its fence moves on, and the lease is this worker's, unless another
    /// worker's lease (with its grace) still holds it, or this worker holds it already (its
    /// claim loop took it). A lease of this worker's that it let go of (an attempt dropped
    /// half way) is taken again at once.
    fn begin_attempt(&self, run: RunId, now: u64) -> Result<Option<Started>> {
        let _claiming = self.leases.claiming();
        if self.leases.holds(run) {
            return Ok(None);
        }
        let mut conn = self.conn()?;
        let key = big(run)?;
        loop {
            let since = Instant::now();
            let row = conn
                .query_opt(
                    "SELECT rev, record,
                         lease_until IS NULL OR lease_until < now() OR lease_owner = $2
                     FROM runs WHERE id = $1",
                    &[&key, &self.leases.owner()],
                )?
                .ok_or(Error::NoRun(run))?;
            let rev: i64 = row.get(0);
            let mut record: Run = read(row.get(1))?;
            if !record.begin(now) {
                return Ok(Some(Started {
                    run: record,
                    stamp: rev.to_be_bytes().to_vec(),
                }));
            }
            if !row.get::<_, bool>(2) {
                return Ok(None);
            }
            let claimed = conn.query_opt(
                "UPDATE runs SET rev = rev + 1, record = $3, status = 'running',
                     fence = fence + 1, lease_owner = $4,
                     lease_until = now() + make_interval(secs => $5)
                 WHERE id = $1 AND rev = $2
                     AND (lease_until IS NULL OR lease_until < now() OR lease_owner = $4)
                 RETURNING fence",
                &[
                    &key,
                    &rev,
                    &text(&record)?,
                    &self.leases.owner(),
                    &self.leases.until_secs(),
                ],
            )?;
            if let Some(claimed) = claimed {
                self.leases.take(run, claimed.get(0), since);
                return Ok(Some(Started {
                    run: record,
                    stamp: (rev + 1).to_be_bytes().to_vec(),
                }));
            }
        }
    }

    /// Lets the lease go with the end, fenced: a worker whose lease was taken writes nothing.
    fn end_attempt_with(&self, started: &Started, change: &dyn Fn(&mut Run)) -> Result<Run> {
        // What the attempt journaled goes first.
        self.write_run_pending(started.run.id)?;
        let mut run = started.run.clone();
        change(&mut run);
        let rev = <[u8; 8]>::try_from(started.stamp.as_slice()).map(i64::from_be_bytes);
        let ended = match rev {
            Ok(rev) if self.write_run(&mut *self.conn()?, &run, rev, true)? => Ok(run),
            _ => self.change_run(run.id, change, true),
        };
        if !matches!(ended, Err(Error::LeaseLost(_))) {
            self.leases.forget(started.run.id);
        }
        ended
    }

    fn run(&self, run: RunId) -> Result<Run> {
        let row = self
            .conn()?
            .query_opt("SELECT record FROM runs WHERE id = $1", &[&big(run)?])?
            .ok_or(Error::NoRun(run))?;
        read(row.get(0))
    }

    fn runs(&self, status: Option<Status>) -> Result<Vec<Run>> {
        let mut conn = self.conn()?;
        let rows = match status {
            Some(s) => conn.query(
                "SELECT record FROM runs WHERE status = $1 ORDER BY id",
                &[&s.name()],
            )?,
            None => conn.query("SELECT record FROM runs ORDER BY id", &[])?,
        };
        rows.iter().map(|r| read(r.get(0))).collect()
    }

    fn update_run_with(&self, run: RunId, change: &dyn Fn(&mut Run)) -> Result<Run> {
        self.write_run_pending(run)?;
        self.change_run(run, change, false)
    }

    fn unfinished(&self, workflow: &str) -> Result<bool> {
        Ok(self
            .conn()?
            .query_opt(
                "SELECT 1 FROM runs WHERE workflow = $1 AND status NOT IN ('succeeded', 'failed')
                 LIMIT 1",
                &[&workflow],
            )?
            .is_some())
    }
}

/// Makes a run due at `now` and wakes the workers, in `tx` (a decision settled its approval).
pub(crate) fn wake(tx: &mut Conn, run: RunId, now: u64) -> Result<()> {
    tx.execute(
        "UPDATE runs SET due = $2 WHERE id = $1 AND status NOT IN ('succeeded', 'failed')",
        &[&big(run)?, &big(now)?],
    )?;
    tx.query(NOTIFY, &[&CHANNEL])?;
    Ok(())
}
