//! What runs journaled and the store has not yet written (calls, clock readings, state reads,
//! and the workflow state they set), held in memory until the next durable point and written
//! then in one statement: the fences of the runs this worker holds are checked, and their
//! rows locked against a claim, in the same statement, and a run whose fence moved has
//! nothing written.

use std::collections::{BTreeMap, BTreeSet};

use super::pool::Conn;
use crate::Result;

/// Writes everything held in one statement (`$1`, `$2`: the runs this worker holds and their
/// fences; `$16`, `$17`: whose flush row to touch, and whether to, so a durable commit always
/// writes something); answers the runs whose fence held. Audit entries are written whatever
/// the fences say: each tells of a write that was sent.
const WRITE: &str = "WITH held AS (
    SELECT r.id FROM runs r
    JOIN unnest($1::bigint[], $2::bigint[]) AS h(id, fence) ON r.id = h.id AND r.fence = h.fence
    ORDER BY r.id
    FOR SHARE OF r
), calls AS (
    INSERT INTO journal (run, seq, record)
    SELECT u.run, u.seq, u.v FROM unnest($3::bigint[], $4::bigint[], $5::text[]) AS u(run, seq, v)
    WHERE u.run <> ALL($1::bigint[]) OR u.run IN (SELECT id FROM held)
    ON CONFLICT (run, seq) DO UPDATE SET record = excluded.record
), clock AS (
    INSERT INTO clock (run, seq, nanos)
    SELECT u.run, u.seq, u.v FROM unnest($6::bigint[], $7::bigint[], $8::text[]) AS u(run, seq, v)
    WHERE u.run <> ALL($1::bigint[]) OR u.run IN (SELECT id FROM held)
    ON CONFLICT (run, seq) DO UPDATE SET nanos = excluded.nanos
), reads AS (
    INSERT INTO state_reads (run, seq, value)
    SELECT u.run, u.seq, u.v FROM unnest($9::bigint[], $10::bigint[], $11::text[]) AS u(run, seq, v)
    WHERE u.run <> ALL($1::bigint[]) OR u.run IN (SELECT id FROM held)
    ON CONFLICT (run, seq) DO UPDATE SET value = excluded.value
), sets AS (
    INSERT INTO state (workflow, key, value)
    SELECT u.workflow, u.key, u.v
    FROM unnest($12::bigint[], $13::text[], $14::text[], $15::text[]) AS u(run, workflow, key, v)
    WHERE u.run <> ALL($1::bigint[]) OR u.run IN (SELECT id FROM held)
    ON CONFLICT (workflow, key) DO UPDATE SET value = excluded.value
), audited AS (
    INSERT INTO audit (id, run, record)
    SELECT nextval('mageflow_ids'), u.run, u.v FROM unnest($18::bigint[], $19::text[]) AS u(run, v)
), flushed AS (
    UPDATE flushes SET n = n + 1 WHERE owner = $16 AND $17
)
SELECT id FROM held";

/// Records by `(run, seq)`, and the state values set, by `(workflow, key)` with the run that
/// set them.
#[derive(Debug, Default)]
pub(super) struct Pending {
    pub(super) calls: BTreeMap<(i64, i64), String>,
    pub(super) clock: BTreeMap<(i64, i64), String>,
    pub(super) state_reads: BTreeMap<(i64, i64), Option<String>>,
    pub(super) state_sets: BTreeMap<(String, String), (i64, String)>,
    /// Audit entries, in order, with their run.
    pub(super) audits: Vec<(i64, String)>,
}

/// A map's runs, sequence numbers and values, as three arrays.
fn columns<V: Clone>(map: &BTreeMap<(i64, i64), V>) -> (Vec<i64>, Vec<i64>, Vec<V>) {
    (
        map.keys().map(|k| k.0).collect(),
        map.keys().map(|k| k.1).collect(),
        map.values().cloned().collect(),
    )
}

impl Pending {
    pub(super) fn is_empty(&self) -> bool {
        self.calls.is_empty()
            && self.clock.is_empty()
            && self.state_reads.is_empty()
            && self.state_sets.is_empty()
            && self.audits.is_empty()
    }

    /// The runs it holds records of.
    pub(super) fn runs(&self) -> BTreeSet<i64> {
        let keyed = self.calls.keys().chain(self.clock.keys());
        keyed
            .chain(self.state_reads.keys())
            .map(|k| k.0)
            .chain(self.state_sets.values().map(|v| v.0))
            .collect()
    }

    /// Takes every record of `run` out.
    pub(super) fn take_run(&mut self, run: i64) -> Pending {
        fn split<K: Ord + Clone, V>(
            map: &mut BTreeMap<K, V>,
            mine: impl Fn(&K, &V) -> bool,
        ) -> BTreeMap<K, V> {
            let keys: Vec<K> = map
                .iter()
                .filter(|(k, v)| mine(k, v))
                .map(|(k, _)| k.clone())
                .collect();
            keys.into_iter()
                .filter_map(|k| map.remove(&k).map(|v| (k, v)))
                .collect()
        }
        let (audits, others) = std::mem::take(&mut self.audits)
            .into_iter()
            .partition(|a| a.0 == run);
        self.audits = others;
        Pending {
            calls: split(&mut self.calls, |k, _| k.0 == run),
            clock: split(&mut self.clock, |k, _| k.0 == run),
            state_reads: split(&mut self.state_reads, |k, _| k.0 == run),
            state_sets: split(&mut self.state_sets, |_, v| v.0 == run),
            audits,
        }
    }

    /// Drops every record of `runs` (whose leases were lost), but their audit entries: those
    /// tell of writes that were sent.
    pub(super) fn drop_runs(&mut self, runs: &BTreeSet<i64>) {
        self.calls.retain(|k, _| !runs.contains(&k.0));
        self.clock.retain(|k, _| !runs.contains(&k.0));
        self.state_reads.retain(|k, _| !runs.contains(&k.0));
        self.state_sets.retain(|_, v| !runs.contains(&v.0));
    }

    /// Puts back records a failed write took, unless newer ones came meanwhile.
    pub(super) fn restore(&mut self, old: Pending) {
        restore(&mut self.calls, old.calls);
        restore(&mut self.clock, old.clock);
        restore(&mut self.state_reads, old.state_reads);
        restore(&mut self.state_sets, old.state_sets);
        let newer = std::mem::replace(&mut self.audits, old.audits);
        self.audits.extend(newer);
    }

    /// Writes it all on `conn` in one statement, checking the `fenced` runs' fences; with a
    /// flush row `owner`, that row is touched too (a durable commit). Answers the fenced runs
    /// whose fence moved: nothing of theirs was written.
    pub(super) fn write(
        &self,
        conn: &mut Conn,
        fenced: &[(i64, i64)],
        owner: Option<&str>,
    ) -> Result<BTreeSet<i64>> {
        let ids: Vec<i64> = fenced.iter().map(|f| f.0).collect();
        let fences: Vec<i64> = fenced.iter().map(|f| f.1).collect();
        let (calls_run, calls_seq, calls) = columns(&self.calls);
        let (clock_run, clock_seq, clock) = columns(&self.clock);
        let (reads_run, reads_seq, reads) = columns(&self.state_reads);
        let sets_run: Vec<i64> = self.state_sets.values().map(|v| v.0).collect();
        let sets_workflow: Vec<&str> = self.state_sets.keys().map(|k| k.0.as_str()).collect();
        let sets_key: Vec<&str> = self.state_sets.keys().map(|k| k.1.as_str()).collect();
        let sets: Vec<&str> = self.state_sets.values().map(|v| v.1.as_str()).collect();
        let audit_run: Vec<i64> = self.audits.iter().map(|a| a.0).collect();
        let audits: Vec<&str> = self.audits.iter().map(|a| a.1.as_str()).collect();
        let rows = conn.query(
            WRITE,
            &[
                &ids,
                &fences,
                &calls_run,
                &calls_seq,
                &calls,
                &clock_run,
                &clock_seq,
                &clock,
                &reads_run,
                &reads_seq,
                &reads,
                &sets_run,
                &sets_workflow,
                &sets_key,
                &sets,
                &owner.unwrap_or_default(),
                &owner.is_some(),
                &audit_run,
                &audits,
            ],
        )?;
        let held: BTreeSet<i64> = rows.iter().map(|r| r.get(0)).collect();
        Ok(ids.into_iter().filter(|id| !held.contains(id)).collect())
    }
}

fn restore<K: Ord, V>(now: &mut BTreeMap<K, V>, old: BTreeMap<K, V>) {
    for (k, v) in old {
        now.entry(k).or_insert(v);
    }
}
