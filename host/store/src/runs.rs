//! Runs: written before they start, with their trigger and pinned plugin, together with the
//! dedupe key or cursor move that queued them.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use sled::Transactional;
use sled::transaction::ConflictableTransactionError;

use crate::{Error, Result, Store, decode, encode};

/// A run's id.
pub type RunId = u64;

/// Where a run is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Status {
    /// Written, not yet started.
    Queued,
    /// A worker runs it.
    Running,
    /// Stopped at an approval nobody has decided yet.
    AwaitingApproval,
    /// Stopped after a call kept failing for a reason time may cure (Magento unreachable,
    /// 429, 5xx); resumed by replay at [`Retrying::next_at`].
    Retrying,
    /// Ended well.
    Succeeded,
    /// Ended with an error.
    Failed,
}

impl Status {
    /// The name used in the API and the CLI (`awaiting-approval`, ...).
    pub fn name(self) -> &'static str {
        match self {
            Status::Queued => "queued",
            Status::Running => "running",
            Status::AwaitingApproval => "awaiting-approval",
            Status::Retrying => "retrying",
            Status::Succeeded => "succeeded",
            Status::Failed => "failed",
        }
    }

    /// Reads a status name.
    pub fn parse(s: &str) -> Option<Status> {
        [
            Status::Queued,
            Status::Running,
            Status::AwaitingApproval,
            Status::Retrying,
            Status::Succeeded,
            Status::Failed,
        ]
        .into_iter()
        .find(|st| st.name() == s)
    }

    /// Whether the run has ended.
    pub fn is_final(self) -> bool {
        matches!(self, Status::Succeeded | Status::Failed)
    }
}

/// A run as stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Run {
    /// Its id.
    pub id: RunId,
    /// The workflow's name.
    pub workflow: String,
    /// SHA-256 of the plugin bytes it runs (hex).
    pub plugin_hash: String,
    /// What started it (the engine's encoding of the trigger).
    pub trigger: Value,
    /// Who or what started it (`cron`, `webhook`, `poll`, or a person).
    pub requester: String,
    /// Writes are planned, not sent.
    pub dry_run: bool,
    /// The seed of the run's randomness.
    pub seed: [u8; 32],
    /// Where it is.
    pub status: Status,
    /// Unix seconds.
    pub created_at: u64,
    /// Unix seconds.
    pub updated_at: u64,
    /// How many times a worker started it (1 for a run that never stopped).
    pub attempts: u32,
    /// The plugin's summary when it succeeded.
    pub summary: Option<String>,
    /// The plugin's output JSON when it succeeded.
    pub output_json: Option<String>,
    /// Why it failed, or what it waits for.
    pub error: Option<String>,
    /// Log lines of the last attempt, `(level, message)`.
    pub log: Vec<(String, String)>,
    /// A dry run's planned writes.
    pub plan: Vec<Value>,
    /// The dedupe key it was queued under (a webhook delivery's), kept with the run so the
    /// key can be restored if a crash kept the run but lost the key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dedupe: Option<String>,
    /// The call a retrying run waits to ask again, kept until that call is answered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry: Option<Retrying>,
}

/// Where a run's durable retries stand: the call that keeps failing, and when it is asked
/// again.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Retrying {
    /// The call's place in the journal.
    pub call: u64,
    /// The call's name (`customers.update`).
    pub name: String,
    /// Attempts that failed so far.
    pub attempts: u32,
    /// Unix seconds of the first failure.
    pub first_failed_at: u64,
    /// Unix seconds of the next attempt.
    pub next_at: u64,
    /// The last failure, as Magento or the network put it.
    pub last_error: String,
}

/// A run as a worker started it, with the record that start wrote, so its end is written
/// without reading the run again ([`Store::end_attempt`]).
#[derive(Debug, Clone)]
pub struct Started {
    /// The run as started.
    pub run: Run,
    stored: sled::IVec,
}

/// A run to queue.
#[derive(Debug, Clone)]
pub struct NewRun {
    /// The workflow's name.
    pub workflow: String,
    /// SHA-256 of the plugin bytes (hex); the bytes must be stored with `put_plugin`.
    pub plugin_hash: String,
    /// What started it.
    pub trigger: Value,
    /// Who or what started it.
    pub requester: String,
    /// Plan writes instead of sending them.
    pub dry_run: bool,
    /// The seed of the run's randomness.
    pub seed: [u8; 32],
    /// Unix seconds.
    pub now: u64,
}

/// What [`Store::queue`] did.
#[derive(Debug, Clone, PartialEq)]
pub enum Queued {
    /// The runs were written (with the cursor move, if any).
    Runs(Vec<Run>),
    /// The dedupe key was taken already: nothing was written. The run it names.
    Duplicate(RunId),
}

impl Store {
    /// Writes runs with the dedupe key (a webhook delivery id) or the cursor move (a poller's
    /// position, a cron's next fire) that produced them.
    ///
    /// With a cursor, runs and cursor land in one transaction: all of it or none. With a
    /// dedupe key alone (the webhook path, the hot one) there is no transaction: a sled
    /// transaction takes the database's global write lock, which waits for any flush in
    /// progress and stalls every other reader and writer behind it, so intake would run at
    /// the pace of the disk. Instead, queueing holds a process-wide lock (one process per
    /// directory), writes the key, then the runs, and every order a crash can leave is safe:
    /// a key whose run is missing is taken anew (the sender was never told it was queued,
    /// and sends again), and a run whose key is missing gets it back at recovery
    /// ([`Store::restore_dedupe_key`]) before deliveries are taken.
    pub fn queue(
        &self,
        runs: Vec<NewRun>,
        dedupe: Option<&str>,
        cursor: Option<(&str, &Value)>,
    ) -> Result<Queued> {
        let _queueing = self.queueing.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(key) = dedupe
            && let Some(id) = self.dedupe_owner(key)?
        {
            return Ok(Queued::Duplicate(id));
        }
        let mut records = Vec::with_capacity(runs.len());
        for n in runs {
            records.push(Run {
                id: self.next_id()?,
                workflow: n.workflow,
                plugin_hash: n.plugin_hash,
                trigger: n.trigger,
                requester: n.requester,
                dry_run: n.dry_run,
                seed: n.seed,
                status: Status::Queued,
                created_at: n.now,
                updated_at: n.now,
                attempts: 0,
                summary: None,
                output_json: None,
                error: None,
                log: Vec::new(),
                plan: Vec::new(),
                dedupe: dedupe.map(str::to_owned),
                retry: None,
            });
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
            Some((k, v)) => {
                let cursor = encode(v)?;
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

    /// The run queued under a dedupe key, if it exists.
    pub fn dedupe_run(&self, key: &str) -> Result<Option<RunId>> {
        self.dedupe_owner(key)
    }

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

    /// Puts back a run's dedupe key when a crash lost it, so a redelivery is still dropped as
    /// a duplicate. `serve` calls it for every run before it takes deliveries.
    pub fn restore_dedupe_key(&self, run: &Run) -> Result<()> {
        let Some(key) = run.dedupe.as_deref() else {
            return Ok(());
        };
        let _queueing = self.queueing.lock().unwrap_or_else(|e| e.into_inner());
        if self.dedupe_owner(key)?.is_none() {
            self.dedupe.insert(key, &run.id.to_be_bytes())?;
        }
        Ok(())
    }

    /// Marks a run as started by a worker (`running`, one more attempt) and returns it; a run
    /// that has ended is returned as it is. One read and one write.
    pub fn begin_attempt(&self, id: RunId, now: u64) -> Result<Started> {
        let (run, stored) = self.swap_run(id, |run| {
            if run.status.is_final() {
                return false;
            }
            run.status = Status::Running;
            run.attempts += 1;
            run.updated_at = now;
            true
        })?;
        Ok(Started { run, stored })
    }

    /// Writes how a started run's attempt ended: `change` applied to the run as it was
    /// started, without reading it again. Should the record have changed meanwhile, it is
    /// read and changed in place instead.
    pub fn end_attempt(&self, started: &Started, change: impl Fn(&mut Run)) -> Result<Run> {
        let mut run = started.run.clone();
        change(&mut run);
        let swapped = self.runs.compare_and_swap(
            run.id.to_be_bytes(),
            Some(&started.stored),
            Some(encode(&run)?),
        )?;
        match swapped {
            Ok(()) => Ok(run),
            Err(_) => self.update_run(run.id, change),
        }
    }

    /// One run.
    pub fn run(&self, id: RunId) -> Result<Run> {
        let bytes = self.runs.get(id.to_be_bytes())?.ok_or(Error::NoRun(id))?;
        decode(&bytes)
    }

    /// Every run, oldest first, with this status when given.
    pub fn runs(&self, status: Option<Status>) -> Result<Vec<Run>> {
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

    /// Changes a run in place (read, `change`, write back atomically) and returns it.
    pub fn update_run(&self, id: RunId, change: impl Fn(&mut Run)) -> Result<Run> {
        let (run, _) = self.swap_run(id, |run| {
            change(run);
            true
        })?;
        Ok(run)
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
    use crate::{Entry, EntryState};

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

    fn queued(store: &Store, key: &str) -> Queued {
        store.queue(vec![new_run()], Some(key), None).unwrap()
    }

    #[test]
    fn a_dedupe_key_left_without_its_run_is_taken_anew() {
        let store = Store::temporary().unwrap();
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
        let store = Store::temporary().unwrap();
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
        let store = Store::temporary().unwrap();
        let Queued::Runs(runs) = store.queue(vec![new_run()], None, None).unwrap() else {
            panic!("queued");
        };
        let id = runs[0].id;
        let run = store.begin_attempt(id, 2_000).unwrap().run;
        assert_eq!(
            (run.status, run.attempts, run.updated_at),
            (Status::Running, 1, 2_000)
        );
        let second = store.begin_attempt(id, 3_000).unwrap();
        assert_eq!(second.run.attempts, 2);
        let ended = store
            .end_attempt(&second, |r| r.status = Status::Succeeded)
            .unwrap();
        assert_eq!(store.run(id).unwrap(), ended);
        let again = store.begin_attempt(id, 4_000).unwrap().run;
        assert_eq!((again.status, again.attempts), (Status::Succeeded, 2));
        assert_eq!(store.run(id).unwrap(), again);
        // A record changed after the start is read again, not overwritten.
        let stale = Started {
            run,
            stored: sled::IVec::from(&b"stale"[..]),
        };
        let mended = store
            .end_attempt(&stale, |r| r.summary = Some("x".into()))
            .unwrap();
        assert_eq!((mended.status, mended.attempts), (Status::Succeeded, 2));
        assert_eq!(mended.summary.as_deref(), Some("x"));
    }

    #[test]
    fn a_journal_is_read_up_to_its_first_gap() {
        let store = Store::temporary().unwrap();
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
