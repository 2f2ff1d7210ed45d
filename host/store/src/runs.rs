//! Runs: written before they start, with their trigger and pinned plugin, in the same
//! transaction as the dedupe key or cursor move that queued them.

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
    /// Writes runs, in one transaction with the dedupe key (a webhook delivery id) and the
    /// cursor move (a poller's position) that produced them: either all of it lands or none.
    pub fn queue(
        &self,
        runs: Vec<NewRun>,
        dedupe: Option<&str>,
        cursor: Option<(&str, &Value)>,
    ) -> Result<Queued> {
        let mut ids = Vec::with_capacity(runs.len());
        for _ in &runs {
            ids.push(self.next_id()?);
        }
        let records: Vec<Run> = runs
            .into_iter()
            .zip(&ids)
            .map(|(n, &id)| Run {
                id,
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
            })
            .collect();
        let encoded: Vec<(u64, Vec<u8>)> = records
            .iter()
            .map(|r| Ok((r.id, encode(r)?)))
            .collect::<Result<_>>()?;
        let cursor = match cursor {
            Some((k, v)) => Some((k, encode(v)?)),
            None => None,
        };
        let first = ids.first().copied().unwrap_or(0);
        let taken =
            (&self.runs, &self.dedupe, &self.cursors).transaction(|(runs, dedupes, cursors)| {
                if let Some(key) = dedupe {
                    if let Some(existing) = dedupes.get(key)? {
                        let mut id = [0u8; 8];
                        id.copy_from_slice(&existing[..8]);
                        return Ok(Some(u64::from_be_bytes(id)));
                    }
                    dedupes.insert(key, &first.to_be_bytes())?;
                }
                for (id, bytes) in &encoded {
                    runs.insert(&id.to_be_bytes(), bytes.as_slice())?;
                }
                if let Some((k, v)) = &cursor {
                    cursors.insert(*k, v.as_slice())?;
                }
                Ok::<_, ConflictableTransactionError<Error>>(None)
            })?;
        Ok(match taken {
            Some(id) => Queued::Duplicate(id),
            None => Queued::Runs(records),
        })
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
        let key = id.to_be_bytes();
        loop {
            let old = self.runs.get(key)?.ok_or(Error::NoRun(id))?;
            let mut run: Run = decode(&old)?;
            change(&mut run);
            let new = encode(&run)?;
            if self
                .runs
                .compare_and_swap(key, Some(old), Some(new))?
                .is_ok()
            {
                return Ok(run);
            }
        }
    }
}
