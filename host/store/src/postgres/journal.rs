//! Journals, clock readings, state reads and the audit in PostgreSQL. What a run journals is
//! held until the next durable point ([`Postgres::flush_pending`]); every read of a journal
//! writes what is held first, so a reader always sees it.

use tokio_postgres::Row;

use super::{Postgres, big, read, text};
use crate::{AuditEntry, Entry, Error, JournalStore, Result, RunId};

/// Rows `(seq, value)` in order, up to the first missing number: if a crash kept a later
/// record but lost an earlier one, no answer is matched to the wrong call.
fn in_sequence<T>(rows: &[Row], value: impl Fn(&Row) -> Result<T>) -> Result<Vec<T>> {
    let mut out = Vec::with_capacity(rows.len());
    for row in rows {
        if row.get::<_, i64>(0) != out.len() as i64 {
            break;
        }
        out.push(value(row)?);
    }
    Ok(out)
}

impl Postgres {
    fn numbered(&self, sql: &'static str, run: RunId) -> Result<Vec<Row>> {
        self.write_run_pending(run)?;
        self.conn()?.query(sql, &[&big(run)?])
    }
}

impl JournalStore for Postgres {
    fn journal(&self, run: RunId) -> Result<Vec<Entry>> {
        let rows = self.numbered(
            "SELECT seq, record FROM journal WHERE run = $1 ORDER BY seq",
            run,
        )?;
        in_sequence(&rows, |r| read(r.get(1)))
    }

    fn record(&self, run: RunId, entry: &Entry) -> Result<()> {
        self.record_all(run, std::slice::from_ref(entry))
    }

    fn record_all(&self, run: RunId, entries: &[Entry]) -> Result<()> {
        let run = big(run)?;
        let encoded: Vec<((i64, i64), String)> = entries
            .iter()
            .map(|e| Ok(((run, big(e.seq)?), text(e)?)))
            .collect::<Result<_>>()?;
        self.pending_mut(|p| p.calls.extend(encoded));
        Ok(())
    }

    fn clock_readings(&self, run: RunId) -> Result<Vec<u128>> {
        let rows = self.numbered(
            "SELECT seq, nanos FROM clock WHERE run = $1 ORDER BY seq",
            run,
        )?;
        in_sequence(&rows, |r| {
            let nanos: &str = r.get(1);
            nanos
                .parse()
                .map_err(|_| Error::Corrupt(format!("run {run} has a clock reading of {nanos:?}")))
        })
    }

    fn record_clock(&self, run: RunId, seq: u64, nanos: u128) -> Result<()> {
        let key = (big(run)?, big(seq)?);
        self.pending_mut(|p| p.clock.insert(key, nanos.to_string()));
        Ok(())
    }

    fn state_reads(&self, run: RunId) -> Result<Vec<Option<String>>> {
        let rows = self.numbered(
            "SELECT seq, value FROM state_reads WHERE run = $1 ORDER BY seq",
            run,
        )?;
        in_sequence(&rows, |r| Ok(r.get(1)))
    }

    fn record_state_read(&self, run: RunId, seq: u64, value: Option<&str>) -> Result<()> {
        let key = (big(run)?, big(seq)?);
        self.pending_mut(|p| p.state_reads.insert(key, value.map(str::to_owned)));
        Ok(())
    }

    /// Held with the run's journal until its next durable point (the write it tells of was
    /// sent after a durable intent; what it says is kept even if the lease was lost).
    fn audit(&self, entry: &AuditEntry) -> Result<()> {
        let record = (big(entry.run)?, text(entry)?);
        self.pending_mut(|p| p.audits.push(record));
        Ok(())
    }

    fn audit_all(&self) -> Result<Vec<AuditEntry>> {
        self.flush_pending()?;
        let rows = self
            .conn()?
            .query("SELECT record FROM audit ORDER BY run, id", &[])?;
        rows.iter().map(|r| read(r.get(0))).collect()
    }

    fn audit_of(&self, run: RunId) -> Result<Vec<AuditEntry>> {
        self.write_run_pending(run)?;
        let rows = self.conn()?.query(
            "SELECT record FROM audit WHERE run = $1 ORDER BY id",
            &[&big(run)?],
        )?;
        rows.iter().map(|r| read(r.get(0))).collect()
    }
}
