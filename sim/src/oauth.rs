//! OAuth 1.0a request signing (RFC 5849) as Magento integrations use it: HMAC-SHA256 or
//! HMAC-SHA1 over the signature base string, keyed by the consumer and token secrets.
//!
//! The simulator verifies signatures with it; tests and benchmarks sign with it.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, percent_decode_str, utf8_percent_encode};

/// RFC 3986 unreserved characters stay; everything else is percent-encoded (RFC 5849 §3.6).
const ENCODE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// Percent-encodes per RFC 5849 §3.6.
pub fn encode(s: &str) -> String {
    utf8_percent_encode(s, ENCODE).to_string()
}

/// The signature base string (RFC 5849 §3.4.1): method, base URI and normalised parameters.
/// `params` holds the decoded query and `oauth_*` parameters, without `oauth_signature`.
pub fn base_string(method: &str, base_uri: &str, params: &[(String, String)]) -> String {
    let mut enc: Vec<(String, String)> =
        params.iter().map(|(k, v)| (encode(k), encode(v))).collect();
    enc.sort();
    let normalized = enc
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&");
    format!(
        "{}&{}&{}",
        method.to_ascii_uppercase(),
        encode(base_uri),
        encode(&normalized)
    )
}

/// Signs a base string; `method` is `HMAC-SHA256` or `HMAC-SHA1`. `None` for any other method.
pub fn signature(
    method: &str,
    consumer_secret: &str,
    token_secret: &str,
    base: &str,
) -> Option<String> {
    let key = format!("{}&{}", encode(consumer_secret), encode(token_secret));
    let raw = match method {
        "HMAC-SHA256" => {
            let mut mac = Hmac::<sha2::Sha256>::new_from_slice(key.as_bytes()).ok()?;
            mac.update(base.as_bytes());
            mac.finalize().into_bytes().to_vec()
        }
        "HMAC-SHA1" => {
            let mut mac = Hmac::<sha1::Sha1>::new_from_slice(key.as_bytes()).ok()?;
            mac.update(base.as_bytes());
            mac.finalize().into_bytes().to_vec()
        }
        _ => return None,
    };
    Some(STANDARD.encode(raw))
}

/// Parses `OAuth k="v", ...` into decoded pairs; `None` when the header is not OAuth.
pub fn parse_header(value: &str) -> Option<Vec<(String, String)>> {
    let rest = value.trim().strip_prefix("OAuth")?.trim_start();
    let mut out = Vec::new();
    for part in rest.split(',') {
        let part = part.trim();
        if part.is_empty() {
            continue;
        }
        let (k, v) = part.split_once('=')?;
        let v = v.trim().trim_matches('"');
        let decode = |s: &str| percent_decode_str(s).decode_utf8_lossy().into_owned();
        out.push((decode(k.trim()), decode(v)));
    }
    Some(out)
}

/// Values of one signed request, as a client would hold them.
#[derive(Debug, Clone)]
pub struct Credentials<'a> {
    /// Integration consumer key.
    pub consumer_key: &'a str,
    /// Integration consumer secret.
    pub consumer_secret: &'a str,
    /// Access token.
    pub token: &'a str,
    /// Access token secret.
    pub token_secret: &'a str,
}

/// Builds the `Authorization` header for a request (used by tests and the benchmark).
pub fn authorization(
    creds: &Credentials<'_>,
    method: &str,
    url: &str,
    sig_method: &str,
    timestamp: i64,
    nonce: &str,
) -> String {
    let (base_uri, query) = url.split_once('?').unwrap_or((url, ""));
    let mut params: Vec<(String, String)> = crate::criteria::query_pairs(query);
    let oauth = [
        ("oauth_consumer_key", creds.consumer_key.to_owned()),
        ("oauth_token", creds.token.to_owned()),
        ("oauth_signature_method", sig_method.to_owned()),
        ("oauth_timestamp", timestamp.to_string()),
        ("oauth_nonce", nonce.to_owned()),
        ("oauth_version", "1.0".to_owned()),
    ];
    params.extend(oauth.iter().map(|(k, v)| (k.to_string(), v.clone())));
    let base = base_string(method, base_uri, &params);
    let sig =
        signature(sig_method, creds.consumer_secret, creds.token_secret, &base).unwrap_or_default();
    let mut header = String::from("OAuth ");
    for (k, v) in oauth.iter() {
        header.push_str(&format!("{k}=\"{}\", ", encode(v)));
    }
    header.push_str(&format!("oauth_signature=\"{}\"", encode(&sig)));
    header
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 5849 §1.2: the photos.example.net request (no `oauth_version`) and its published
    /// HMAC-SHA1 signature.
    #[test]
    fn matches_the_rfc_5849_example_signature() {
        let params: Vec<(String, String)> = [
            ("file", "vacation.jpg"),
            ("size", "original"),
            ("oauth_consumer_key", "dpf43f3p2l4k3l03"),
            ("oauth_token", "nnch734d00sl2jdk"),
            ("oauth_signature_method", "HMAC-SHA1"),
            ("oauth_timestamp", "137131202"),
            ("oauth_nonce", "chapoH"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        let base = base_string("GET", "http://photos.example.net/photos", &params);
        assert_eq!(
            base,
            "GET&http%3A%2F%2Fphotos.example.net%2Fphotos&file%3Dvacation.jpg%26oauth_consumer_key%3Ddpf43f3p2l4k3l03%26oauth_nonce%3DchapoH%26oauth_signature_method%3DHMAC-SHA1%26oauth_timestamp%3D137131202%26oauth_token%3Dnnch734d00sl2jdk%26size%3Doriginal"
        );
        let sig = signature("HMAC-SHA1", "kd94hf93k423kf44", "pfkkdhi9sl3r4s00", &base).unwrap();
        assert_eq!(sig, "MdpQcU8iPSUjWoN/UDMsK2sui9I=");
    }

    /// RFC 5849 §3.4.1.1: the normalised parameter string of the example request.
    #[test]
    fn encodes_and_sorts_parameters_like_the_rfc() {
        let params: Vec<(String, String)> = [
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
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        let base = base_string("POST", "http://example.com/request", &params);
        assert_eq!(
            base,
            "POST&http%3A%2F%2Fexample.com%2Frequest&a2%3Dr%2520b%26a3%3D2%2520q%26a3%3Da%26b5%3D%253D%25253D%26c%2540%3D%26c2%3D%26oauth_consumer_key%3D9djdj82h48djs9d2%26oauth_nonce%3D7d8f3e4a%26oauth_signature_method%3DHMAC-SHA1%26oauth_timestamp%3D137131201%26oauth_token%3Dkkk9d7dh3k39sjv7"
        );
    }

    #[test]
    fn header_round_trips() {
        let c = Credentials {
            consumer_key: "ck",
            consumer_secret: "cs",
            token: "t",
            token_secret: "ts",
        };
        let h = authorization(&c, "GET", "http://h/rest/V1/x?a=1", "HMAC-SHA256", 5, "n o");
        let p = parse_header(&h).unwrap();
        assert!(p.contains(&("oauth_nonce".into(), "n o".into())));
        assert!(p.iter().any(|(k, _)| k == "oauth_signature"));
    }
}
