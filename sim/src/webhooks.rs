//! Adobe Commerce style webhooks out of the simulator: on customer register, save and delete,
//! POST `{"eventName": ..., "data": {...}}` to the configured URL, signed with RSA-SHA256 over
//! the base64-encoded body in `x-adobe-commerce-webhook-signature` (base64), as Commerce does.
//!
//! The key pair is generated on first use; its public key is printed at start and served at
//! `GET /__sim/webhooks/key` so a receiver can verify.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use rsa::RsaPrivateKey;
use rsa::pkcs1v15::SigningKey;
use rsa::pkcs8::{EncodePublicKey, LineEnding};
use rsa::signature::{SignatureEncoding, Signer as _};
use serde::Serialize;
use serde_json::{Value, json};
use sha2::Sha256;

use crate::Sim;
use crate::model::Customer;

/// The signature header Commerce sends.
pub const SIGNATURE_HEADER: &str = "x-adobe-commerce-webhook-signature";

/// One event to deliver.
#[derive(Debug, Clone)]
pub struct Event {
    /// The hook name, e.g. `observer.customer_save_after_data_object`.
    pub hook: &'static str,
    /// The JSON body.
    pub body: Value,
}

impl Event {
    /// `observer.customer_register_success`.
    pub fn register(c: &Customer) -> Event {
        Event {
            hook: "observer.customer_register_success",
            body: json!({"eventName": "customer_register_success", "data": {"customer": c, "account_controller": []}}),
        }
    }

    /// `observer.customer_save_after_data_object` with the previous state when there was one.
    pub fn save(c: &Customer, orig: Option<&Customer>) -> Event {
        Event {
            hook: "observer.customer_save_after_data_object",
            body: json!({"eventName": "customer_save_after_data_object",
                         "data": {"customer_data_object": c, "orig_customer_data_object": orig}}),
        }
    }

    /// `observer.customer_delete_commit_after`.
    pub fn delete(c: &Customer) -> Event {
        Event {
            hook: "observer.customer_delete_commit_after",
            body: json!({"eventName": "customer_delete_commit_after", "data": {"customer": c}}),
        }
    }
}

/// The signing key pair.
#[derive(Debug)]
pub struct KeyPair {
    signer: SigningKey<Sha256>,
    /// PEM (SPKI) public key, what the Commerce admin shows.
    pub public_pem: String,
}

impl KeyPair {
    /// Generates a 2048-bit RSA key pair.
    pub fn generate() -> KeyPair {
        let mut rng = rand::thread_rng();
        let key = RsaPrivateKey::new(&mut rng, 2048).expect("2048-bit RSA key generation succeeds");
        let public_pem = key
            .to_public_key()
            .to_public_key_pem(LineEnding::LF)
            .expect("an RSA public key always encodes");
        KeyPair {
            signer: SigningKey::<Sha256>::new(key),
            public_pem,
        }
    }

    /// The header value for a body: base64 of the RSA-SHA256 signature of base64(body).
    pub fn sign(&self, body: &[u8]) -> String {
        let b64 = STANDARD.encode(body);
        STANDARD.encode(self.signer.sign(b64.as_bytes()).to_bytes())
    }
}

/// One delivery attempt, listed at `GET /__sim/webhooks`.
#[derive(Debug, Clone, Serialize)]
pub struct Delivery {
    /// Hook name.
    pub hook: &'static str,
    /// Target URL.
    pub url: String,
    /// HTTP status the receiver answered, if it answered.
    pub status: Option<u16>,
    /// Transport error, if any.
    pub error: Option<String>,
}

/// Delivers events in order to the configured URL, if any. Failures are logged, never fatal:
/// the simulator models optional hooks.
pub async fn deliver(sim: &Sim, events: Vec<Event>) {
    let Some(url) = sim.read().webhook_url.clone() else {
        return;
    };
    let key = sim.webhook_key();
    for event in events {
        let body = serde_json::to_vec(&event.body).expect("events always serialise");
        let result = sim
            .http
            .post(&url)
            .header("content-type", "application/json")
            .header(SIGNATURE_HEADER, key.sign(&body))
            .body(body)
            .send()
            .await;
        let (status, error) = match result {
            Ok(r) => (Some(r.status().as_u16()), None),
            Err(e) => (None, Some(e.to_string())),
        };
        if let Some(e) = &error {
            tracing::warn!(hook = event.hook, %url, error = %e, "webhook delivery failed");
        }
        sim.write().deliveries.push(Delivery {
            hook: event.hook,
            url: url.clone(),
            status,
            error,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rsa::pkcs1v15::{Signature, VerifyingKey};
    use rsa::pkcs8::DecodePublicKey;
    use rsa::signature::Verifier;

    #[test]
    fn signature_verifies_over_the_base64_body() {
        let kp = KeyPair::generate();
        let body = br#"{"eventName":"customer_save_after_data_object"}"#;
        let sig = STANDARD.decode(kp.sign(body)).unwrap();
        let public = rsa::RsaPublicKey::from_public_key_pem(&kp.public_pem).unwrap();
        let verifier = VerifyingKey::<Sha256>::new(public);
        let signature = Signature::try_from(sig.as_slice()).unwrap();
        assert!(
            verifier
                .verify(STANDARD.encode(body).as_bytes(), &signature)
                .is_ok()
        );
        assert!(verifier.verify(body, &signature).is_err());
    }
}
