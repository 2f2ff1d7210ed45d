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
    use mageflow_sdk::testing::{Fake, admin_user};

    const INPUT: &str = r#"{"email":"leaver@example.com","reason":"left the company"}"#;

    #[test]
    fn deactivates_only_after_approval() {
        let fake = Fake::new()
            .with_admin_user(admin_user(4, "leaver", "leaver@example.com"))
            .deciding(Decision::Approved("alice".into()));
        let (out, fake) = fake.run(|| Offboard::run(Trigger::Manual(INPUT.into())));
        assert_eq!(out.unwrap().summary, "deactivated admin user leaver");
        assert!(!fake.admin_user(4).unwrap().is_active);
        assert_eq!(fake.approvals()[0].title, "Deactivate admin user leaver");
        assert!(fake.approvals()[0].summary.ends_with("left the company"));
        assert_eq!(fake.log(), ["deactivated leaver (approved by alice)"]);
    }

    #[test]
    fn a_rejection_keeps_the_user_and_no_decision_is_an_error() {
        let user = admin_user(4, "leaver", "leaver@example.com");
        let fake = Fake::new()
            .with_admin_user(user.clone())
            .deciding(Decision::Rejected(("bob".into(), "still needed".into())));
        let (out, fake) = fake.run(|| Offboard::run(Trigger::Manual(INPUT.into())));
        assert_eq!(
            out.unwrap().summary,
            "kept leaver active: rejected by bob (still needed)"
        );
        assert!(fake.admin_user(4).unwrap().is_active);
        assert!(!fake.calls().contains(&"admin-users.deactivate"));
        let (out, _) = Fake::new()
            .with_admin_user(user)
            .run(|| Offboard::run(Trigger::Manual(INPUT.into())));
        assert!(out.unwrap_err().contains("needs a decision"));
    }

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
