//! Magento's error bodies.
//!
//! Magento renders every service exception as `{"message": <template>, "errors": [...],
//! "parameters": ...}`: the message is the raw, untranslated template and the values sit in
//! `parameters` (an object for named `%placeholders`, an array for positional `%1`).
//! An aggregate with two or more errors keeps the generic top-level message and lists each error.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};

/// One Magento error answer: status, message template and its parameters.
#[derive(Debug, Clone, PartialEq)]
pub struct MagentoError {
    /// HTTP status Magento maps the exception to.
    pub status: StatusCode,
    /// The raw message template.
    pub message: String,
    /// Named (object) or positional (array) placeholder values.
    pub parameters: Option<Value>,
    /// Inner errors of an aggregate exception (two or more).
    pub errors: Vec<(String, Option<Value>)>,
}

/// Shorthand for results inside request handling.
pub type MResult<T> = Result<T, MagentoError>;

const AGGREGATE: &str = "One or more input exceptions have occurred.";

impl MagentoError {
    /// An error with a plain message.
    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        MagentoError {
            status,
            message: message.into(),
            parameters: None,
            errors: Vec::new(),
        }
    }

    /// A 400 with a plain message.
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, message)
    }

    /// Attaches placeholder values.
    pub fn with(mut self, parameters: Value) -> Self {
        self.parameters = Some(parameters);
        self
    }

    /// `"%fieldName" is required. Enter and try again.` (400).
    pub fn required(field: &str) -> Self {
        Self::bad_request("\"%fieldName\" is required. Enter and try again.")
            .with(json!({ "fieldName": field }))
    }

    /// `"%fieldName" is not supported. ...` (400) for an unknown body field.
    pub fn not_supported(field: &str) -> Self {
        Self::bad_request("\"%fieldName\" is not supported. Correct the field name and try again.")
            .with(json!({ "fieldName": field }))
    }

    /// `No such entity with %fieldName = %fieldValue` (404).
    pub fn no_such_entity(field: &str, value: impl Into<Value>) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "No such entity with %fieldName = %fieldValue",
        )
        .with(json!({ "fieldName": field, "fieldValue": value.into() }))
    }

    /// The ACL refusal (401) naming the resource(s) the caller lacks.
    pub fn unauthorized(resources: &str) -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "The consumer isn't authorized to access %resources.",
        )
        .with(json!({ "resources": resources }))
    }

    /// The router's 404 for any path or method it does not know.
    pub fn no_route() -> Self {
        Self::new(StatusCode::NOT_FOUND, "Request does not match any route.")
    }

    /// The token services' 401 for bad credentials or a locked account.
    pub fn bad_credentials() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "The account sign-in was incorrect or your account is disabled temporarily. Please wait and try again later.",
        )
    }

    /// `Decoding error.` (400) for a body that is not JSON.
    pub fn decoding() -> Self {
        Self::bad_request("Decoding error.")
    }

    /// Folds several input errors the way `AbstractAggregateException` does: one error stands
    /// alone, two or more go under the generic message.
    pub fn aggregate(mut errors: Vec<MagentoError>) -> Option<Self> {
        match errors.len() {
            0 => None,
            1 => errors.pop(),
            _ => Some(MagentoError {
                status: StatusCode::BAD_REQUEST,
                message: AGGREGATE.to_owned(),
                parameters: None,
                errors: errors
                    .into_iter()
                    .map(|e| (e.message, e.parameters))
                    .collect(),
            }),
        }
    }

    /// The JSON body, keys in Magento's order.
    pub fn body(&self) -> Value {
        let mut m = Map::new();
        m.insert("message".into(), Value::String(self.message.clone()));
        if !self.errors.is_empty() {
            let list = self
                .errors
                .iter()
                .map(|(msg, params)| {
                    let mut e = Map::new();
                    e.insert("message".into(), Value::String(msg.clone()));
                    if let Some(p) = params {
                        e.insert("parameters".into(), p.clone());
                    }
                    Value::Object(e)
                })
                .collect();
            m.insert("errors".into(), Value::Array(list));
        }
        if let Some(p) = &self.parameters {
            m.insert("parameters".into(), p.clone());
        }
        Value::Object(m)
    }

    /// The message with its placeholders filled in, for logs and bulk `result_message`s.
    pub fn rendered(&self) -> String {
        let mut out = self.message.clone();
        match &self.parameters {
            Some(Value::Object(map)) => {
                for (k, v) in map {
                    out = out.replace(&format!("%{k}"), &plain(v));
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
}

fn plain(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

impl std::fmt::Display for MagentoError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.status.as_u16(), self.rendered())
    }
}

impl std::error::Error for MagentoError {}

impl IntoResponse for MagentoError {
    fn into_response(self) -> Response {
        crate::http::json_response(self.status, &self.body())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_error_stands_alone_and_two_aggregate() {
        let one = MagentoError::aggregate(vec![MagentoError::required("username")]).unwrap();
        assert_eq!(
            one.body().to_string(),
            r#"{"message":"\"%fieldName\" is required. Enter and try again.","parameters":{"fieldName":"username"}}"#
        );
        let two = MagentoError::aggregate(vec![
            MagentoError::required("username"),
            MagentoError::required("password"),
        ])
        .unwrap();
        assert_eq!(
            two.body().to_string(),
            r#"{"message":"One or more input exceptions have occurred.","errors":[{"message":"\"%fieldName\" is required. Enter and try again.","parameters":{"fieldName":"username"}},{"message":"\"%fieldName\" is required. Enter and try again.","parameters":{"fieldName":"password"}}]}"#
        );
    }

    #[test]
    fn rendering_fills_named_and_positional_placeholders() {
        let e = MagentoError::no_such_entity("customerId", 7);
        assert_eq!(e.rendered(), "No such entity with customerId = 7");
        let p = MagentoError::bad_request("The password needs at least %1 characters.")
            .with(json!([8]));
        assert_eq!(p.rendered(), "The password needs at least 8 characters.");
    }
}
