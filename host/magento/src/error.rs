//! One error type for everything the client can meet, keeping Magento's own words.

use serde_json::Value;

/// A result of a Magento call.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// An error answer from Magento: status, message template and parameters, as Magento sent them.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Refusal {
    /// HTTP method of the request.
    pub method: String,
    /// API path of the request (without query string).
    pub path: String,
    /// HTTP status.
    pub status: u16,
    /// The message template (`"%fieldName" is required. Enter and try again.`).
    pub template: String,
    /// Its placeholder values (object for named, array for positional).
    pub parameters: Option<Value>,
    /// Inner errors of an aggregate answer, each `(template, parameters)`.
    pub errors: Vec<(String, Option<Value>)>,
}

impl Refusal {
    /// Reads Magento's error body; a body that is not Magento's shape keeps its text.
    pub fn from_body(method: &str, path: &str, status: u16, body: &[u8]) -> Refusal {
        let parsed: Option<Value> = serde_json::from_slice(body).ok();
        let (template, parameters, errors) = match parsed.as_ref().and_then(Value::as_object) {
            Some(obj) if obj.get("message").is_some_and(Value::is_string) => (
                obj["message"].as_str().unwrap_or_default().to_owned(),
                obj.get("parameters").cloned(),
                obj.get("errors")
                    .and_then(Value::as_array)
                    .map(|list| {
                        list.iter()
                            .map(|e| {
                                (
                                    e.get("message")
                                        .and_then(Value::as_str)
                                        .unwrap_or_default()
                                        .to_owned(),
                                    e.get("parameters").cloned(),
                                )
                            })
                            .collect()
                    })
                    .unwrap_or_default(),
            ),
            _ => (
                String::from_utf8_lossy(body)
                    .trim()
                    .chars()
                    .take(300)
                    .collect(),
                None,
                Vec::new(),
            ),
        };
        Refusal {
            method: method.to_owned(),
            path: path.to_owned(),
            status,
            template,
            parameters,
            errors,
        }
    }

    /// The message with its placeholders filled in, every inner error included.
    pub fn rendered(&self) -> String {
        let mut out = render(&self.template, self.parameters.as_ref());
        if !self.errors.is_empty() {
            let inner: Vec<String> = self
                .errors
                .iter()
                .map(|(t, p)| render(t, p.as_ref()))
                .collect();
            out = format!("{out} {}", inner.join(" "));
        }
        out
    }

    /// The ACL resource a 401 names (`Magento_Customer::manage`).
    pub fn missing_resource(&self) -> Option<&str> {
        (self.status == 401)
            .then(|| self.param("resources"))
            .flatten()
    }

    /// The field a 400 or 404 names (`fieldName`, or `field_name`).
    pub fn field(&self) -> Option<&str> {
        self.param("fieldName").or_else(|| self.param("field_name"))
    }

    fn param(&self, key: &str) -> Option<&str> {
        self.parameters.as_ref()?.get(key)?.as_str()
    }

    /// Whether Magento's router found no route (`Request does not match any route.`).
    pub fn is_no_route(&self) -> bool {
        self.status == 404 && self.template == "Request does not match any route."
    }
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} {} answered {}: {}",
            self.method,
            self.path,
            self.status,
            self.rendered()
        )?;
        if let Some(r) = self.missing_resource() {
            write!(f, " (the credentials lack the ACL resource {r})")?;
        } else if let Some(field) = self.field().filter(|_| self.status == 400) {
            write!(f, " (field: {field})")?;
        }
        Ok(())
    }
}

/// Fills `%name` and `%1` placeholders.
pub fn render(template: &str, parameters: Option<&Value>) -> String {
    let plain = |v: &Value| match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    let mut out = template.to_owned();
    match parameters {
        Some(Value::Object(map)) => {
            // Longest names first, so `%field` does not eat `%fieldName`.
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort_by_key(|k| std::cmp::Reverse(k.len()));
            for k in keys {
                out = out.replace(&format!("%{k}"), &plain(&map[k]));
            }
        }
        Some(Value::Array(list)) => {
            for (i, v) in list.iter().enumerate().rev() {
                out = out.replace(&format!("%{}", i + 1), &plain(v));
            }
        }
        _ => {}
    }
    out
}

/// Everything that can go wrong talking to Magento.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Magento answered with an error.
    #[error("{0}")]
    Refused(Box<Refusal>),
    /// The admin token service answered the 2FA refusal.
    #[error("admin token login is blocked by two-factor authentication: use an integration token")]
    TwoFactor,
    /// `/V1/users` or `/V1/roles` answered Magento's no-route 404.
    #[error(
        "the admin-user REST endpoints are not installed on this Magento (they come from an extension)"
    )]
    AdminUsersApiMissing,
    /// A store-scoped request found no route: the store code does not exist.
    #[error("Magento has no store view with code {code:?}: check the store code of the connection")]
    UnknownStore {
        /// The store code of the connection.
        code: String,
    },
    /// A check the client makes before sending failed.
    #[error("{field}: {message}")]
    Invalid {
        /// What was checked (`password`, `website_id`, `role_id`, ...).
        field: String,
        /// Why it failed, in Magento's words where Magento has them.
        message: String,
    },
    /// The request did not get an answer.
    #[error("{method} {path}: {source}")]
    Transport {
        /// HTTP method.
        method: String,
        /// API path.
        path: String,
        /// The cause.
        #[source]
        source: reqwest::Error,
    },
    /// No answer within the connection's timeout.
    #[error("{method} {path}: no answer within {after:?}")]
    Timeout {
        /// HTTP method.
        method: String,
        /// API path.
        path: String,
        /// The timeout.
        after: std::time::Duration,
    },
    /// The answer was not the JSON expected.
    #[error("{method} {path}: unexpected answer: {detail}")]
    Decode {
        /// HTTP method.
        method: String,
        /// API path.
        path: String,
        /// What was wrong.
        detail: String,
    },
    /// Bulk operations did not finish.
    #[error(
        "bulk {uuid}: {open} operations still open after {secs} s: is the async.operations.all consumer running?"
    )]
    BulkStalled {
        /// The bulk uuid.
        uuid: String,
        /// Operations still open.
        open: usize,
        /// Seconds waited.
        secs: u64,
    },
    /// The connection settings are incomplete or contradictory.
    #[error("{0}")]
    Config(String),
    /// The caller's guard stopped the request before it was sent (see [`crate::guarded`]).
    #[error("not sent: {0}")]
    Halted(String),
}

impl Error {
    /// Magento's refusal, if this is one.
    pub fn refusal(&self) -> Option<&Refusal> {
        match self {
            Error::Refused(r) => Some(r),
            _ => None,
        }
    }

    /// The HTTP status Magento answered, if it answered.
    pub fn status(&self) -> Option<u16> {
        self.refusal().map(|r| r.status)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_named_positional_and_aggregate_errors() {
        let r = Refusal::from_body(
            "GET",
            "/V1/customers/search",
            400,
            br#"{"message":"\"%fieldName\" is required. Enter and try again.","parameters":{"fieldName":"searchCriteria"}}"#,
        );
        assert_eq!(
            r.rendered(),
            "\"searchCriteria\" is required. Enter and try again."
        );
        assert_eq!(r.field(), Some("searchCriteria"));
        assert!(r.to_string().ends_with("(field: searchCriteria)"));
        let p = Refusal::from_body(
            "POST",
            "/V1/customers",
            400,
            br#"{"message":"The password needs at least %1 characters.","parameters":[8]}"#,
        );
        assert_eq!(p.rendered(), "The password needs at least 8 characters.");
        let a = Refusal::from_body(
            "POST",
            "/V1/users",
            400,
            br#"{"message":"One or more input exceptions have occurred.","errors":[{"message":"Your password must be at least %1 characters.","parameters":[7]},{"message":"Your password must include both numeric and alphabetic characters."}]}"#,
        );
        assert!(
            a.rendered()
                .contains("at least 7 characters. Your password must include"),
            "{}",
            a.rendered()
        );
    }

    #[test]
    fn a_401_names_the_missing_resource() {
        let r = Refusal::from_body(
            "DELETE",
            "/V1/customers/4",
            401,
            br#"{"message":"The consumer isn't authorized to access %resources.","parameters":{"resources":"Magento_Customer::delete"}}"#,
        );
        assert_eq!(r.missing_resource(), Some("Magento_Customer::delete"));
        assert!(
            r.to_string()
                .contains("lack the ACL resource Magento_Customer::delete")
        );
    }

    #[test]
    fn a_non_magento_body_keeps_its_text() {
        let r = Refusal::from_body("GET", "/V1/x", 502, b"<html>Bad Gateway</html>");
        assert_eq!(r.template, "<html>Bad Gateway</html>");
    }
}
