//! OAuth 1.0a request signing (RFC 5849 §3.4) for Magento integrations.
//!
//! Magento verifies HMAC-SHA256 (and HMAC-SHA1) signatures over the signature base string:
//! the upper-case method, the base URI without query, and every query and `oauth_*` parameter,
//! percent-encoded, sorted by name then value. The simulator has its own, independent
//! verifier, so a mistake here cannot be mirrored there; both are held to the RFC's vectors.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

/// Everything but ALPHA, DIGIT, `-`, `.`, `_`, `~` is encoded (RFC 5849 §3.6).
const RESERVED: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// RFC 5849 §3.6 percent-encoding.
pub fn percent(s: &str) -> String {
    utf8_percent_encode(s, RESERVED).to_string()
}

/// The signature method.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// `HMAC-SHA256`, what Magento integrations use by default.
    HmacSha256,
    /// `HMAC-SHA1`, the RFC's own method.
    HmacSha1,
}

impl Method {
    /// The `oauth_signature_method` value.
    pub fn name(self) -> &'static str {
        match self {
            Method::HmacSha256 => "HMAC-SHA256",
            Method::HmacSha1 => "HMAC-SHA1",
        }
    }
}

/// The four values of an integration (System > Integrations).
#[derive(Clone)]
pub struct OAuthKeys {
    /// Consumer key.
    pub consumer_key: String,
    /// Consumer secret.
    pub consumer_secret: String,
    /// Access token.
    pub access_token: String,
    /// Access token secret.
    pub access_token_secret: String,
}

impl std::fmt::Debug for OAuthKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Only the public consumer key is shown; secrets never reach a log.
        f.debug_struct("OAuthKeys")
            .field("consumer_key", &self.consumer_key)
            .finish_non_exhaustive()
    }
}

/// Builds the signature base string from already-decoded parameters.
pub fn signature_base(http_method: &str, base_uri: &str, params: &[(String, String)]) -> String {
    // Sort by encoded name, then encoded value (not by the joined "k=v": "a2" < "a" there).
    let mut encoded: Vec<(String, String)> = params
        .iter()
        .map(|(k, v)| (percent(k), percent(v)))
        .collect();
    encoded.sort_unstable();
    let joined: Vec<String> = encoded
        .into_iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    [
        http_method.to_ascii_uppercase(),
        percent(base_uri),
        percent(&joined.join("&")),
    ]
    .join("&")
}

/// Signs a base string with `consumer_secret&token_secret`.
pub fn sign(method: Method, consumer_secret: &str, token_secret: &str, base: &str) -> String {
    let key = format!("{}&{}", percent(consumer_secret), percent(token_secret));
    let digest = match method {
        Method::HmacSha256 => {
            let mut mac = Hmac::<sha2::Sha256>::new_from_slice(key.as_bytes())
                .expect("HMAC takes any key length");
            mac.update(base.as_bytes());
            mac.finalize().into_bytes().to_vec()
        }
        Method::HmacSha1 => {
            let mut mac = Hmac::<sha1::Sha1>::new_from_slice(key.as_bytes())
                .expect("HMAC takes any key length");
            mac.update(base.as_bytes());
            mac.finalize().into_bytes().to_vec()
        }
    };
    STANDARD.encode(digest)
}

/// The `Authorization: OAuth ...` header for one request. `query` holds the request's decoded
/// query parameters; `base_uri` is scheme, host, port and path.
pub fn header(
    keys: &OAuthKeys,
    method: Method,
    http_method: &str,
    base_uri: &str,
    query: &[(String, String)],
    timestamp: u64,
    nonce: &str,
) -> String {
    let oauth: [(&str, String); 6] = [
        ("oauth_consumer_key", keys.consumer_key.clone()),
        ("oauth_nonce", nonce.to_owned()),
        ("oauth_signature_method", method.name().to_owned()),
        ("oauth_timestamp", timestamp.to_string()),
        ("oauth_token", keys.access_token.clone()),
        ("oauth_version", "1.0".to_owned()),
    ];
    let mut params: Vec<(String, String)> = query.to_vec();
    params.extend(oauth.iter().map(|(k, v)| ((*k).to_owned(), v.clone())));
    let base = signature_base(http_method, base_uri, &params);
    let signature = sign(
        method,
        &keys.consumer_secret,
        &keys.access_token_secret,
        &base,
    );
    let fields: Vec<String> = oauth
        .iter()
        .map(|(k, v)| format!("{k}=\"{}\"", percent(v)))
        .chain(std::iter::once(format!(
            "oauth_signature=\"{}\"",
            percent(&signature)
        )))
        .collect();
    format!("OAuth {}", fields.join(","))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn owned(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    /// RFC 5849 §3.4.1.1: the example request's signature base string, character for character.
    #[test]
    fn base_string_matches_rfc_5849_section_3_4_1_1() {
        let params = owned(&[
            ("b5", "=%3D"),
            ("a3", "a"),
            ("c@", ""),
            ("a2", "r b"),
            ("oauth_consumer_key", "9djdj82h48djs9d2"),
            ("oauth_token", "kkk9d7dh3k39sjv7"),
            ("oauth_signature_method", "HMAC-SHA1"),
            ("oauth_timestamp", "137131201"),
            ("oauth_nonce", "7d8f3e4a"),
            ("c2", ""),
            ("a3", "2 q"),
        ]);
        assert_eq!(
            signature_base("post", "http://example.com/request", &params),
            "POST&http%3A%2F%2Fexample.com%2Frequest&a2%3Dr%2520b%26a3%3D2%2520q%26a3%3Da%26b5%3D%253D%25253D%26c%2540%3D%26c2%3D%26oauth_consumer_key%3D9djdj82h48djs9d2%26oauth_nonce%3D7d8f3e4a%26oauth_signature_method%3DHMAC-SHA1%26oauth_timestamp%3D137131201%26oauth_token%3Dkkk9d7dh3k39sjv7"
        );
    }

    /// RFC 5849 §1.2: the photo request's published signature `MdpQcU8iPSUjWoN/UDMsK2sui9I=`.
    #[test]
    fn signature_matches_rfc_5849_section_1_2() {
        let params = owned(&[
            ("file", "vacation.jpg"),
            ("size", "original"),
            ("oauth_consumer_key", "dpf43f3p2l4k3l03"),
            ("oauth_token", "nnch734d00sl2jdk"),
            ("oauth_signature_method", "HMAC-SHA1"),
            ("oauth_timestamp", "137131202"),
            ("oauth_nonce", "chapoH"),
        ]);
        let base = signature_base("GET", "http://photos.example.net/photos", &params);
        assert_eq!(
            sign(
                Method::HmacSha1,
                "kd94hf93k423kf44",
                "pfkkdhi9sl3r4s00",
                &base
            ),
            "MdpQcU8iPSUjWoN/UDMsK2sui9I="
        );
    }

    #[test]
    fn a_name_sorts_before_its_extensions() {
        let base = signature_base("GET", "http://h/p", &owned(&[("a2", "x"), ("a", "y")]));
        assert!(base.ends_with("a%3Dy%26a2%3Dx"), "{base}");
    }

    #[test]
    fn secrets_stay_out_of_debug_output() {
        let keys = OAuthKeys {
            consumer_key: "ck".into(),
            consumer_secret: "very-secret".into(),
            access_token: "token-secret-too".into(),
            access_token_secret: "tss".into(),
        };
        let shown = format!("{keys:?}");
        assert!(
            !shown.contains("very-secret")
                && !shown.contains("token-secret-too")
                && !shown.contains("tss")
        );
    }
}
