//! Who may act: the API tokens (only a hash of each secret is kept) and the access audit
//! (run starts, decisions, token creation and revocation, sign-ins), each with its principal.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::{Error, Result, Store, decode, encode};

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

impl Store {
    /// Stores a new token; refused when its id is taken.
    pub fn put_token(&self, token: &TokenRecord) -> Result<()> {
        let taken = self.tokens.compare_and_swap(
            token.id.as_bytes(),
            None as Option<&[u8]>,
            Some(encode(token)?),
        )?;
        if taken.is_err() {
            return Err(Error::Refused(format!("token id {} is taken", token.id)));
        }
        self.db.flush()?;
        Ok(())
    }

    /// The token with this id.
    pub fn token(&self, id: &str) -> Result<Option<TokenRecord>> {
        self.tokens
            .get(id.as_bytes())?
            .map(|v| decode(&v))
            .transpose()
    }

    /// Every token, by id.
    pub fn tokens(&self) -> Result<Vec<TokenRecord>> {
        self.tokens.iter().map(|item| decode(&item?.1)).collect()
    }

    /// Changes a token in place (revocation, last use).
    pub fn update_token(&self, id: &str, change: impl Fn(&mut TokenRecord)) -> Result<TokenRecord> {
        loop {
            let old = self
                .tokens
                .get(id.as_bytes())?
                .ok_or_else(|| Error::Refused(format!("no token has the id {id}")))?;
            let mut t: TokenRecord = decode(&old)?;
            change(&mut t);
            if self
                .tokens
                .compare_and_swap(id.as_bytes(), Some(old), Some(encode(&t)?))?
                .is_ok()
            {
                return Ok(t);
            }
        }
    }

    /// Appends an access event (its `seq` is assigned here) and makes it durable.
    pub fn record_event(&self, mut event: AccessEvent) -> Result<AccessEvent> {
        event.seq = self.next_id()?;
        self.events
            .insert(event.seq.to_be_bytes(), encode(&event)?)?;
        Ok(event)
    }

    /// The access audit, oldest first, from `after` (exclusive) on.
    pub fn events(&self, after: u64) -> Result<Vec<AccessEvent>> {
        self.events
            .range((after + 1).to_be_bytes()..)
            .map(|item| decode(&item?.1))
            .collect()
    }
}
