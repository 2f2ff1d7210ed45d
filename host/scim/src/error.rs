//! The Error schema (RFC 7644 §3.12): a status, an optional `scimType`, and a detail that
//! tells the identity provider's operator what to do.

use serde_json::{Value, json};

/// The `scimType` of a 400 or 409 (RFC 7644 §3.12, table 9).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScimType {
    /// The filter does not parse, or names an operator the attribute cannot take.
    InvalidFilter,
    /// A value is not unique (`userName`, a group's `displayName`).
    Uniqueness,
    /// A read-only or immutable attribute was changed.
    Mutability,
    /// The request body is not a SCIM message.
    InvalidSyntax,
    /// A PATCH path does not parse or names nothing that can exist.
    InvalidPath,
    /// A PATCH path's filter matched nothing.
    NoTarget,
    /// A value is of the wrong type, or breaks a constraint.
    InvalidValue,
}

impl ScimType {
    /// Its name on the wire.
    pub fn name(self) -> &'static str {
        match self {
            ScimType::InvalidFilter => "invalidFilter",
            ScimType::Uniqueness => "uniqueness",
            ScimType::Mutability => "mutability",
            ScimType::InvalidSyntax => "invalidSyntax",
            ScimType::InvalidPath => "invalidPath",
            ScimType::NoTarget => "noTarget",
            ScimType::InvalidValue => "invalidValue",
        }
    }
}

/// A refusal, as the Error schema carries it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{status} {}: {detail}", scim_type.map_or("error", ScimType::name))]
pub struct ScimError {
    /// The HTTP status.
    pub status: u16,
    /// What kind of 400 or 409 it is.
    pub scim_type: Option<ScimType>,
    /// What went wrong and what to do about it.
    pub detail: String,
}

impl ScimError {
    /// A refusal with `status` and no `scimType`.
    pub fn new(status: u16, detail: impl Into<String>) -> ScimError {
        ScimError {
            status,
            scim_type: None,
            detail: detail.into(),
        }
    }

    /// A 400 of `kind`.
    pub fn bad(kind: ScimType, detail: impl Into<String>) -> ScimError {
        ScimError {
            status: 400,
            scim_type: Some(kind),
            detail: detail.into(),
        }
    }

    /// A 409 `uniqueness`.
    pub fn conflict(detail: impl Into<String>) -> ScimError {
        ScimError {
            status: 409,
            scim_type: Some(ScimType::Uniqueness),
            detail: detail.into(),
        }
    }

    /// A 404.
    pub fn not_found(detail: impl Into<String>) -> ScimError {
        ScimError::new(404, detail)
    }

    /// The Error message; `status` is a string, as RFC 7644 §3.12 has it.
    pub fn body(&self) -> Value {
        let mut body = json!({
            "schemas": [crate::ERROR],
            "status": self.status.to_string(),
            "detail": self.detail,
        });
        if let Some(t) = self.scim_type {
            body["scimType"] = json!(t.name());
        }
        body
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_body_has_a_string_status_and_the_scim_type() {
        let e = ScimError::bad(ScimType::InvalidFilter, "no operator after userName");
        assert_eq!(
            e.body(),
            json!({
                "schemas": ["urn:ietf:params:scim:api:messages:2.0:Error"],
                "status": "400",
                "detail": "no operator after userName",
                "scimType": "invalidFilter",
            })
        );
        assert!(ScimError::not_found("x").body().get("scimType").is_none());
    }
}
