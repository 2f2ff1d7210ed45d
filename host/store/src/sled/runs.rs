//! Runs in sled: written before they start, with their trigger and pinned plugin, together
//! with the dedupe key or cursor move that queued them.

use sled::Transactional;
use sled::transaction::ConflictableTransactionError;

use super::Sled;
use crate::Backend as _;
use crate::{
    CursorGuard, CursorMove, Error, NewRun, Queued, Result, Run, RunId, RunStore, Started, Status,
    decode, encode,
};

impl RunStore for Sled {
    /// With a cursor, runs and cursor land in one transaction: all of it or none. With a
    /// dedupe key alone (the webhook path, the hot one) there is no transaction: a sled
    /// transaction takes the database's global write lock, which waits for any flush in
    /// progress and stalls every other reader and writer behind it, so intake would run at
    /// the pace of the disk. Instead, queueing holds a process-wide lock (one process per
    /// directory), writes the key, then the runs, and every order a crash can leave is safe:
    /// a key whose run is missing is taken anew (the sender was never told it was queued,
    /// and sends again), and a run whose key is missing gets it back at recovery
    /// ([`RunStore::restore_dedupe_key`]) before deliveries are taken.
    fn queue(
        &self,
        runs: Vec<NewRun>,
        dedupe: Option<&str>,
        cursor: Option<CursorMove<'_>>,
    ) -> Result<Queued> {
        let _queueing = self.queueing.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(key) = dedupe
            && let Some(id) = self.dedupe_owner(key)?
        {
            return Ok(Queued::Duplicate(id));
        }
        // One process queues: a cursor moves only here, under this lock, so checking its
        // value is enough. (A fence is this process's own: nobody else leases it.)
        if let Some(CursorMove {
            key,
            guard: CursorGuard::Was(was),
            ..
        }) = cursor
            && self.cursor_value(key)?.as_ref() != was
        {
            return Ok(Queued::Moved);
        }
        let mut records = Vec::with_capacity(runs.len());
        for n in runs {
            records.push(n.into_run(self.next_id()?, dedupe));
        }
        let encoded: Vec<(u64, Vec<u8>)> = records
            .iter()
            .map(|r| Ok((r.id, encode(r)?)))
            .collect::<Result<_>>()?;
        let first = records.first().map_or(0, |r| r.id);
        match cursor {
            None => {
                if let Some(key) = dedupe {
                    self.dedupe.insert(key, &first.to_be_bytes())?;
                }
                for (id, bytes) in &encoded {
                    self.runs.insert(id.to_be_bytes(), bytes.as_slice())?;
                }
            }
            Some(CursorMove { key: k, to, .. }) => {
                let cursor = encode(to)?;
                (&self.runs, &self.dedupe, &self.cursors).transaction(
                    |(runs, dedupes, cursors)| {
                        if let Some(key) = dedupe {
                            dedupes.insert(key, &first.to_be_bytes())?;
                        }
                        for (id, bytes) in &encoded {
                            runs.insert(&id.to_be_bytes(), bytes.as_slice())?;
                        }
                        cursors.insert(k, cursor.as_slice())?;
                        Ok::<_, ConflictableTransactionError<Error>>(())
                    },
                )?;
            }
        }
        Ok(Queued::Runs(records))
    }

    fn dedupe_run(&self, key: &str) -> Result<Option<RunId>> {
        self.dedupe_owner(key)
    }

    fn restore_dedupe_key(&self, run: &Run) -> Result<()> {
        let Some(key) = run.dedupe.as_deref() else {
            return Ok(());
        };
        let _queueing = self.queueing.lock().unwrap_or_else(|e| e.into_inner());
        if self.dedupe_owner(key)?.is_none() {
            self.dedupe.insert(key, &run.id.to_be_bytes())?;
        }
        Ok(())
    }

    /// One read and one write. Never `None`: this process is the only worker.
    fn begin_attempt(&self, id: RunId, now: u64) -> Result<Option<Started>> {
        let (run, stored) = self.swap_run(id, |run| run.begin(now))?;
        Ok(Some(Started {
            run,
            stamp: stored.to_vec(),
        }))
    }

    /// Without reading the run again, unless it changed since the start.
    fn end_attempt_with(&self, started: &Started, change: &dyn Fn(&mut Run)) -> Result<Run> {
        let mut run = started.run.clone();
        change(&mut run);
        let swapped = self.runs.compare_and_swap(
            run.id.to_be_bytes(),
            Some(started.stamp.as_slice()),
            Some(encode(&run)?),
        )?;
        match swapped {
            Ok(()) => Ok(run),
            Err(_) => self.update_run_with(run.id, change),
        }
    }

    fn run(&self, id: RunId) -> Result<Run> {
        let bytes = self.runs.get(id.to_be_bytes())?.ok_or(Error::NoRun(id))?;
        decode(&bytes)
    }

    fn runs(&self, status: Option<Status>) -> Result<Vec<Run>> {
        let mut out = Vec::new();
        for item in self.runs.iter() {
            let (_, bytes) = item?;
            let run: Run = decode(&bytes)?;
            if status.is_none_or(|s| run.status == s) {
                out.push(run);
            }
        }
        Ok(out)
    }

    fn update_run_with(&self, id: RunId, change: &dyn Fn(&mut Run)) -> Result<Run> {
        let (run, _) = self.swap_run(id, |run| {
            change(run);
            true
        })?;
        Ok(run)
    }

    /// A scan of the runs, newest first, stopping at the first unfinished run of the workflow.
    fn unfinished(&self, workflow: &str) -> Result<bool> {
        for item in self.runs.iter().rev() {
            let (_, bytes) = item?;
            let run: Run = decode(&bytes)?;
            if run.workflow == workflow && !run.status.is_final() {
                return Ok(true);
            }
        }
        Ok(false)
    }
}

impl Sled {
    /// The run a dedupe key was taken by, if that run exists (a key left without its run by a
    /// crash counts as free).
    fn dedupe_owner(&self, key: &str) -> Result<Option<RunId>> {
        let Some(bytes) = self.dedupe.get(key)? else {
            return Ok(None);
        };
        let id = <[u8; 8]>::try_from(&bytes[..])
            .map(u64::from_be_bytes)
            .map_err(|_| {
                Error::Corrupt(format!("dedupe key {key:?} holds {} bytes", bytes.len()))
            })?;
        Ok(self.runs.contains_key(id.to_be_bytes())?.then_some(id))
    }

    /// Reads a run, lets `change` edit it, and writes it back atomically (read again and
    /// retried when another writer came between) unless `change` answers `false`. Answers
    /// the run and its record as stored.
    fn swap_run(&self, id: RunId, change: impl Fn(&mut Run) -> bool) -> Result<(Run, sled::IVec)> {
        let key = id.to_be_bytes();
        loop {
            let old = self.runs.get(key)?.ok_or(Error::NoRun(id))?;
            let mut run: Run = decode(&old)?;
            if !change(&mut run) {
                return Ok((run, old));
            }
            let new = sled::IVec::from(encode(&run)?);
            if self
                .runs
                .compare_and_swap(key, Some(old), Some(new.clone()))?
                .is_ok()
            {
                return Ok((run, new));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Entry, EntryState, JournalStore};

    fn new_run() -> NewRun {
        NewRun {
            workflow: "hooked".into(),
            plugin_hash: "ab".repeat(32),
            trigger: serde_json::json!({"webhook": {"name": "customer_save_after"}}),
            requester: "webhook".into(),
            dry_run: false,
            seed: [1; 32],
            now: 1_000,
        }
    }

    fn queued(store: &Sled, key: &str) -> Queued {
        store.queue(vec![new_run()], Some(key), None).unwrap()
    }

    #[test]
    fn a_dedupe_key_left_without_its_run_is_taken_anew() {
        let store = Sled::temporary().unwrap();
        // A crash kept the key of a delivery but not its run: the sender was never answered.
        store
            .dedupe
            .insert("hooked/body/1", &99u64.to_be_bytes())
            .unwrap();
        let Queued::Runs(runs) = queued(&store, "hooked/body/1") else {
            panic!("the redelivery must be queued, not dropped as a duplicate of a lost run");
        };
        assert_eq!(runs[0].dedupe.as_deref(), Some("hooked/body/1"));
        assert_eq!(
            queued(&store, "hooked/body/1"),
            Queued::Duplicate(runs[0].id)
        );
    }

    #[test]
    fn a_run_whose_dedupe_key_was_lost_gets_it_back() {
        let store = Sled::temporary().unwrap();
        let Queued::Runs(runs) = queued(&store, "hooked/body/2") else {
            panic!("queued");
        };
        // A crash kept the run but not its key.
        store.dedupe.remove("hooked/body/2").unwrap();
        store
            .restore_dedupe_key(&store.run(runs[0].id).unwrap())
            .unwrap();
        assert_eq!(
            queued(&store, "hooked/body/2"),
            Queued::Duplicate(runs[0].id)
        );
        assert_eq!(store.runs(None).unwrap().len(), 1);
    }

    #[test]
    fn an_attempt_marks_the_run_running_once_and_leaves_ended_runs_alone() {
        let store = Sled::temporary().unwrap();
        let Queued::Runs(runs) = store.queue(vec![new_run()], None, None).unwrap() else {
            panic!("queued");
        };
        let id = runs[0].id;
        let run = store.begin_attempt(id, 2_000).unwrap().unwrap().run;
        assert_eq!(
            (run.status, run.attempts, run.updated_at),
            (Status::Running, 1, 2_000)
        );
        let second = store.begin_attempt(id, 3_000).unwrap().unwrap();
        assert_eq!(second.run.attempts, 2);
        let ended = store
            .end_attempt_with(&second, &|r| r.status = Status::Succeeded)
            .unwrap();
        assert_eq!(store.run(id).unwrap(), ended);
        let again = store.begin_attempt(id, 4_000).unwrap().unwrap().run;
        assert_eq!((again.status, again.attempts), (Status::Succeeded, 2));
        assert_eq!(store.run(id).unwrap(), again);
        // A record changed after the start is read again, not overwritten.
        let stale = Started {
            run,
            stamp: b"stale".to_vec(),
        };
        let mended = store
            .end_attempt_with(&stale, &|r| r.summary = Some("x".into()))
            .unwrap();
        assert_eq!((mended.status, mended.attempts), (Status::Succeeded, 2));
        assert_eq!(mended.summary.as_deref(), Some("x"));
    }

    #[test]
    fn a_journal_is_read_up_to_its_first_gap() {
        let store = Sled::temporary().unwrap();
        let entry = |seq| Entry {
            seq,
            call: "customers.get".into(),
            digest: format!("d{seq}"),
            state: EntryState::Intent,
        };
        // Entry 2 was lost by a crash, entry 3 kept: 3 must not be taken as the answer to 2.
        store
            .record_all(5, &[entry(0), entry(1), entry(3)])
            .unwrap();
        let read: Vec<u64> = store.journal(5).unwrap().iter().map(|e| e.seq).collect();
        assert_eq!(read, vec![0, 1]);
        for (seq, nanos) in [(0, 10u128), (2, 30)] {
            store.record_clock(5, seq, nanos).unwrap();
        }
        assert_eq!(store.clock_readings(5).unwrap(), vec![10]);
    }
}
