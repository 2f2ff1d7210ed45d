//! Runs: written before they start, with their trigger and pinned plugin, together with the
//! dedupe key or cursor move that queued them.

use serde::{Deserialize, Serialize};
use serde_json::Value;

#[cfg(doc)]
use crate::Store;
use crate::{CursorMove, Result};

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
/// without reading the run again ([`RunStore::end_attempt_with`]).
#[derive(Debug, Clone)]
pub struct Started {
    /// The run as started.
    pub run: Run,
    /// What the backend checks the record against when the attempt ends: sled keeps the
    /// record as written, PostgreSQL its revision.
    pub(crate) stamp: Vec<u8>,
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

/// What [`RunStore::queue`] did.
#[derive(Debug, Clone, PartialEq)]
pub enum Queued {
    /// The runs were written (with the cursor move, if any).
    Runs(Vec<Run>),
    /// The dedupe key was taken already: nothing was written. The run it names.
    Duplicate(RunId),
    /// The cursor's guard did not hold (another worker fired the trigger, or holds it now):
    /// nothing was written.
    Moved,
}

impl NewRun {
    /// The run this queues, with its id and dedupe key.
    pub(crate) fn into_run(self, id: RunId, dedupe: Option<&str>) -> Run {
        Run {
            id,
            workflow: self.workflow,
            plugin_hash: self.plugin_hash,
            trigger: self.trigger,
            requester: self.requester,
            dry_run: self.dry_run,
            seed: self.seed,
            status: Status::Queued,
            created_at: self.now,
            updated_at: self.now,
            attempts: 0,
            summary: None,
            output_json: None,
            error: None,
            log: Vec::new(),
            plan: Vec::new(),
            dedupe: dedupe.map(str::to_owned),
            retry: None,
        }
    }
}

impl Run {
    /// Starts an attempt: `running`, one more attempt. Answers `false` for a run that has
    /// ended, which is left alone.
    pub(crate) fn begin(&mut self, now: u64) -> bool {
        if self.status.is_final() {
            return false;
        }
        self.status = Status::Running;
        self.attempts += 1;
        self.updated_at = now;
        true
    }
}

/// Runs: queued with what produced them, started and ended by workers.
pub trait RunStore {
    /// Writes runs with the dedupe key (a webhook delivery id, a cron tick) or the cursor move
    /// (a poller's position, a cron's next fire) that produced them: all of it, or none that a
    /// sender could be told of. A dedupe key taken already writes nothing and answers the run
    /// that took it; a cursor whose guard fails writes nothing ([`Queued::Moved`]).
    fn queue(
        &self,
        runs: Vec<NewRun>,
        dedupe: Option<&str>,
        cursor: Option<CursorMove<'_>>,
    ) -> Result<Queued>;

    /// The run queued under a dedupe key, if it exists.
    fn dedupe_run(&self, key: &str) -> Result<Option<RunId>>;

    /// Puts back a run's dedupe key when a crash lost it, so a redelivery is still dropped as
    /// a duplicate. `serve` calls it for every run before it takes deliveries.
    fn restore_dedupe_key(&self, run: &Run) -> Result<()>;

    /// Claims a run for this worker and marks it started (`running`, one more attempt); a run
    /// that has ended is returned as it is. `None` while another worker holds its lease.
    fn begin_attempt(&self, id: RunId, now: u64) -> Result<Option<Started>>;

    /// Writes how a started run's attempt ended: `change` applied to the run as it was
    /// started. Should the record have changed meanwhile, it is read and changed in place
    /// instead. (The generic [`Store::end_attempt`] calls this.)
    fn end_attempt_with(&self, started: &Started, change: &dyn Fn(&mut Run)) -> Result<Run>;

    /// One run.
    fn run(&self, id: RunId) -> Result<Run>;

    /// Every run, oldest first, with this status when given.
    fn runs(&self, status: Option<Status>) -> Result<Vec<Run>>;

    /// Changes a run in place (read, `change`, write back atomically) and returns it. (The
    /// generic [`Store::update_run`] calls this.)
    fn update_run_with(&self, id: RunId, change: &dyn Fn(&mut Run)) -> Result<Run>;

    /// Whether a run of `workflow` has not ended (a cron's overlap policy asks).
    fn unfinished(&self, workflow: &str) -> Result<bool>;
}
