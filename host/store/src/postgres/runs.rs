//! Runs in PostgreSQL. Queueing is one transaction: the dedupe key (`ON CONFLICT DO
//! NOTHING`), the runs and the cursor move land together or not at all, so no crash leaves a
//! key without its run. A run's record changes by compare-and-swap on its revision.

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use super::pool::Conn;
use super::{Postgres, big, id, read, text};
use crate::{Error, NewRun, Queued, Result, Run, RunId, RunStore, Started, Status};

const RUN: &str = "SELECT rev, record FROM runs WHERE id = $1";
const WRITE_RUN: &str =
    "UPDATE runs SET rev = $2 + 1, record = $3, status = $4 WHERE id = $1 AND rev = $2";

/// A record read, changed and written back by [`swap`].
pub(crate) struct Swapped<T> {
    pub(crate) value: T,
    /// Its revision as it now stands.
    pub(crate) rev: i64,
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
                rev,
                wrote: false,
            });
        }
        let written = conn.execute(update, &[&key, &rev, &text(&value)?, &status(&value)])?;
        if written == 1 {
            return Ok(Swapped {
                value,
                rev: rev + 1,
                wrote: true,
            });
        }
    }
}

impl Postgres {
    fn swap_run(&self, run: RunId, change: impl FnMut(&mut Run) -> bool) -> Result<Swapped<Run>> {
        swap(
            &mut *self.conn()?,
            (RUN, WRITE_RUN),
            big(run)?,
            || Error::NoRun(run),
            |r: &Run| r.status.name(),
            change,
        )
    }
}

impl RunStore for Postgres {
    fn queue(
        &self,
        runs: Vec<NewRun>,
        dedupe: Option<&str>,
        cursor: Option<(&str, &Value)>,
    ) -> Result<Queued> {
        let count = i64::try_from(runs.len()).unwrap_or(i64::MAX);
        self.conn()?.transaction(false, |tx| {
            let ids = tx.query(
                "SELECT nextval('mageflow_ids') FROM generate_series(1, $1::bigint)",
                &[&count],
            )?;
            let records: Vec<Run> = runs
                .into_iter()
                .zip(ids)
                .map(|(n, row)| n.into_run(id(row.get(0)), dedupe))
                .collect();
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
            let ids: Vec<i64> = records.iter().map(|r| big(r.id)).collect::<Result<_>>()?;
            let texts: Vec<String> = records.iter().map(text).collect::<Result<_>>()?;
            tx.execute(
                "INSERT INTO runs (id, status, rev, record)
                 SELECT id, 'queued', 0, record FROM unnest($1::bigint[], $2::text[]) AS t(id, record)",
                &[&ids, &texts],
            )?;
            if let Some((key, value)) = cursor {
                tx.execute(
                    "INSERT INTO cursors (key, value) VALUES ($1, $2)
                     ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                    &[&key, &text(value)?],
                )?;
            }
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

    fn begin_attempt(&self, run: RunId, now: u64) -> Result<Started> {
        let s = self.swap_run(run, |r| r.begin(now))?;
        Ok(Started {
            run: s.value,
            stamp: s.rev.to_be_bytes().to_vec(),
        })
    }

    fn end_attempt_with(&self, started: &Started, change: &dyn Fn(&mut Run)) -> Result<Run> {
        // What the attempt journaled goes first: the run's end is a durable point.
        self.write_pending(false)?;
        let mut run = started.run.clone();
        change(&mut run);
        let rev = <[u8; 8]>::try_from(started.stamp.as_slice()).map(i64::from_be_bytes);
        if let Ok(rev) = rev {
            let written = self.conn()?.execute(
                WRITE_RUN,
                &[&big(run.id)?, &rev, &text(&run)?, &run.status.name()],
            )?;
            if written == 1 {
                return Ok(run);
            }
        }
        self.update_run_with(run.id, change)
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
        self.write_pending(false)?;
        Ok(self
            .swap_run(run, |r| {
                change(r);
                true
            })?
            .value)
    }
}
