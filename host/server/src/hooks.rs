//! `POST /hooks/<workflow>`: webhook intake. A delivery is checked (size, signature, JSON),
//! named (Commerce `eventName`, or a CloudEvent's `type` and `id`), deduplicated, queued as a
//! run that carries its dedupe key (see `Store::queue`), made durable by a group commit, and
//! only then answered
//! `{"op":"success"}`. Unsigned, wrongly signed, oversized or malformed deliveries are refused
//! with a status that says which, and nothing is queued.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use axum::http::{HeaderMap, StatusCode};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use mageflow_model::workflow::{Signature, Trigger};
use mageflow_model::{Event, Operations};
use mageflow_store::Queued;
use rsa::RsaPublicKey;
use rsa::pkcs1v15::{Signature as RsaSignature, VerifyingKey};
use rsa::pkcs8::DecodePublicKey;
use rsa::signature::Verifier as _;
use serde_json::Value;
use sha2::{Digest, Sha256};
use tokio::sync::watch;

/// Largest accepted delivery.
pub const MAX_BODY: usize = 1 << 20;
/// The Commerce signature header.
pub const ADOBE_HEADER: &str = "x-adobe-commerce-webhook-signature";
/// The shared-secret signature header: `sha256=<hex HMAC-SHA256 of the body>`.
pub const HMAC_HEADER: &str = "x-mageflow-signature";

/// The value of [`HMAC_HEADER`] for a body signed with `secret`: `sha256=<hex>`. For senders
/// (the demo signs its own deliveries with it).
pub fn hmac_signature(secret: &[u8], body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).expect("HMAC takes a key of any length");
    mac.update(body);
    let hex: String = mac
        .finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    format!("sha256={hex}")
}

/// How one workflow's deliveries are verified.
#[derive(Clone)]
pub(crate) enum Verifier {
    Adobe(VerifyingKey<Sha256>),
    Hmac(Vec<u8>),
}

impl std::fmt::Debug for Verifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Verifier::Adobe(_) => "Verifier::Adobe",
            Verifier::Hmac(_) => "Verifier::Hmac",
        })
    }
}

/// The verifiers of every webhook workflow, read at start: a missing key file or secret stops
/// the server with the reason.
pub(crate) fn verifiers(
    engine: &dyn Operations,
    var: impl Fn(&str) -> Option<String>,
) -> Result<BTreeMap<String, (Verifier, Vec<String>)>, String> {
    let mut out = BTreeMap::new();
    for w in engine.workflows() {
        let Trigger::Webhook { events, signature } = &w.def.trigger else {
            continue;
        };
        let verifier = match signature {
            Signature::Adobe { public_key } => {
                let pem = std::fs::read_to_string(public_key).map_err(|e| {
                    format!(
                        "workflow {}: cannot read the public key {}: {e}",
                        w.def.name,
                        public_key.display()
                    )
                })?;
                let key = RsaPublicKey::from_public_key_pem(&pem).map_err(|e| {
                    format!(
                        "workflow {}: {} is not a PEM RSA public key ({e}); copy it from Stores > Configuration > Adobe Services > Webhooks",
                        w.def.name,
                        public_key.display()
                    )
                })?;
                Verifier::Adobe(VerifyingKey::new(key))
            }
            Signature::Hmac { secret_env } => {
                let secret = var(secret_env).filter(|s| !s.is_empty()).ok_or_else(|| {
                    format!(
                        "workflow {}: the webhook secret variable {secret_env} is not set",
                        w.def.name
                    )
                })?;
                Verifier::Hmac(secret.into_bytes())
            }
        };
        out.insert(w.def.name.clone(), (verifier, events.clone()));
    }
    Ok(out)
}

/// Why a delivery was refused.
#[derive(Debug)]
pub(crate) struct Refused(pub(crate) StatusCode, pub(crate) String);

impl Verifier {
    fn check(&self, headers: &HeaderMap, body: &[u8]) -> Result<(), Refused> {
        let unsigned = |h: &str| {
            Refused(
                StatusCode::UNAUTHORIZED,
                format!("unsigned delivery: the {h} header is missing"),
            )
        };
        let bad = |why: &str| {
            Refused(
                StatusCode::UNAUTHORIZED,
                format!("the signature does not verify: {why}"),
            )
        };
        match self {
            Verifier::Adobe(key) => {
                let sig = headers
                    .get(ADOBE_HEADER)
                    .ok_or_else(|| unsigned(ADOBE_HEADER))?;
                let raw = STANDARD
                    .decode(sig.as_bytes())
                    .map_err(|_| bad("the header is not base64"))?;
                let sig = RsaSignature::try_from(raw.as_slice())
                    .map_err(|_| bad("not an RSA signature"))?;
                key.verify(STANDARD.encode(body).as_bytes(), &sig)
                    .map_err(|_| {
                        bad("RSA-SHA256 over the base64 body fails with the configured public key")
                    })
            }
            Verifier::Hmac(secret) => {
                let sig = headers
                    .get(HMAC_HEADER)
                    .ok_or_else(|| unsigned(HMAC_HEADER))?;
                let hex = sig
                    .to_str()
                    .ok()
                    .and_then(|s| s.strip_prefix("sha256="))
                    .ok_or_else(|| bad("expected sha256=<hex>"))?;
                let given = decode_hex(hex).ok_or_else(|| bad("expected sha256=<hex>"))?;
                let mut mac =
                    Hmac::<Sha256>::new_from_slice(secret).map_err(|_| bad("unusable secret"))?;
                mac.update(body);
                mac.verify_slice(&given)
                    .map_err(|_| bad("HMAC-SHA256 of the body differs"))
            }
        }
    }
}

fn decode_hex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect()
}

/// The event's name and the key that makes a redelivery a duplicate.
fn identify(headers: &HeaderMap, body: &Value, raw: &[u8]) -> Result<(String, String), Refused> {
    // Binary-mode CloudEvents carry their attributes in headers.
    if let (Some(id), Some(ty)) = (headers.get("ce-id"), headers.get("ce-type")) {
        let id = id.to_str().unwrap_or_default();
        return Ok((
            ty.to_str().unwrap_or_default().to_owned(),
            format!("ce/{id}"),
        ));
    }
    // Structured CloudEvents (Adobe I/O Events).
    if body.get("specversion").is_some() {
        let ty = body["type"].as_str();
        let id = body["id"].as_str();
        return match (ty, id) {
            (Some(ty), Some(id)) => Ok((ty.to_owned(), format!("ce/{id}"))),
            _ => Err(Refused(
                StatusCode::BAD_REQUEST,
                "a CloudEvent needs both `type` and `id`".into(),
            )),
        };
    }
    // Commerce webhooks have no delivery id: an identical body is the same delivery.
    let name = body["eventName"].as_str().ok_or_else(|| {
        Refused(
            StatusCode::BAD_REQUEST,
            "the delivery names no event: expected Commerce's `eventName` or a CloudEvent".into(),
        )
    })?;
    let digest: String = Sha256::digest(raw)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    Ok((name.to_owned(), format!("body/{digest}")))
}

/// Whether a workflow takes this event (`observer.` prefixes compare either way).
fn accepted(events: &[String], name: &str) -> bool {
    let bare = |s: &str| s.strip_prefix("observer.").unwrap_or(s).to_owned();
    events.is_empty() || events.iter().any(|e| bare(e) == bare(name))
}

/// What intake did with a delivery.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Intake {
    /// Queued as this run.
    Queued(u64),
    /// The same delivery was queued before as this run.
    Duplicate(u64),
    /// The workflow does not take this event.
    Ignored(String),
}

/// Groups concurrent deliveries into one fsync: each waits until a flush that started after
/// its write has finished.
#[derive(Debug)]
pub(crate) struct GroupCommit {
    written: AtomicU64,
    wanted: watch::Sender<u64>,
    flushed: watch::Receiver<u64>,
}

impl GroupCommit {
    pub(crate) fn start(engine: Arc<dyn Operations>) -> Arc<GroupCommit> {
        let (wanted_tx, mut wanted_rx) = watch::channel(0u64);
        let (flushed_tx, flushed_rx) = watch::channel(0u64);
        tokio::spawn(async move {
            while wanted_rx.changed().await.is_ok() {
                let target = *wanted_rx.borrow_and_update();
                let engine = engine.clone();
                let flushed = tokio::task::spawn_blocking(move || engine.store().flush()).await;
                match flushed {
                    Ok(Ok(())) => {
                        let _ = flushed_tx.send(target);
                    }
                    Ok(Err(e)) => tracing::error!(error = %e, "flushing queued webhooks failed"),
                    Err(e) => tracing::error!(error = %e, "the flush task failed"),
                }
            }
        });
        Arc::new(GroupCommit {
            written: AtomicU64::new(0),
            wanted: wanted_tx,
            flushed: flushed_rx,
        })
    }

    /// Waits until everything written before this call is on disk.
    pub(crate) async fn durable(&self) -> Result<(), String> {
        let ticket = self.written.fetch_add(1, Ordering::SeqCst) + 1;
        self.wanted.send_modify(|w| *w = (*w).max(ticket));
        let mut flushed = self.flushed.clone();
        flushed
            .wait_for(|f| *f >= ticket)
            .await
            .map(|_| ())
            .map_err(|_| "the store stopped flushing".to_owned())
    }
}

/// Takes one delivery for `workflow`.
pub(crate) async fn intake(
    engine: &Arc<dyn Operations>,
    commit: &GroupCommit,
    verifier: &Verifier,
    events: &[String],
    workflow: &str,
    headers: &HeaderMap,
    raw: &[u8],
) -> Result<Intake, Refused> {
    if raw.len() > MAX_BODY {
        return Err(Refused(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!(
                "the delivery is {} bytes; at most {MAX_BODY} are accepted",
                raw.len()
            ),
        ));
    }
    verifier.check(headers, raw)?;
    let body: Value = serde_json::from_slice(raw).map_err(|e| {
        Refused(
            StatusCode::BAD_REQUEST,
            format!("the delivery is not JSON: {e}"),
        )
    })?;
    let (name, key) = identify(headers, &body, raw)?;
    if !accepted(events, &name) {
        return Ok(Intake::Ignored(name));
    }
    let event = Event::Webhook {
        name,
        body_json: String::from_utf8_lossy(raw).into_owned(),
    };
    let dedupe = format!("{workflow}/{key}");
    // Across the network on PostgreSQL: off the async workers, so a round trip blocks none.
    let (queuing, workflow_name) = (engine.clone(), workflow.to_owned());
    let queued = engine
        .store()
        .blocking(move |_| {
            queuing.queue(
                &workflow_name,
                &[event],
                &format!("webhook:{workflow_name}"),
                false,
                Some(&dedupe),
                None,
            )
        })
        .await
        .map_err(|e| Refused(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?;
    commit
        .durable()
        .await
        .map_err(|e| Refused(StatusCode::INTERNAL_SERVER_ERROR, e))?;
    match queued {
        Queued::Runs(runs) if !runs.is_empty() => Ok(Intake::Queued(runs[0].id)),
        Queued::Duplicate(id) => Ok(Intake::Duplicate(id)),
        // No cursor was asked to move, and one event queues one run.
        Queued::Runs(_) | Queued::Moved => Err(Refused(
            StatusCode::INTERNAL_SERVER_ERROR,
            "the delivery queued no run".into(),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_match_with_or_without_the_observer_prefix() {
        let events = vec!["observer.customer_register_success".to_owned()];
        assert!(accepted(&events, "customer_register_success"));
        assert!(accepted(&events, "observer.customer_register_success"));
        assert!(!accepted(&events, "customer_save_after"));
        assert!(accepted(&[], "anything"));
    }

    #[test]
    fn hex_decodes() {
        assert_eq!(decode_hex("00ff10"), Some(vec![0, 255, 16]));
        assert_eq!(decode_hex("0"), None);
        assert_eq!(decode_hex("zz"), None);
    }
}
