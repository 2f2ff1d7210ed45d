//! `workflows/<name>.toml`: what a workflow runs, when, with which grants, limits, approval
//! policy, configuration and Magento connection. Unknown keys and bad values are refused with
//! the file, the line and the fix.

use std::collections::{BTreeMap, BTreeSet};
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::calls::CallKind;
use crate::grants::Grants;
use crate::limits::{Limits, MAX_MEMORY};
use mageflow_store::Expiry;
use serde::Deserialize;
use toml::Spanned;

mod trigger;

pub use trigger::{Missed, Overlap, Signature, Trigger};
use trigger::{TriggerFile, trigger};

/// A workflow file that could not be used, with where and why.
#[derive(Debug, thiserror::Error)]
#[error("{file}:{line}: {message}")]
pub struct WorkflowError {
    /// The file.
    pub file: String,
    /// 1-based line (0 when the whole file is at fault).
    pub line: usize,
    /// What is wrong and how to fix it.
    pub message: String,
}

/// A parsed, checked workflow.
#[derive(Debug, Clone)]
pub struct Workflow {
    /// Its name (the file's stem unless `name` says otherwise).
    pub name: String,
    /// The plugin component, resolved against the file's directory.
    pub plugin: PathBuf,
    /// What it may do.
    pub grants: Grants,
    /// When it runs.
    pub trigger: Trigger,
    /// `[config]` values for the plugin.
    pub config: BTreeMap<String, String>,
    /// Per-run limits.
    pub limits: Limits,
    /// Who approves, how many, and for how long.
    pub approvals: ApprovalPolicy,
    /// Calls that need an approval granted earlier in the same run.
    pub require_approval: BTreeSet<String>,
    /// The Magento connection: names of environment variables, never secrets themselves.
    pub magento: MagentoSettings,
    /// How calls that keep failing for a transient reason are retried (`[retry]`).
    pub retry: crate::retry::RetryPolicy,
}

/// Approval policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApprovalPolicy {
    /// Who may decide (empty: anyone holding an approver token).
    pub approvers: Vec<String>,
    /// Approvals needed.
    pub required: u32,
    /// How long a request stays open.
    pub expires_in: Duration,
    /// What expiry means.
    pub on_expiry: Expiry,
}

/// Where the workflow's Magento is and how to sign in, by environment variable names.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct MagentoSettings {
    /// The base URL, or the variable holding it (default `MAGEFLOW_MAGENTO_URL`).
    pub url: Option<String>,
    /// The store code.
    pub store: Option<String>,
    /// Variables holding the credentials; unset ones fall back to the `MAGEFLOW_*` defaults.
    pub env: BTreeMap<String, String>,
    /// How long one request may take (`timeout = "30s"`; the client's default otherwise).
    /// On a shared store a worker's lease must outlast it: a write is sent only while the
    /// lease has longer left.
    pub timeout: Option<Duration>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    name: Option<Spanned<String>>,
    plugin: Spanned<String>,
    #[serde(default)]
    grants: Vec<Spanned<String>>,
    trigger: Option<Spanned<TriggerFile>>,
    #[serde(default)]
    config: BTreeMap<String, toml::Value>,
    #[serde(default)]
    limits: LimitsFile,
    #[serde(default)]
    approvals: ApprovalsFile,
    #[serde(default)]
    policy: PolicyFile,
    #[serde(default)]
    retry: crate::retry::RetryFile,
    #[serde(default)]
    magento: MagentoFile,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct LimitsFile {
    wall_time: Option<Spanned<String>>,
    memory_mib: Option<Spanned<u64>>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct ApprovalsFile {
    #[serde(default)]
    approvers: Vec<String>,
    required: Option<Spanned<u32>>,
    expires_in: Option<Spanned<String>>,
    on_expiry: Option<Spanned<String>>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct PolicyFile {
    #[serde(default)]
    require_approval: Vec<Spanned<String>>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct MagentoFile {
    url: Option<String>,
    store: Option<String>,
    admin_user_env: Option<String>,
    admin_password_env: Option<String>,
    integration_token_env: Option<String>,
    consumer_key_env: Option<String>,
    consumer_secret_env: Option<String>,
    access_token_env: Option<String>,
    access_token_secret_env: Option<String>,
    timeout: Option<Spanned<String>>,
}

/// Reads a duration: `90s`, `15m`, `4h`, `7d`.
pub fn parse_duration(text: &str) -> Option<Duration> {
    let text = text.trim();
    let split = text.find(|c: char| !c.is_ascii_digit())?;
    let (n, unit) = text.split_at(split);
    let n: u64 = n.parse().ok()?;
    let secs = match unit {
        "s" => n,
        "m" => n * 60,
        "h" => n * 3600,
        "d" => n * 86_400,
        _ => return None,
    };
    Some(Duration::from_secs(secs))
}

/// A `wall-time` limit: a duration such as `30s` or `5m`.
pub fn wall_time(text: &str) -> Result<Duration, String> {
    parse_duration(text).ok_or_else(|| {
        format!("wall-time {text:?} is not a duration: write e.g. \"30s\" or \"5m\"")
    })
}

/// A `memory-mib` limit, in bytes, within what the runtime allows.
pub fn memory_bytes(mib: u64) -> Result<usize, String> {
    let bytes = usize::try_from(mib)
        .unwrap_or(usize::MAX)
        .saturating_mul(1 << 20);
    if bytes == 0 || bytes > MAX_MEMORY {
        return Err(format!(
            "memory-mib must be between 1 and {}",
            MAX_MEMORY >> 20
        ));
    }
    Ok(bytes)
}

impl Workflow {
    /// Reads and checks a workflow file.
    pub fn load(path: &Path) -> Result<Workflow, WorkflowError> {
        Workflow::load_with(path, &Limits::default())
    }

    /// [`Workflow::load`], with `defaults` for the limits the file does not set.
    pub fn load_with(path: &Path, defaults: &Limits) -> Result<Workflow, WorkflowError> {
        let text = std::fs::read_to_string(path).map_err(|e| WorkflowError {
            file: path.display().to_string(),
            line: 0,
            message: format!("cannot read the workflow file: {e}"),
        })?;
        Workflow::parse_with(path, &text, defaults)
    }

    /// Checks a workflow's text; `path` names it in errors and anchors relative paths.
    pub fn parse(path: &Path, text: &str) -> Result<Workflow, WorkflowError> {
        Workflow::parse_with(path, text, &Limits::default())
    }

    /// [`Workflow::parse`], with `defaults` for the limits the file does not set.
    pub fn parse_with(
        path: &Path,
        text: &str,
        defaults: &Limits,
    ) -> Result<Workflow, WorkflowError> {
        let file = path.display().to_string();
        let at = |span: Option<Range<usize>>, message: String| WorkflowError {
            file: file.clone(),
            line: span.map_or(0, |s| line_of(text, s.start)),
            message,
        };
        let raw: File = toml::from_str(text).map_err(|e| {
            let message = e.message().trim().to_owned();
            // An unknown key inside a table is reported at the table; point at the key.
            let unknown = message
                .strip_prefix("unknown field `")
                .and_then(|rest| rest.split('`').next());
            let span = match (unknown, e.span()) {
                (Some(key), Some(span)) => key_after(text, span.start, key).or(Some(span)),
                (_, span) => span,
            };
            let hint = if unknown.is_some() {
                " (see the workflow file reference in the README)"
            } else {
                ""
            };
            at(span, format!("{message}{hint}"))
        })?;
        let dir = path.parent().unwrap_or(Path::new("."));
        let name = match &raw.name {
            Some(n) => {
                let ok = !n.get_ref().is_empty()
                    && n.get_ref()
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
                if !ok {
                    return Err(at(
                        Some(n.span()),
                        format!(
                            "name {:?} must be letters, digits, '-' or '_' (it appears in URLs)",
                            n.get_ref()
                        ),
                    ));
                }
                n.get_ref().clone()
            }
            None => path
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_default(),
        };
        let mut grant_names = Vec::new();
        for g in &raw.grants {
            Grants::parse(g.get_ref()).map_err(|e| at(Some(g.span()), e))?;
            grant_names.push(g.get_ref().as_str());
        }
        let grants = Grants::parse(&grant_names.join(",")).map_err(|e| at(None, e))?;
        let trigger = match &raw.trigger {
            None => Trigger::Manual,
            Some(t) => trigger(t, dir, &at)?,
        };
        let mut config = BTreeMap::new();
        for (k, v) in raw.config {
            let text = match v {
                toml::Value::String(s) => s,
                other => other.to_string(),
            };
            config.insert(k, text);
        }
        let mut limits = defaults.clone();
        if let Some(w) = &raw.limits.wall_time {
            limits.wall_time = wall_time(w.get_ref()).map_err(|e| at(Some(w.span()), e))?;
        }
        if let Some(m) = &raw.limits.memory_mib {
            limits.memory_bytes = memory_bytes(*m.get_ref()).map_err(|e| at(Some(m.span()), e))?;
        }
        let approvals = ApprovalPolicy {
            approvers: raw.approvals.approvers.clone(),
            required: match &raw.approvals.required {
                Some(r) if *r.get_ref() == 0 => {
                    return Err(at(Some(r.span()), "required must be at least 1".into()));
                }
                Some(r)
                    if !raw.approvals.approvers.is_empty()
                        && *r.get_ref() as usize > raw.approvals.approvers.len() =>
                {
                    return Err(at(
                        Some(r.span()),
                        format!(
                            "required is {} but only {} approvers are listed",
                            r.get_ref(),
                            raw.approvals.approvers.len()
                        ),
                    ));
                }
                Some(r) => *r.get_ref(),
                None => 1,
            },
            expires_in: match &raw.approvals.expires_in {
                Some(e) => parse_duration(e.get_ref()).ok_or_else(|| {
                    at(
                        Some(e.span()),
                        format!(
                            "expires-in {:?} is not a duration: write e.g. \"7d\"",
                            e.get_ref()
                        ),
                    )
                })?,
                None => Duration::from_secs(7 * 86_400),
            },
            on_expiry: match raw
                .approvals
                .on_expiry
                .as_ref()
                .map(|s| (s.get_ref().as_str(), s.span()))
            {
                None | Some(("expire", _)) => Expiry::Expire,
                Some(("reject", _)) => Expiry::Reject,
                Some((other, span)) => {
                    return Err(at(
                        Some(span),
                        format!(
                            "on-expiry {other:?} must be \"expire\" (the plugin decides) or \"reject\""
                        ),
                    ));
                }
            },
        };
        let mut require_approval = BTreeSet::new();
        for c in &raw.policy.require_approval {
            if !CallKind::by_name(c.get_ref()).is_some_and(CallKind::writes) {
                let gateable: Vec<&str> = CallKind::writes_all().map(CallKind::name).collect();
                return Err(at(
                    Some(c.span()),
                    format!(
                        "require-approval lists {:?}, which is not a write call; gateable calls: {}",
                        c.get_ref(),
                        gateable.join(", ")
                    ),
                ));
            }
            require_approval.insert(c.get_ref().clone());
        }
        let retry = raw.retry.policy().map_err(|(span, e)| at(Some(span), e))?;
        let m = &raw.magento;
        let env: BTreeMap<String, String> = [
            ("admin_user_env", &m.admin_user_env),
            ("admin_password_env", &m.admin_password_env),
            ("integration_token_env", &m.integration_token_env),
            ("consumer_key_env", &m.consumer_key_env),
            ("consumer_secret_env", &m.consumer_secret_env),
            ("access_token_env", &m.access_token_env),
            ("access_token_secret_env", &m.access_token_secret_env),
        ]
        .into_iter()
        .filter_map(|(k, v)| v.clone().map(|v| (k.to_owned(), v)))
        .collect();
        let timeout = match &raw.magento.timeout {
            None => None,
            Some(t) => Some(
                parse_duration(t.get_ref())
                    .filter(|d| !d.is_zero())
                    .ok_or_else(|| {
                        at(
                            Some(t.span()),
                            format!(
                                "[magento] timeout = {:?}: write a duration such as 30s or 2m",
                                t.get_ref()
                            ),
                        )
                    })?,
            ),
        };
        let plugin = dir.join(raw.plugin.get_ref());
        Ok(Workflow {
            name,
            plugin,
            grants,
            trigger,
            config,
            limits,
            approvals,
            require_approval,
            magento: MagentoSettings {
                url: raw.magento.url,
                store: raw.magento.store,
                env,
                timeout,
            },
            retry,
        })
    }

    /// Every `*.toml` in a directory, sorted by name; the first bad file stops the load.
    pub fn load_dir(dir: &Path) -> Result<Vec<Workflow>, WorkflowError> {
        Workflow::load_dir_with(dir, &Limits::default())
    }

    /// [`Workflow::load_dir`], with `defaults` for the limits a file does not set.
    pub fn load_dir_with(dir: &Path, defaults: &Limits) -> Result<Vec<Workflow>, WorkflowError> {
        let entries = std::fs::read_dir(dir).map_err(|e| WorkflowError {
            file: dir.display().to_string(),
            line: 0,
            message: format!("cannot read the workflows directory: {e}"),
        })?;
        let mut paths: Vec<PathBuf> = entries
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x == "toml"))
            .collect();
        paths.sort();
        let mut out: Vec<Workflow> = Vec::new();
        for p in paths {
            let wf = Workflow::load_with(&p, defaults)?;
            if out.iter().any(|w| w.name == wf.name) {
                return Err(WorkflowError {
                    file: p.display().to_string(),
                    line: 0,
                    message: format!("another workflow is already named {:?}", wf.name),
                });
            }
            out.push(wf);
        }
        Ok(out)
    }
}

/// Where `key = ...` is written at or after `from`, within the same table.
fn key_after(text: &str, from: usize, key: &str) -> Option<Range<usize>> {
    let start = from.min(text.len());
    let mut offset = start;
    for line in text[start..].split_inclusive('\n') {
        let trimmed = line.trim_start();
        if trimmed.starts_with('[') && offset != start {
            return None;
        }
        if trimmed
            .strip_prefix(key)
            .is_some_and(|rest| rest.trim_start().starts_with('='))
        {
            return Some(offset..offset + line.len());
        }
        offset += line.len();
    }
    None
}

fn line_of(text: &str, offset: usize) -> usize {
    text[..offset.min(text.len())].matches('\n').count() + 1
}

impl MagentoSettings {
    /// The connection, reading credentials from the environment (`var` looks a name up).
    /// An integration token wins, then the four OAuth values, then admin user and password.
    pub fn connection(
        &self,
        var: impl Fn(&str) -> Option<String>,
    ) -> Result<mageflow_magento::Connection, String> {
        use mageflow_magento::{Auth, Connection, OAuthKeys};
        let name = |key: &str, default: &str| {
            self.env
                .get(key)
                .cloned()
                .unwrap_or_else(|| default.to_owned())
        };
        let get = |key: &str, default: &str| var(&name(key, default));
        let url = self
            .url
            .clone()
            .or_else(|| var("MAGEFLOW_MAGENTO_URL"))
            .ok_or("no Magento URL: set url in [magento] or MAGEFLOW_MAGENTO_URL")?;
        let oauth = [
            get("consumer_key_env", "MAGEFLOW_CONSUMER_KEY"),
            get("consumer_secret_env", "MAGEFLOW_CONSUMER_SECRET"),
            get("access_token_env", "MAGEFLOW_ACCESS_TOKEN"),
            get("access_token_secret_env", "MAGEFLOW_ACCESS_TOKEN_SECRET"),
        ];
        let auth = if let Some(token) = get("integration_token_env", "MAGEFLOW_INTEGRATION_TOKEN") {
            Auth::Bearer(token)
        } else if let [Some(ck), Some(cs), Some(at), Some(ats)] = oauth {
            Auth::OAuth(OAuthKeys {
                consumer_key: ck,
                consumer_secret: cs,
                access_token: at,
                access_token_secret: ats,
            })
        } else {
            match (
                get("admin_user_env", "MAGEFLOW_ADMIN_USER"),
                get("admin_password_env", "MAGEFLOW_ADMIN_PASSWORD"),
            ) {
                (Some(username), Some(password)) => Auth::Admin { username, password },
                _ => {
                    return Err(format!(
                        "no Magento credentials: set {} (integration token), the four OAuth variables, or {} and {}",
                        name("integration_token_env", "MAGEFLOW_INTEGRATION_TOKEN"),
                        name("admin_user_env", "MAGEFLOW_ADMIN_USER"),
                        name("admin_password_env", "MAGEFLOW_ADMIN_PASSWORD"),
                    ));
                }
            }
        };
        let mut conn = Connection::new(url, auth);
        conn.store = self.store.clone();
        if let Some(t) = self.timeout {
            conn.timeout = t;
        }
        Ok(conn)
    }
}
