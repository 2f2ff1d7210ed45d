//! Bearer tokens. A token of the data directory reads `mft_<id>_<secret>`: the id finds its
//! record, and only the SHA-256 of the secret is stored, compared in constant time. Tokens
//! from `MAGEFLOW_APPROVER_TOKENS` (for the demo and tests) are hashed when read, too.

use base64::Engine as _;
use mageflow_store::{Store, TokenRecord};
use rand::RngCore as _;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use super::principal::{Grant, Principal, Role, Via};
use crate::api::ApiError;

/// The prefix of a data-directory token.
const PREFIX: &str = "mft_";

/// SHA-256 of `secret`, hex.
pub(crate) fn hash(secret: &str) -> String {
    Sha256::digest(secret.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Whether two secrets (hashes, CSRF tokens, OIDC states) are equal, in time that does not
/// depend on where they differ.
pub(crate) fn same(a: &str, b: &str) -> bool {
    a.len() == b.len() && bool::from(a.as_bytes().ct_eq(b.as_bytes()))
}

/// `n` random bytes as unpadded base64url.
pub(crate) fn random_text(n: usize) -> String {
    let mut bytes = vec![0u8; n];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// Tokens from the environment: `name=token` (roles viewer, operator and approver, as an
/// approver of the demo has) or `name:role+role=token`. Kept as hashes.
#[derive(Clone, Default)]
pub struct EnvTokens(Vec<(String, Vec<Role>, String)>);

impl std::fmt::Debug for EnvTokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Names only: even the hashes stay out of logs.
        f.debug_list().entries(self.0.iter().map(|t| &t.0)).finish()
    }
}

impl EnvTokens {
    /// Reads `name=token,name:admin=token` (as in `MAGEFLOW_APPROVER_TOKENS`).
    pub fn parse(text: &str) -> Result<EnvTokens, String> {
        let mut out = Vec::new();
        for pair in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let Some((who, token)) = pair.split_once('=') else {
                return Err(format!(
                    "tokens must read name=token,name=token; {:?} has no '='",
                    pair.split('=').next().unwrap_or_default()
                ));
            };
            let (name, roles) = match who.split_once(':') {
                Some((name, roles)) => (name, Role::parse_list(roles)?),
                None => (who, vec![Role::Viewer, Role::Operator, Role::Approver]),
            };
            if token.len() < 16 {
                return Err(format!(
                    "the token of {name} is shorter than 16 characters: use a long random one"
                ));
            }
            out.push((name.to_owned(), roles, hash(token)));
        }
        Ok(EnvTokens(out))
    }

    /// How many there are.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    fn find(&self, token: &str) -> Option<Principal> {
        let presented = hash(token);
        // Every entry is compared, so the time taken does not say which one matched.
        let mut found = None;
        for (name, roles, h) in &self.0 {
            if same(h, &presented) && found.is_none() {
                found = Some(Principal {
                    name: name.clone(),
                    grants: Grant::each(roles.iter().copied(), &[]),
                    groups: Vec::new(),
                    via: Via::EnvToken,
                });
            }
        }
        found
    }
}

/// What a new token is for.
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
pub struct NewToken {
    /// The principal it acts as.
    pub name: String,
    /// Its roles.
    pub roles: Vec<String>,
    /// The workflows the roles cover (names or globs); empty means all.
    #[serde(default)]
    pub workflows: Vec<String>,
    /// The groups the principal is in.
    #[serde(default)]
    pub groups: Vec<String>,
    /// Seconds until it expires; `None` for never.
    #[serde(default)]
    pub expires_in_secs: Option<u64>,
}

/// Creates a token: answers its record and the token text, which is shown once and never
/// stored.
pub fn issue(
    store: &Store,
    new: &NewToken,
    by: &str,
    now: u64,
) -> Result<(TokenRecord, String), ApiError> {
    let name = new.name.trim();
    if name.is_empty() || name.len() > 200 || name.chars().any(char::is_control) {
        return Err(ApiError::BadRequest(
            "a token needs a name of 1 to 200 printable characters: the person or client it is for"
                .into(),
        ));
    }
    if name.starts_with("cron:") || name.starts_with("webhook:") || name.starts_with("poll:") {
        return Err(ApiError::BadRequest(format!(
            "{name:?} is the name of a trigger: name the person or client instead"
        )));
    }
    let roles = Role::parse_list(&new.roles.join(",")).map_err(ApiError::BadRequest)?;
    let id: String = random_id();
    let secret = random_text(32);
    let record = TokenRecord {
        id: id.clone(),
        name: name.to_owned(),
        roles: roles.iter().map(|r| r.name().to_owned()).collect(),
        workflows: new.workflows.clone(),
        groups: new.groups.clone(),
        hash: hash(&secret),
        created_by: by.to_owned(),
        created_at: now,
        expires_at: new.expires_in_secs.map(|s| now + s),
        revoked_at: None,
        last_used_at: None,
    };
    store.put_token(&record)?;
    Ok((record, format!("{PREFIX}{id}_{secret}")))
}

fn random_id() -> String {
    let mut bytes = [0u8; 8];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The principal a bearer token stands for; 401 naming why when it stands for nobody.
pub(crate) fn resolve(
    store: &Store,
    env: &EnvTokens,
    token: &str,
    now: u64,
) -> Result<Principal, ApiError> {
    let Some(rest) = token.strip_prefix(PREFIX) else {
        return env.find(token).ok_or_else(unknown);
    };
    let Some((id, secret)) = rest.split_once('_') else {
        return Err(unknown());
    };
    let Some(record) = store.token(id)? else {
        return Err(unknown());
    };
    if !same(&record.hash, &hash(secret)) {
        return Err(unknown());
    }
    if let Some(at) = record.revoked_at {
        return Err(ApiError::Unauthorized(format!(
            "token {id} of {} was revoked at {}: ask an admin for a new one (mageflow tokens create)",
            record.name,
            mageflow_model::utc_text(at)
        )));
    }
    if let Some(at) = record.expires_at.filter(|&at| at <= now) {
        return Err(ApiError::Unauthorized(format!(
            "token {id} of {} expired at {}: ask an admin for a new one (mageflow tokens create)",
            record.name,
            mageflow_model::utc_text(at)
        )));
    }
    if record.last_used_at.is_none_or(|t| now >= t + 60) {
        // To the minute: a busy client does not write on every request.
        store.update_token(id, |t| t.last_used_at = Some(now))?;
    }
    principal_of(&record)
}

/// The principal a stored token acts as.
pub(crate) fn principal_of(record: &TokenRecord) -> Result<Principal, ApiError> {
    let roles = Role::parse_list(&record.roles.join(","))
        .map_err(|e| ApiError::Internal(format!("token {}: {e}", record.id)))?;
    Ok(Principal {
        name: record.name.clone(),
        grants: Grant::each(roles, &record.workflows),
        groups: record.groups.clone(),
        via: Via::Token(record.id.clone()),
    })
}

fn unknown() -> ApiError {
    ApiError::Unauthorized(
        "the token is not known to this server: check it, or ask an admin for one (mageflow tokens create)"
            .into(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn env_tokens_read_names_and_roles() {
        let t = EnvTokens::parse("alice=aaaaaaaaaaaaaaaaaaaa, vera:viewer=vvvvvvvvvvvvvvvvvvvv")
            .unwrap();
        let alice = t.find("aaaaaaaaaaaaaaaaaaaa").unwrap();
        assert!(alice.may(Role::Approver, Some("x")));
        let vera = t.find("vvvvvvvvvvvvvvvvvvvv").unwrap();
        assert!(!vera.may(Role::Operator, Some("x")));
        assert!(t.find("nope-nope-nope-nope").is_none());
        assert!(
            EnvTokens::parse("bob=short")
                .unwrap_err()
                .contains("shorter")
        );
        assert!(format!("{t:?}").contains("alice"));
        assert!(!format!("{t:?}").contains("aaaa"));
    }

    #[test]
    fn issued_tokens_resolve_until_revoked_or_expired() {
        let store = Store::temporary().unwrap();
        let env = EnvTokens::default();
        let new = NewToken {
            name: "olga".into(),
            roles: vec!["operator".into()],
            workflows: vec!["group-*".into()],
            expires_in_secs: Some(100),
            ..NewToken::default()
        };
        let (record, text) = issue(&store, &new, "root", 1_000).unwrap();
        assert!(
            !store
                .token(&record.id)
                .unwrap()
                .unwrap()
                .hash
                .contains(&text[20..])
        );
        let p = resolve(&store, &env, &text, 1_050).unwrap();
        assert_eq!(p.name, "olga");
        assert!(p.may(Role::Operator, Some("group-reassign")));
        let expired = resolve(&store, &env, &text, 1_100).unwrap_err().to_string();
        assert!(expired.contains("expired"), "{expired}");
        // One character changed (to one it is not already: the text is random).
        let mut forged = text.clone();
        let last = forged.pop().unwrap();
        forged.push(if last == 'A' { 'B' } else { 'A' });
        assert!(
            resolve(&store, &env, &forged, 1_050)
                .unwrap_err()
                .to_string()
                .contains("not known")
        );
        store
            .update_token(&record.id, |t| t.revoked_at = Some(1_060))
            .unwrap();
        let revoked = resolve(&store, &env, &text, 1_070).unwrap_err().to_string();
        assert!(revoked.contains("revoked"), "{revoked}");
    }
}
