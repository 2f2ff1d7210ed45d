//! Who may do what. Every route but the health checks, the sign-in pages and the signed
//! webhooks needs an authenticated principal: a bearer token for the API (and `/metrics`,
//! unless it is configured open), a server-side session for the pages. What a principal may
//! then do is its roles', each limited to workflows (see [`principal`]).

pub mod principal;
mod sessions;
mod sso;
mod throttle;
pub mod tokens;

use axum::http::{HeaderMap, header};
use mageflow_store::{AccessEvent, Store};
use serde_json::Value;

pub use principal::{Grant, Principal, Role, Via};
pub use sessions::SessionTimeouts;
pub(crate) use sessions::{Session, Sessions};
pub use sso::SsoConfig;
pub(crate) use sso::{Sso, SsoError};
pub(crate) use throttle::Throttle;
pub use tokens::{EnvTokens, NewToken};

use crate::api::ApiError;

/// The cookie that carries the session id.
pub(crate) const SESSION_COOKIE: &str = "mageflow_session";

/// How the server authenticates.
#[derive(Debug, Clone, Default)]
pub struct AccessConfig {
    /// Tokens from `MAGEFLOW_APPROVER_TOKENS` (for the demo and tests).
    pub env_tokens: EnvTokens,
    /// Session lifetimes of the pages.
    pub sessions: SessionTimeouts,
    /// Whether `/metrics` answers without a token.
    pub metrics_open: bool,
    /// Whether cookies are marked `Secure` (the pages are served over https, directly or
    /// behind a proxy).
    pub secure_cookies: bool,
    /// Single sign-on for the pages, when configured.
    pub sso: Option<SsoConfig>,
    /// The SCIM roots served (none unless configured).
    pub scim: crate::scim::config::ScimConfig,
}

/// The server's authentication state.
#[derive(Debug)]
pub(crate) struct Access {
    pub(crate) store: Store,
    pub(crate) config: AccessConfig,
    pub(crate) sessions: Sessions,
    pub(crate) throttle: Throttle,
    pub(crate) sso: Option<Sso>,
}

impl Access {
    pub(crate) fn new(store: Store, config: AccessConfig) -> Access {
        Access {
            store,
            sessions: Sessions::new(config.sessions),
            throttle: Throttle::default(),
            sso: config.sso.clone().map(Sso::new),
            config,
        }
    }

    /// The principal of a bearer token (`Authorization: Bearer ...`); 401 naming why.
    pub(crate) fn bearer(&self, headers: &HeaderMap) -> Result<Principal, ApiError> {
        let token = bearer_token(headers).ok_or_else(|| {
            ApiError::Unauthorized(
                "this route needs a token: send Authorization: Bearer <token> (the CLI reads \
                 MAGEFLOW_TOKEN or --token; an admin creates one with mageflow tokens create)"
                    .into(),
            )
        })?;
        self.token(token)
    }

    /// The principal of a token's text.
    pub(crate) fn token(&self, token: &str) -> Result<Principal, ApiError> {
        tokens::resolve(
            &self.store,
            &self.config.env_tokens,
            token,
            mageflow_model::now_secs(),
        )
    }

    /// The live session of the page's cookie.
    pub(crate) fn session(&self, headers: &HeaderMap) -> Option<Session> {
        let id = cookie(headers, SESSION_COOKIE)?;
        self.sessions.get(id, mageflow_model::now_secs())
    }

    /// A `Set-Cookie` value: HttpOnly, SameSite=Strict, and Secure when served over https.
    pub(crate) fn set_cookie(&self, name: &str, value: &str, max_age: Option<u64>) -> String {
        self.set_cookie_with(name, value, max_age, "Strict")
    }

    /// A `Set-Cookie` value with `SameSite=same_site` (`Lax` for the one cookie that must
    /// ride the identity provider's redirect back).
    pub(crate) fn set_cookie_with(
        &self,
        name: &str,
        value: &str,
        max_age: Option<u64>,
        same_site: &str,
    ) -> String {
        let mut c = format!("{name}={value}; Path=/; HttpOnly; SameSite={same_site}");
        if let Some(age) = max_age {
            c.push_str(&format!("; Max-Age={age}"));
        }
        if self.config.secure_cookies {
            c.push_str("; Secure");
        }
        c
    }

    /// Records an access event; a failure to record is logged, and does not undo the act.
    pub(crate) fn audit(&self, principal: &str, action: &str, target: &str, detail: Value) {
        let event = AccessEvent {
            seq: 0,
            at: mageflow_model::now_secs(),
            principal: principal.to_owned(),
            action: action.to_owned(),
            target: target.to_owned(),
            detail,
        };
        if let Err(e) = self.store.record_event(event) {
            tracing::error!(principal, action, target, error = %e, "the access audit could not be written");
        }
    }
}

/// The token of `Authorization: Bearer ...`.
pub(crate) fn bearer_token(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(header::AUTHORIZATION)?
        .to_str()
        .ok()?
        .strip_prefix("Bearer ")
        .map(str::trim)
        .filter(|t| !t.is_empty())
}

/// A cookie's value, from among the request's cookies.
pub(crate) fn cookie<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .find_map(|pair| pair.trim().strip_prefix(name)?.strip_prefix('='))
        .filter(|v| !v.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cookie_is_read_from_among_cookies() {
        let mut h = HeaderMap::new();
        h.insert(
            header::COOKIE,
            "a=1; mageflow_session=abc; b=2".parse().unwrap(),
        );
        assert_eq!(cookie(&h, SESSION_COOKIE), Some("abc"));
        assert_eq!(cookie(&h, "mageflow_csrf"), None);
    }
}
