//! Who is calling: bearer tokens (opaque or JWT, with expiry and revocation), OAuth 1.0a signed
//! integration requests, the token services with their lockout, and the ACL check.
//!
//! As in Magento, a missing, unknown, expired or revoked bearer token is not an error by itself:
//! the caller is a guest, and the route's ACL check then answers 401 naming the resource.

use axum::http::{HeaderMap, StatusCode, header};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use rand::Rng as _;
use serde_json::{Value, json};

use crate::Sim;
use crate::config::TokenFormat;
use crate::error::{MResult, MagentoError};
use crate::oauth;
use crate::state::{Failures, State};

/// The caller of one request (Magento's user context).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Principal {
    /// No valid credentials.
    Guest,
    /// An admin user, by id.
    Admin(u64),
    /// A storefront customer, by id.
    Customer(u64),
    /// An integration, by id.
    Integration(u64),
}

impl Principal {
    /// Magento's `UserContextInterface` type: 1 integration, 2 admin, 3 customer, 4 guest.
    pub fn user_type(self) -> u8 {
        match self {
            Principal::Integration(_) => 1,
            Principal::Admin(_) => 2,
            Principal::Customer(_) => 3,
            Principal::Guest => 4,
        }
    }

    /// The user id (0 for a guest).
    pub fn user_id(self) -> u64 {
        match self {
            Principal::Admin(id) | Principal::Customer(id) | Principal::Integration(id) => id,
            Principal::Guest => 0,
        }
    }
}

/// An issued bearer token.
#[derive(Debug, Clone)]
pub struct Token {
    /// Whom it authenticates.
    pub principal: Principal,
    /// Simulated expiry time.
    pub expires_at: i64,
    /// Revoked tokens authenticate nobody.
    pub revoked: bool,
}

const FAILURE_LIMIT: u32 = 6;
const LOCK_SECS: i64 = 1800;
/// How far in the future an OAuth timestamp may be (Magento's `TIME_DEVIATION`).
const OAUTH_DEVIATION: i64 = 600;

/// A legacy opaque token: 32 characters of `[a-z0-9]`.
pub fn random_token() -> String {
    const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
    let mut rng = rand::thread_rng();
    (0..32)
        .map(|_| ALPHABET[rng.gen_range(0..ALPHABET.len())] as char)
        .collect()
}

/// Works out the caller from the `Authorization` header. Only malformed OAuth requests are
/// errors; anything else unrecognised is a guest.
pub fn authenticate(
    sim: &Sim,
    headers: &HeaderMap,
    method: &str,
    path_and_query: &str,
) -> MResult<Principal> {
    let Some(value) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
    else {
        return Ok(Principal::Guest);
    };
    if let Some(token) = value.strip_prefix("Bearer ").map(str::trim) {
        let state = sim.read();
        return Ok(bearer(sim, &state, token));
    }
    if let Some(params) = oauth::parse_header(value) {
        let host = headers
            .get(header::HOST)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("localhost");
        return verify_oauth(sim, &params, method, host, path_and_query);
    }
    Ok(Principal::Guest)
}

fn bearer(sim: &Sim, state: &State, token: &str) -> Principal {
    if let Some(t) = state.tokens.get(token) {
        if t.revoked || sim.clock.now() >= t.expires_at {
            return Principal::Guest;
        }
        return match t.principal {
            Principal::Admin(id) if !state.admin_users.get(&id).is_some_and(|u| u.is_active) => {
                Principal::Guest
            }
            Principal::Customer(id) if state.customer(id).is_none() => Principal::Guest,
            p => p,
        };
    }
    if sim.config.integration_bearer.on()
        && let Some(i) = state.integrations.iter().find(|i| i.access_token == token)
    {
        return Principal::Integration(i.id);
    }
    Principal::Guest
}

fn verify_oauth(
    sim: &Sim,
    params: &[(String, String)],
    method: &str,
    host: &str,
    path_and_query: &str,
) -> MResult<Principal> {
    let get = |k: &str| params.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
    let unauthorized = |m: &str| MagentoError::new(StatusCode::UNAUTHORIZED, m);
    for key in [
        "oauth_consumer_key",
        "oauth_token",
        "oauth_signature_method",
        "oauth_signature",
        "oauth_timestamp",
        "oauth_nonce",
    ] {
        if get(key).is_none() {
            return Err(MagentoError::required(key));
        }
    }
    let sig_method = get("oauth_signature_method").unwrap_or_default();
    if sig_method != "HMAC-SHA256" && sig_method != "HMAC-SHA1" {
        return Err(
            MagentoError::bad_request("Signature method %1 is not supported")
                .with(json!([sig_method])),
        );
    }
    let mut state = sim.write();
    let Some(integration) = state
        .integrations
        .iter()
        .find(|i| Some(i.consumer_key.as_str()) == get("oauth_consumer_key"))
        .cloned()
    else {
        return Err(unauthorized(
            "A consumer having the specified key does not exist",
        ));
    };
    let timestamp: i64 = get("oauth_timestamp")
        .and_then(|t| t.parse().ok())
        .unwrap_or(0);
    // Magento refuses only timestamps in the future beyond the deviation; old ones pass and
    // the nonce table is what stops replays.
    if timestamp <= 0 || timestamp > sim.clock.now() + OAUTH_DEVIATION {
        return Err(MagentoError::bad_request(
            "Incorrect timestamp value in the oauth_timestamp parameter",
        ));
    }
    let nonce = get("oauth_nonce").unwrap_or_default().to_owned();
    if !state.nonces.insert((integration.id, nonce)) {
        return Err(MagentoError::new(
            StatusCode::UNAUTHORIZED,
            "The nonce is already being used by the consumer with ID %1",
        )
        .with(json!([integration.id])));
    }
    drop(state);
    if get("oauth_token") != Some(integration.access_token.as_str()) {
        return Err(unauthorized("Specified token does not exist"));
    }
    let (path, query) = path_and_query
        .split_once('?')
        .unwrap_or((path_and_query, ""));
    let mut signed: Vec<(String, String)> = crate::criteria::query_pairs(query);
    signed.extend(
        params
            .iter()
            .filter(|(k, _)| k != "oauth_signature" && k != "realm")
            .cloned(),
    );
    let base = oauth::base_string(method, &format!("http://{host}{path}"), &signed);
    let expected = oauth::signature(
        sig_method,
        &integration.consumer_secret,
        &integration.access_token_secret,
        &base,
    );
    if expected.as_deref() != get("oauth_signature") {
        return Err(unauthorized(
            "The signature is invalid. Verify and try again.",
        ));
    }
    Ok(Principal::Integration(integration.id))
}

/// Magento's ACL decision for one resource (`anonymous` and `self` included).
pub fn allowed(state: &State, who: Principal, resource: &str) -> bool {
    match (resource, who) {
        ("anonymous", _) => true,
        ("self", p) => matches!(p, Principal::Customer(_)),
        (r, Principal::Admin(id)) => state
            .admin_users
            .get(&id)
            .and_then(|u| state.roles.get(&u.role_id))
            .is_some_and(|role| {
                role.resources
                    .iter()
                    .any(|x| x == "Magento_Backend::all" || x == r)
            }),
        (r, Principal::Integration(id)) => state
            .integrations
            .iter()
            .any(|i| i.id == id && i.resources.iter().any(|x| x == r)),
        _ => false,
    }
}

/// Which token service is being asked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// `/V1/integration/admin/token`.
    Admin,
    /// `/V1/integration/customer/token`.
    Customer,
}

/// `POST /V1/integration/{admin,customer}/token`: the token as a bare JSON string.
pub fn login(sim: &Sim, kind: Kind, body: &Value) -> MResult<Value> {
    let m = crate::input::normalize(body, &["username", "password"])?;
    let username = crate::input::string(&m, "username")?.unwrap_or_default();
    let password = crate::input::string(&m, "password")?.unwrap_or_default();
    let mut missing = Vec::new();
    if username.is_empty() {
        missing.push(MagentoError::required("username"));
    }
    if password.is_empty() {
        missing.push(MagentoError::required("password"));
    }
    if let Some(e) = MagentoError::aggregate(missing) {
        return Err(e);
    }
    let now = sim.clock.now();
    let mut state = sim.write();
    let key = (kind as u8, username.to_ascii_lowercase());
    let failures = state.failures.get(&key).cloned().unwrap_or_default();
    if failures.locked_until > now {
        return Err(MagentoError::bad_credentials());
    }
    let who = match kind {
        Kind::Admin => state
            .admin_users
            .values()
            .find(|u| u.username == username && u.password == password && u.is_active)
            .map(|u| Principal::Admin(u.id)),
        Kind::Customer => state
            .all_customers()
            .find(|c| {
                c.email.eq_ignore_ascii_case(&username)
                    && c.password.as_deref() == Some(password.as_str())
            })
            .map(|c| Principal::Customer(c.id)),
    };
    let Some(who) = who else {
        let count = failures.count + 1;
        let locked_until = if count >= FAILURE_LIMIT {
            now + LOCK_SECS
        } else {
            0
        };
        let count = if count >= FAILURE_LIMIT { 0 } else { count };
        state.failures.insert(
            key,
            Failures {
                count,
                locked_until,
            },
        );
        return Err(MagentoError::bad_credentials());
    };
    state.failures.remove(&key);
    if kind == Kind::Admin && sim.config.two_factor.on() {
        return Err(MagentoError::bad_request(
            "Please use the 2fa provider-specific endpoints to obtain a token.",
        )
        .with(json!({ "active_providers": ["google"] })));
    }
    let ttl = match kind {
        Kind::Admin => sim.config.admin_ttl(),
        Kind::Customer => sim.config.customer_ttl(),
    };
    let token = match sim.config.token_format {
        TokenFormat::Opaque => random_token(),
        TokenFormat::Jwt => jwt(&state.jwt_secret, who, now, ttl),
    };
    state.tokens.insert(
        token.clone(),
        Token {
            principal: who,
            expires_at: now + ttl,
            revoked: false,
        },
    );
    Ok(Value::String(token))
}

/// A Magento_JwtUserToken style JWS: `{"kid":"1","alg":"HS256"}` with `uid`, `utypid`, `iat`, `exp`.
fn jwt(secret: &[u8], who: Principal, now: i64, ttl: i64) -> String {
    let header = URL_SAFE_NO_PAD.encode(br#"{"kid":"1","alg":"HS256"}"#);
    let claims =
        json!({ "uid": who.user_id(), "utypid": who.user_type(), "iat": now, "exp": now + ttl });
    let payload = URL_SAFE_NO_PAD.encode(claims.to_string());
    let signing_input = format!("{header}.{payload}");
    let mut mac =
        Hmac::<sha2::Sha256>::new_from_slice(secret).expect("HMAC accepts keys of any length");
    mac.update(signing_input.as_bytes());
    format!(
        "{signing_input}.{}",
        URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn opaque_tokens_look_like_magentos() {
        let t = random_token();
        assert_eq!(t.len(), 32);
        assert!(
            t.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        );
    }

    #[test]
    fn jwt_carries_magentos_claims() {
        let t = jwt(&[7; 32], Principal::Admin(3), 1000, 3600);
        let parts: Vec<&str> = t.split('.').collect();
        assert_eq!(parts.len(), 3);
        let claims: Value =
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[1]).unwrap()).unwrap();
        assert_eq!(
            claims,
            json!({"uid": 3, "utypid": 2, "iat": 1000, "exp": 4600})
        );
    }
}
