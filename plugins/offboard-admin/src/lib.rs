//! offboard-admin: finds an admin user by email, asks for approval, and deactivates them (they
//! can no longer log in; the account stays for the audit trail).
//!
//! Input (manual JSON): `{"email": "ops@example.com", "reason": "left the company"}`

use mageflow_sdk::approvals::Decision;
use mageflow_sdk::{Guest, Outcome, Trigger, admin_users, export_workflow, info, request_approval};
use serde_json::Value;

/// Reads `(email, reason)` from the input.
pub fn parse_input(json: &str) -> Result<(String, String), String> {
    let v: Value = serde_json::from_str(json).map_err(|e| format!("input is not JSON: {e}"))?;
    let email = v
        .get("email")
        .and_then(Value::as_str)
        .filter(|s| s.contains('@'))
        .ok_or("input has no email")?;
    let reason = v
        .get("reason")
        .and_then(Value::as_str)
        .unwrap_or("offboarding");
    Ok((email.to_owned(), reason.to_owned()))
}

struct Offboard;

fn err(e: impl std::fmt::Debug) -> String {
    format!("{e:?}")
}

impl Guest for Offboard {
    fn run(trigger: Trigger) -> Result<Outcome, String> {
        let Trigger::Manual(input) = trigger else {
            return Err("offboard-admin runs on a manual input".into());
        };
        let (email, reason) = parse_input(&input)?;
        let Some(user) = admin_users::find_by_email(&email).map_err(err)? else {
            return Ok(Outcome {
                summary: format!("no admin user has the email {email}; nothing to do"),
                output_json: None,
            });
        };
        if !user.is_active {
            return Ok(Outcome {
                summary: format!("admin user {} is already inactive", user.username),
                output_json: None,
            });
        }
        let decision = request_approval(
            &format!("Deactivate admin user {}", user.username),
            &format!(
                "{} {} <{}>, role {}: {reason}",
                user.firstname, user.lastname, user.email, user.role_id
            ),
            None,
        )
        .map_err(err)?;
        match decision {
            Decision::Approved(by) => {
                let done = admin_users::deactivate(user.id).map_err(err)?;
                info(&format!("deactivated {} (approved by {by})", done.username));
                Ok(Outcome {
                    summary: format!("deactivated admin user {}", done.username),
                    output_json: None,
                })
            }
            Decision::Rejected((by, why)) => Ok(Outcome {
                summary: format!("kept {} active: rejected by {by} ({why})", user.username),
                output_json: None,
            }),
            Decision::Expired => Err(format!(
                "the approval to deactivate {} expired",
                user.username
            )),
        }
    }
}

export_workflow!(Offboard);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn needs_an_email() {
        assert_eq!(
            parse_input(r#"{"email":"ops@example.com"}"#).unwrap(),
            ("ops@example.com".into(), "offboarding".into())
        );
        assert!(parse_input(r#"{"email":"nobody"}"#).is_err());
        assert!(
            parse_input("not json")
                .unwrap_err()
                .starts_with("input is not JSON")
        );
    }
}
