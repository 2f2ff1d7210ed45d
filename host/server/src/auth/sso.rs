//! Single sign-on through an OpenID Connect provider, for the pages: the authorization code
//! flow with PKCE, with `state` and `nonce` checked, and the ID token's signature (keys from
//! the provider's discovery document and JWKS), issuer, audience and expiry verified by the
//! `openidconnect` crate. The provider's groups claim maps to roles.
//!
//! A sign-in in progress is kept on the server, keyed by the hash of a random value in a
//! `SameSite=Lax` cookie (the provider's redirect back is a cross-site navigation, which a
//! `Strict` cookie would not ride); it is used once and lives ten minutes.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use openidconnect::core::{
    CoreAuthenticationFlow, CoreClient, CoreGenderClaim, CoreJweContentEncryptionAlgorithm,
    CoreJwsSigningAlgorithm, CoreProviderMetadata,
};
use openidconnect::{
    AdditionalClaims, AuthorizationCode, ClaimsVerificationError, ClientId, ClientSecret,
    CsrfToken, IdToken, IssuerUrl, Nonce, PkceCodeChallenge, PkceCodeVerifier, RedirectUrl, Scope,
    TokenResponse,
};
use serde::{Deserialize, Serialize};

use super::principal::{Grant, Principal, Role, Via};
use super::tokens::{hash, random_text, same};

/// How long a started sign-in may take at the provider.
const PENDING_FOR: u64 = 600;
/// How long the provider's discovery document and keys are trusted before they are read
/// again (they are also read again when a signature does not verify, for key rotation).
const METADATA_FOR: u64 = 3600;

/// The `[sso]` settings.
#[derive(Clone)]
pub struct SsoConfig {
    /// The provider's issuer URL (its discovery document is under
    /// `/.well-known/openid-configuration`).
    pub issuer: String,
    /// The client id registered at the provider.
    pub client_id: String,
    /// The client secret.
    pub client_secret: String,
    /// Where the provider sends the browser back: this server's `/ui/sso/callback`.
    pub redirect_url: String,
    /// The ID token claim that lists the person's groups.
    pub groups_claim: String,
    /// The ID token claim that names the person (runs and decisions are recorded under it).
    pub username_claim: String,
    /// Scopes asked for besides `openid` (`profile`, `email`, and `groups` where the
    /// provider has such a scope).
    pub scopes: Vec<String>,
    /// The roles each group gives, applied to every workflow.
    pub roles: Vec<(String, Vec<Role>)>,
}

impl std::fmt::Debug for SsoConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SsoConfig")
            .field("issuer", &self.issuer)
            .field("client_id", &self.client_id)
            .field("client_secret", &"<redacted>")
            .field("redirect_url", &self.redirect_url)
            .field("groups_claim", &self.groups_claim)
            .field("username_claim", &self.username_claim)
            .field("scopes", &self.scopes)
            .field("roles", &self.roles)
            .finish()
    }
}

/// Why a sign-in through the provider did not open a session. Each names its cause.
#[derive(Debug, thiserror::Error)]
pub(crate) enum SsoError {
    /// The provider could not be reached or answered nonsense.
    #[error("the identity provider at {0} could not be used: {1}")]
    Provider(String, String),
    /// The answer does not belong to a sign-in this browser started.
    #[error("{0}")]
    Refused(String),
}

#[derive(Debug)]
struct Pending {
    state: String,
    nonce: String,
    verifier: String,
    started: u64,
}

/// Extra ID token claims, read by name (the groups and username claims are settings).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct Claims(HashMap<String, serde_json::Value>);
impl AdditionalClaims for Claims {}

/// The client `CoreClient::from_provider_metadata` makes: authorization endpoint set,
/// token and userinfo endpoints as the discovery document has them.
type Client = openidconnect::Client<
    openidconnect::EmptyAdditionalClaims,
    openidconnect::core::CoreAuthDisplay,
    CoreGenderClaim,
    CoreJweContentEncryptionAlgorithm,
    openidconnect::core::CoreJsonWebKey,
    openidconnect::core::CoreAuthPrompt,
    openidconnect::StandardErrorResponse<openidconnect::core::CoreErrorResponseType>,
    openidconnect::core::CoreTokenResponse,
    openidconnect::core::CoreTokenIntrospectionResponse,
    openidconnect::core::CoreRevocableToken,
    openidconnect::core::CoreRevocationErrorResponse,
    openidconnect::EndpointSet,
    openidconnect::EndpointNotSet,
    openidconnect::EndpointNotSet,
    openidconnect::EndpointNotSet,
    openidconnect::EndpointMaybeSet,
    openidconnect::EndpointMaybeSet,
>;

type GroupsIdToken =
    IdToken<Claims, CoreGenderClaim, CoreJweContentEncryptionAlgorithm, CoreJwsSigningAlgorithm>;

/// The relying party: the provider's metadata and the sign-ins in progress.
#[derive(Debug)]
pub(crate) struct Sso {
    pub(crate) config: SsoConfig,
    http: reqwest::Client,
    metadata: tokio::sync::Mutex<Option<(CoreProviderMetadata, u64)>>,
    pending: Mutex<HashMap<String, Pending>>,
}

impl Sso {
    pub(crate) fn new(config: SsoConfig) -> Sso {
        let http = reqwest::Client::builder()
            // Following redirects from the provider's endpoints could be turned against us.
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(15))
            .build()
            .expect("a reqwest client builds");
        Sso {
            config,
            http,
            metadata: tokio::sync::Mutex::new(None),
            pending: Mutex::default(),
        }
    }

    /// The provider's discovery document and keys, read again when stale or `fresh`.
    async fn metadata(&self, now: u64, fresh: bool) -> Result<CoreProviderMetadata, SsoError> {
        let mut cached = self.metadata.lock().await;
        if let Some((m, at)) = cached.as_ref()
            && !fresh
            && now < at + METADATA_FOR
        {
            return Ok(m.clone());
        }
        let issuer = IssuerUrl::new(self.config.issuer.clone())
            .map_err(|e| self.provider_error(e.to_string()))?;
        let m = CoreProviderMetadata::discover_async(issuer, &self.http)
            .await
            .map_err(|e| self.provider_error(chain(&e)))?;
        *cached = Some((m.clone(), now));
        Ok(m)
    }

    fn provider_error(&self, why: String) -> SsoError {
        SsoError::Provider(self.config.issuer.clone(), why)
    }

    fn client(&self, metadata: CoreProviderMetadata) -> Result<Client, SsoError> {
        let redirect = RedirectUrl::new(self.config.redirect_url.clone())
            .map_err(|e| SsoError::Refused(format!("[sso] redirect-url: {e}")))?;
        Ok(CoreClient::from_provider_metadata(
            metadata,
            ClientId::new(self.config.client_id.clone()),
            Some(ClientSecret::new(self.config.client_secret.clone())),
        )
        .set_redirect_uri(redirect))
    }

    /// Starts a sign-in: answers the browser's key (for its cookie) and the provider URL to
    /// send it to.
    pub(crate) async fn start(&self, now: u64) -> Result<(String, String), SsoError> {
        let client = self.client(self.metadata(now, false).await?)?;
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let mut request = client
            .authorize_url(
                CoreAuthenticationFlow::AuthorizationCode,
                CsrfToken::new_random,
                Nonce::new_random,
            )
            .set_pkce_challenge(challenge);
        for scope in &self.config.scopes {
            request = request.add_scope(Scope::new(scope.clone()));
        }
        let (url, state, nonce) = request.url();
        let key = random_text(32);
        let mut pending = self.pending.lock().unwrap_or_else(|e| e.into_inner());
        pending.retain(|_, p| now < p.started + PENDING_FOR);
        pending.insert(
            hash(&key),
            Pending {
                state: state.secret().clone(),
                nonce: nonce.secret().clone(),
                verifier: verifier.secret().clone(),
                started: now,
            },
        );
        Ok((key, url.to_string()))
    }

    /// Finishes the sign-in of the browser holding `key`: checks `state`, trades `code`
    /// for tokens with the PKCE verifier, verifies the ID token, and maps its groups.
    pub(crate) async fn finish(
        &self,
        key: Option<&str>,
        code: &str,
        state: &str,
        now: u64,
    ) -> Result<Principal, SsoError> {
        let pending = key.and_then(|k| {
            self.pending
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .remove(&hash(k))
        });
        let Some(pending) = pending.filter(|p| now < p.started + PENDING_FOR) else {
            return Err(SsoError::Refused(
                "no sign-in was started in this browser, or it took over ten minutes: \
                 sign in again from the sign-in page"
                    .into(),
            ));
        };
        if !same(&pending.state, state) {
            return Err(SsoError::Refused(
                "the provider's answer carries another state than the sign-in this browser \
                 started (tampered, or meant for another sign-in): sign in again"
                    .into(),
            ));
        }
        let metadata = self.metadata(now, false).await?;
        let client = self.client(metadata)?;
        let answer = client
            .exchange_code(AuthorizationCode::new(code.to_owned()))
            .map_err(|e| self.provider_error(e.to_string()))?
            .set_pkce_verifier(PkceCodeVerifier::new(pending.verifier))
            .request_async(&self.http)
            .await
            .map_err(|e| {
                SsoError::Refused(format!(
                    "the provider refused to trade the sign-in's code: {}",
                    chain(&e)
                ))
            })?;
        let raw = answer
            .id_token()
            .ok_or_else(|| SsoError::Refused("the provider answered no ID token".into()))?
            .to_string();
        let token: GroupsIdToken = raw
            .parse()
            .map_err(|e| SsoError::Refused(format!("the ID token does not parse: {e}")))?;
        let nonce = Nonce::new(pending.nonce);
        let claims = match token.claims(&client.id_token_verifier(), &nonce) {
            Err(ClaimsVerificationError::SignatureVerification(_)) => {
                // The provider may have rotated its keys: read them again, once.
                let client = self.client(self.metadata(now, true).await?)?;
                token.claims(&client.id_token_verifier(), &nonce).cloned()
            }
            other => other.cloned(),
        }
        .map_err(|e| SsoError::Refused(format!("the ID token was refused: {}", explain(&e))))?;
        self.principal(&claims)
    }

    fn principal(
        &self,
        claims: &openidconnect::IdTokenClaims<Claims, CoreGenderClaim>,
    ) -> Result<Principal, SsoError> {
        let extra = &claims.additional_claims().0;
        let name = match self.config.username_claim.as_str() {
            "sub" => Some(claims.subject().to_string()),
            "email" => claims.email().map(|e| e.to_string()),
            "preferred_username" => claims.preferred_username().map(|u| u.to_string()),
            other => extra.get(other).and_then(|v| v.as_str()).map(str::to_owned),
        }
        .filter(|n| !n.is_empty())
        .ok_or_else(|| {
            SsoError::Refused(format!(
                "the ID token has no {:?} claim to name you by ([sso] username-claim)",
                self.config.username_claim
            ))
        })?;
        let groups: Vec<String> = match extra.get(&self.config.groups_claim) {
            Some(serde_json::Value::Array(a)) => a
                .iter()
                .filter_map(|g| g.as_str().map(str::to_owned))
                .collect(),
            Some(serde_json::Value::String(g)) => vec![g.clone()],
            _ => Vec::new(),
        };
        let mut roles: Vec<Role> = self
            .config
            .roles
            .iter()
            .filter(|(group, _)| groups.iter().any(|g| g == group))
            .flat_map(|(_, roles)| roles.iter().copied())
            .collect();
        roles.sort();
        roles.dedup();
        if roles.is_empty() {
            return Err(SsoError::Refused(format!(
                "{name} signed in, but is in none of the groups [sso.roles] maps to a role \
                 (their groups: {}): ask an admin to add them to one",
                if groups.is_empty() {
                    "none".to_owned()
                } else {
                    groups.join(", ")
                }
            )));
        }
        Ok(Principal {
            name,
            grants: Grant::each(roles, &[]),
            groups,
            via: Via::Sso,
        })
    }
}

/// A refused ID token, said plainly.
fn explain(e: &ClaimsVerificationError) -> String {
    match e {
        ClaimsVerificationError::Expired(_) => {
            "it has expired (check the clocks of this server and the provider)".into()
        }
        ClaimsVerificationError::InvalidAudience(_) => {
            "it was issued to another client than [sso] client-id".into()
        }
        ClaimsVerificationError::InvalidIssuer(_) => "it was issued by another issuer".into(),
        ClaimsVerificationError::InvalidNonce(_) => {
            "its nonce is not the one this sign-in sent (a replayed or injected token)".into()
        }
        ClaimsVerificationError::SignatureVerification(_) => {
            "its signature does not verify with the provider's published keys".into()
        }
        other => other.to_string(),
    }
}

/// An error and its causes, on one line.
fn chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        text.push_str(": ");
        text.push_str(&c.to_string());
        cause = c.source();
    }
    text
}
