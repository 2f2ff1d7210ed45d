//! Journals, clock readings, state reads and the audit in sled.

use super::{Sled, pair};
use crate::{AuditEntry, Entry, Error, JournalStore, Result, RunId, decode, encode};

impl JournalStore for Sled {
    /// A run's recorded calls, in order, up to the first one missing (see [`in_sequence`]).
    fn journal(&self, run: RunId) -> Result<Vec<Entry>> {
        in_sequence(&self.journal, run, decode)
    }

    /// Records (or completes) one call of a run.
    fn record(&self, run: RunId, entry: &Entry) -> Result<()> {
        self.journal.insert(pair(run, entry.seq), encode(entry)?)?;
        Ok(())
    }

    /// Records several calls of a run, in order. Not one atomic batch on purpose: a sled batch
    /// takes the database's global write lock, which waits for every flush in progress and
    /// stalls every other writer behind it. A crash may keep a prefix of these; the reader
    /// stops at the first gap, and a call missing from the journal is asked again on replay.
    fn record_all(&self, run: RunId, entries: &[Entry]) -> Result<()> {
        for e in entries {
            self.journal.insert(pair(run, e.seq), encode(e)?)?;
        }
        Ok(())
    }

    /// A run's clock readings (nanoseconds since the Unix epoch), in order.
    fn clock_readings(&self, run: RunId) -> Result<Vec<u128>> {
        in_sequence(&self.clock, run, |v| {
            let b: [u8; 16] = v.try_into().map_err(|_| {
                Error::Corrupt(format!(
                    "run {run} has a clock reading of {} bytes",
                    v.len()
                ))
            })?;
            Ok(u128::from_be_bytes(b))
        })
    }

    fn state_reads(&self, run: RunId) -> Result<Vec<Option<String>>> {
        in_sequence(&self.state_reads, run, decode)
    }

    fn record_state_read(&self, run: RunId, seq: u64, value: Option<&str>) -> Result<()> {
        self.state_reads.insert(pair(run, seq), encode(&value)?)?;
        Ok(())
    }

    /// Records a run's clock reading number `seq`.
    fn record_clock(&self, run: RunId, seq: u64, nanos: u128) -> Result<()> {
        self.clock.insert(pair(run, seq), &nanos.to_be_bytes())?;
        Ok(())
    }

    /// Appends an audit entry.
    fn audit(&self, entry: &AuditEntry) -> Result<()> {
        let id = self.next_id()?;
        self.audit.insert(pair(entry.run, id), encode(entry)?)?;
        Ok(())
    }

    /// Every run's audit entries, run by run.
    fn audit_all(&self) -> Result<Vec<AuditEntry>> {
        self.audit.iter().map(|item| decode(&item?.1)).collect()
    }

    /// A run's audit entries, in order.
    fn audit_of(&self, run: RunId) -> Result<Vec<AuditEntry>> {
        self.audit
            .scan_prefix(run.to_be_bytes())
            .map(|item| decode(&item?.1))
            .collect()
    }
}

/// A run's numbered records (keys `run ++ seq`, seq from 0), read in order up to the first
/// missing number. Records are written one by one; if a crash kept a later one but lost an
/// earlier one, everything from the gap on is ignored, so no answer is ever matched to the
/// wrong call.
pub(crate) fn in_sequence<T>(
    tree: &sled::Tree,
    run: RunId,
    read: impl Fn(&[u8]) -> Result<T>,
) -> Result<Vec<T>> {
    let mut out = Vec::new();
    for item in tree.scan_prefix(run.to_be_bytes()) {
        let (key, value) = item?;
        let seq = key
            .get(8..16)
            .and_then(|b| <[u8; 8]>::try_from(b).ok())
            .map(u64::from_be_bytes);
        if seq != Some(out.len() as u64) {
            break;
        }
        out.push(read(&value)?);
    }
    Ok(out)
}
