//! Injected faults for resilience tests (`POST /__sim/faults`): per-route error status and
//! rate, added latency, dropped connections, optionally only for the next N matching requests.

use serde::{Deserialize, Serialize};

use crate::filter::like;

/// One fault rule. `path` matches the API path after the store prefix (`/V1/customers/5`);
/// `*` is a wildcard.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Fault {
    /// HTTP method to match (any when absent).
    #[serde(default)]
    pub method: Option<String>,
    /// Path pattern, e.g. `/V1/customers/*`.
    pub path: String,
    /// Status to answer instead of the real one (e.g. 503, 429).
    #[serde(default)]
    pub status: Option<u16>,
    /// Fraction of matching requests affected (default 1.0).
    #[serde(default = "always")]
    pub rate: f64,
    /// Extra latency before answering.
    #[serde(default)]
    pub latency_ms: u64,
    /// Close the connection without a response.
    #[serde(default)]
    pub drop: bool,
    /// Apply the request first, then drop or replace its answer: the write lands but the
    /// client never hears of it (the case a create must look up before retrying).
    #[serde(default)]
    pub after: bool,
    /// `Retry-After` seconds to send with the injected status.
    #[serde(default)]
    pub retry_after: Option<u64>,
    /// Affect only this many more requests (unlimited when absent).
    #[serde(default)]
    pub times: Option<u64>,
}

fn always() -> f64 {
    1.0
}

/// What to do to one request.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Action {
    /// Sleep this long first.
    pub latency_ms: u64,
    /// Answer this status instead.
    pub status: Option<u16>,
    /// Drop the connection.
    pub drop: bool,
    /// Handle the request before dropping or replacing its answer.
    pub after: bool,
    /// `Retry-After` header value.
    pub retry_after: Option<u64>,
}

/// Finds the faults that apply to a request and consumes one use of each.
pub fn check(faults: &mut Vec<Fault>, method: &str, path: &str) -> Option<Action> {
    let mut action: Option<Action> = None;
    for f in faults.iter_mut() {
        let method_ok = f
            .method
            .as_deref()
            .is_none_or(|m| m.eq_ignore_ascii_case(method));
        if !method_ok || !like(path, &f.path.replace('*', "%")) || f.times == Some(0) {
            continue;
        }
        if f.rate < 1.0 && rand::random::<f64>() >= f.rate {
            continue;
        }
        if let Some(t) = f.times.as_mut() {
            *t -= 1;
        }
        let a = action.get_or_insert_with(Action::default);
        a.latency_ms += f.latency_ms;
        a.drop |= f.drop;
        a.after |= f.after;
        if f.status.is_some() {
            a.status = f.status;
            a.retry_after = f.retry_after;
        }
    }
    faults.retain(|f| f.times != Some(0));
    action
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fault(json: &str) -> Fault {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn a_counted_fault_wears_off() {
        let mut faults = vec![fault(
            r#"{"method":"GET","path":"/V1/customers/*","status":503,"times":2}"#,
        )];
        assert_eq!(
            check(&mut faults, "GET", "/V1/customers/5").unwrap().status,
            Some(503)
        );
        assert!(check(&mut faults, "PUT", "/V1/customers/5").is_none());
        assert!(check(&mut faults, "GET", "/V1/customers/6").is_some());
        assert!(check(&mut faults, "GET", "/V1/customers/7").is_none());
        assert!(faults.is_empty());
    }

    #[test]
    fn unknown_keys_are_refused() {
        assert!(serde_json::from_str::<Fault>(r#"{"path":"*","sttus":500}"#).is_err());
    }
}
