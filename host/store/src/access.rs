//! Who may act: the API tokens (only a hash of each secret is kept) and the access audit
//! (run starts, decisions, token creation and revocation, sign-ins), each with its principal.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::Result;

/// One API token. The secret itself is never stored: only its SHA-256.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TokenRecord {
    /// The token's id (the public part of the token text).
    pub id: String,
    /// The principal the token acts as: a person (`alice@example.com`) or a client.
    pub name: String,
    /// Its roles (`viewer`, `operator`, `approver`, `admin`).
    pub roles: Vec<String>,
    /// The workflows its roles cover, by name or glob; empty means every workflow.
    #[serde(default)]
    pub workflows: Vec<String>,
    /// The groups the principal is in, for approvals that name a group.
    #[serde(default)]
    pub groups: Vec<String>,
    /// SHA-256 of the secret, hex.
    pub hash: String,
    /// Who created it.
    pub created_by: String,
    /// Unix seconds.
    pub created_at: u64,
    /// When it stops working (Unix seconds), if ever.
    pub expires_at: Option<u64>,
    /// When it was revoked, if it was.
    #[serde(default)]
    pub revoked_at: Option<u64>,
    /// When it was last used (to the minute).
    #[serde(default)]
    pub last_used_at: Option<u64>,
}

/// One entry of the access audit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AccessEvent {
    /// Position in the audit, increasing.
    pub seq: u64,
    /// Unix seconds.
    pub at: u64,
    /// Who acted: a principal, a trigger (`cron:nightly`), or the client that failed to sign
    /// in.
    pub principal: String,
    /// What happened: `run.start`, `approval.approve`, `approval.reject`, `token.create`,
    /// `token.revoke`, `sign-in`, `sign-in.refused`, `sign-out`.
    pub action: String,
    /// What it was done to: `run 7`, `approval 3`, `token 9f2c…`, `session`.
    pub target: String,
    /// More about it (the workflow, the roles, the reason).
    #[serde(default)]
    pub detail: Value,
}

/// Who may act: API tokens and the access audit.
pub trait AccessStore {
    /// Stores a new token, durably; refused when its id is taken.
    fn put_token(&self, token: &TokenRecord) -> Result<()>;

    /// The token with this id.
    fn token(&self, id: &str) -> Result<Option<TokenRecord>>;

    /// Every token, by id.
    fn tokens(&self) -> Result<Vec<TokenRecord>>;

    /// Changes a token in place (revocation, last use). (The generic
    /// [`Store::update_token`](crate::Store::update_token) calls this.)
    fn update_token_with(&self, id: &str, change: &dyn Fn(&mut TokenRecord))
    -> Result<TokenRecord>;

    /// Appends an access event (its `seq` is assigned here).
    fn record_event(&self, event: AccessEvent) -> Result<AccessEvent>;

    /// The access audit, oldest first, from `after` (exclusive) on.
    fn events(&self, after: u64) -> Result<Vec<AccessEvent>>;
}
