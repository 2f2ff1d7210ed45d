//! A workflow's `[trigger]`: by hand, cron, webhook or `updated_at` polling, read from the
//! file with each bad value refused where it stands.

use std::ops::Range;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use serde::Deserialize;
use toml::Spanned;

use super::{WorkflowError, parse_duration};

/// When a workflow runs.
#[derive(Debug, Clone, PartialEq)]
pub enum Trigger {
    /// Only by hand (`mageflow run`).
    Manual,
    /// On a cron schedule.
    Cron {
        /// The expression (seconds first: `0 0 2 * * *`).
        schedule: String,
        /// Offset from UTC of the schedule's time zone.
        utc_offset_secs: i32,
        /// What to do with ticks missed while mageflow was down.
        missed: Missed,
        /// What to do when a tick comes while the previous run is unfinished.
        overlap: Overlap,
    },
    /// On signed webhooks.
    Webhook {
        /// Accepted event names (empty: any).
        events: Vec<String>,
        /// How deliveries are signed.
        signature: Signature,
    },
    /// On customers whose `updated_at` moved.
    Poll {
        /// How often to look.
        interval: Duration,
        /// Extra filters (`field condition value`, AND-ed).
        filters: Vec<String>,
        /// Where the first poll starts: `now`, `beginning`, or a `YYYY-MM-DD HH:MM:SS` time.
        start: String,
    },
}

/// Missed cron ticks after downtime.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Missed {
    /// Drop them.
    Skip,
    /// Run once for all of them.
    Once,
    /// Run each, up to this many.
    All(u32),
}

/// A tick while the previous run is unfinished.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Overlap {
    /// Drop the tick.
    Skip,
    /// Start another run anyway.
    Allow,
}

/// How webhook deliveries are signed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Signature {
    /// Adobe Commerce: `x-adobe-commerce-webhook-signature`, RSA-SHA256, public key file (PEM).
    Adobe {
        /// The PEM file, resolved against the workflow file's directory.
        public_key: PathBuf,
    },
    /// A shared secret: `x-mageflow-signature: sha256=<hex HMAC of the body>`.
    Hmac {
        /// The environment variable holding the secret.
        secret_env: String,
    },
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub(super) struct TriggerFile {
    kind: Spanned<String>,
    schedule: Option<Spanned<String>>,
    timezone: Option<Spanned<String>>,
    missed: Option<Spanned<String>>,
    overlap: Option<Spanned<String>>,
    events: Option<Vec<String>>,
    signature: Option<Spanned<String>>,
    public_key_file: Option<Spanned<String>>,
    secret_env: Option<Spanned<String>>,
    interval: Option<Spanned<String>>,
    filter: Option<Vec<Spanned<String>>>,
    start: Option<Spanned<String>>,
}

pub(super) fn trigger(
    t: &Spanned<TriggerFile>,
    dir: &Path,
    at: &impl Fn(Option<Range<usize>>, String) -> WorkflowError,
) -> Result<Trigger, WorkflowError> {
    let t_span = t.span();
    let t = t.get_ref();
    let need = |v: &Option<Spanned<String>>, key: &str, example: &str| {
        v.as_ref().map(|s| s.get_ref().clone()).ok_or_else(|| {
            at(
                Some(t_span.clone()),
                format!(
                    "a {} trigger needs {key}, e.g. {key} = {example}",
                    t.kind.get_ref()
                ),
            )
        })
    };
    Ok(match t.kind.get_ref().as_str() {
        "manual" => Trigger::Manual,
        "cron" => {
            let schedule = need(&t.schedule, "schedule", "\"0 0 2 * * *\"")?;
            if let Err(e) = cron::Schedule::from_str(&schedule) {
                return Err(at(
                    t.schedule.as_ref().map(Spanned::span),
                    format!(
                        "schedule {schedule:?} is not a cron expression ({e}); it has seconds first: \"sec min hour day month weekday\""
                    ),
                ));
            }
            let utc_offset_secs = match &t.timezone {
                None => 0,
                Some(tz) => parse_offset(tz.get_ref()).ok_or_else(|| {
                    at(
                        Some(tz.span()),
                        format!(
                            "timezone {:?} must be \"UTC\" or a fixed offset like \"+02:00\"",
                            tz.get_ref()
                        ),
                    )
                })?,
            };
            let missed = match t.missed.as_ref().map(|m| (m.get_ref().as_str(), m.span())) {
                None | Some(("skip", _)) => Missed::Skip,
                Some(("once", _)) => Missed::Once,
                Some((m, span)) => {
                    match m.strip_prefix("all-up-to-").and_then(|n| n.parse().ok()) {
                        Some(n) if n > 0 => Missed::All(n),
                        _ => {
                            return Err(at(
                                Some(span),
                                format!(
                                    "missed {m:?} must be \"skip\", \"once\" or \"all-up-to-N\" (e.g. \"all-up-to-10\")"
                                ),
                            ));
                        }
                    }
                }
            };
            let overlap = match t.overlap.as_ref().map(|m| (m.get_ref().as_str(), m.span())) {
                None | Some(("skip", _)) => Overlap::Skip,
                Some(("allow", _)) => Overlap::Allow,
                Some((o, span)) => {
                    return Err(at(
                        Some(span),
                        format!("overlap {o:?} must be \"skip\" or \"allow\""),
                    ));
                }
            };
            Trigger::Cron {
                schedule,
                utc_offset_secs,
                missed,
                overlap,
            }
        }
        "webhook" => {
            let signature = match t
                .signature
                .as_ref()
                .map(|s| (s.get_ref().as_str(), s.span()))
            {
                Some(("adobe", _)) => Signature::Adobe {
                    public_key: dir.join(need(
                        &t.public_key_file,
                        "public-key-file",
                        "\"keys/adobe.pem\"",
                    )?),
                },
                Some(("hmac", _)) => Signature::Hmac {
                    secret_env: need(&t.secret_env, "secret-env", "\"MAGEFLOW_HOOK_SECRET\"")?,
                },
                Some((other, span)) => {
                    return Err(at(
                        Some(span),
                        format!("signature {other:?} must be \"adobe\" or \"hmac\""),
                    ));
                }
                None => {
                    return Err(at(
                        Some(t_span),
                        "a webhook trigger needs signature = \"adobe\" (with public-key-file) or \"hmac\" (with secret-env): unsigned webhooks are refused".into(),
                    ));
                }
            };
            Trigger::Webhook {
                events: t.events.clone().unwrap_or_default(),
                signature,
            }
        }
        "poll" => {
            let interval_text = need(&t.interval, "interval", "\"60s\"")?;
            let interval = parse_duration(&interval_text)
                .filter(|d| !d.is_zero())
                .ok_or_else(|| {
                    at(
                        t.interval.as_ref().map(Spanned::span),
                        format!("interval {interval_text:?} is not a duration: write e.g. \"60s\""),
                    )
                })?;
            let mut filters = Vec::new();
            for f in t.filter.iter().flatten() {
                if let Err(e) = mageflow_magento::Filter::parse(f.get_ref()) {
                    return Err(at(Some(f.span()), e));
                }
                filters.push(f.get_ref().clone());
            }
            let start = t
                .start
                .as_ref()
                .map_or_else(|| "now".to_owned(), |s| s.get_ref().clone());
            Trigger::Poll {
                interval,
                filters,
                start,
            }
        }
        other => {
            return Err(at(
                Some(t.kind.span()),
                format!(
                    "trigger kind {other:?} must be \"manual\", \"cron\", \"webhook\" or \"poll\""
                ),
            ));
        }
    })
}

fn parse_offset(tz: &str) -> Option<i32> {
    if tz.eq_ignore_ascii_case("utc") || tz == "Z" {
        return Some(0);
    }
    let (sign, rest) = match tz.as_bytes().first()? {
        b'+' => (1, &tz[1..]),
        b'-' => (-1, &tz[1..]),
        _ => return None,
    };
    let (h, m) = rest.split_once(':')?;
    let (h, m): (i32, i32) = (h.parse().ok()?, m.parse().ok()?);
    (h <= 14 && m < 60).then_some(sign * (h * 3600 + m * 60))
}
