//! scim-admin: the plugin of the SCIM root `/scim/v2/admin`. It carries out one change to a
//! Magento admin user (create, update, deactivate, delete), after an approval when the root
//! asked for one. It imports admin users and approvals only. See `scim-bridge` for the input.

use mageflow_sdk::{Guest, Outcome, Trigger, admin_users, export_workflow};
use scim_bridge::{Done, Step, admin, carry_out, foreign, merge, password, refusal};
use serde_json::json;

/// One step against Magento's admin users.
pub fn exec(step: &Step, created: Option<u64>) -> Result<Done, String> {
    Ok(match step {
        Step::CreateAdmin(u) => {
            let a = admin_users::create(u, &password()).map_err(refusal)?;
            let line = format!("created admin user {} (id {})", a.username, a.id);
            (admin(&a), line, Some(a.id))
        }
        Step::UpdateAdmin(id, f) => {
            let a = admin_users::update(*id, &merge(f)).map_err(refusal)?;
            let line = format!("updated admin user {}", a.username);
            (admin(&a), line, None)
        }
        Step::DeactivateAdmin(id) => {
            let id = id
                .or(created)
                .ok_or("deactivate-admin names no admin user")?;
            let a = admin_users::deactivate(id).map_err(refusal)?;
            let line = format!("deactivated admin user {}", a.username);
            (admin(&a), line, None)
        }
        Step::DeleteAdmin(id) => {
            admin_users::delete(*id).map_err(refusal)?;
            (
                json!({"deleted": id}),
                format!("deleted admin user {id}"),
                None,
            )
        }
        other => return Err(foreign(other)),
    })
}

struct ScimAdmin;

impl Guest for ScimAdmin {
    fn run(trigger: Trigger) -> Result<Outcome, String> {
        carry_out(trigger, exec)
    }
}

export_workflow!(ScimAdmin);

#[cfg(test)]
mod tests {
    use super::*;
    use mageflow_sdk::approvals::Decision;
    use mageflow_sdk::testing::{Fake, admin_user};
    use serde_json::Value;

    #[test]
    fn a_gated_create_waits_for_its_approval_and_a_rejection_writes_nothing() {
        let input = json!({
            "request": "r1", "resource": "s1",
            "approval": {"title": "Create admin user ann", "summary": "from SCIM", "details": {"role": 1}},
            "steps": [{"do": "create-admin", "username": "ann", "firstname": "Ann", "lastname": "B", "email": "ann@x.test", "role_id": 1}],
        })
        .to_string();
        let (out, fake) = Fake::new()
            .deciding(Decision::Rejected(("bob".into(), "no".into())))
            .run(|| ScimAdmin::run(Trigger::Manual(input.clone())));
        assert!(out.unwrap().output_json.unwrap().contains("rejected"));
        assert!(!fake.calls().contains(&"admin-users.create"));
        let (out, fake) = Fake::new()
            .deciding(Decision::Approved("bob".into()))
            .run(|| ScimAdmin::run(Trigger::Manual(input)));
        let out: Value = serde_json::from_str(&out.unwrap().output_json.unwrap()).unwrap();
        assert_eq!(out["admin"]["username"], "ann");
        assert!(fake.calls().contains(&"admin-users.create"));
    }

    #[test]
    fn deactivation_never_asks_and_refusals_carry_a_scim_status() {
        let input =
            json!({"resource": "s1", "steps": [{"do": "deactivate-admin", "id": 4}]}).to_string();
        let (out, fake) = Fake::new()
            .with_admin_user(admin_user(4, "leaver", "leaver@example.com"))
            .run(|| ScimAdmin::run(Trigger::Manual(input)));
        assert!(
            out.unwrap()
                .summary
                .contains("deactivated admin user leaver")
        );
        assert!(fake.approvals().is_empty());
        let input = json!({"resource": "s1", "steps": [{"do": "update-admin", "id": 9, "set": {"email": "x@y"}}]}).to_string();
        let (out, _) = Fake::new().run(|| ScimAdmin::run(Trigger::Manual(input)));
        assert!(out.unwrap_err().starts_with("scim:404::"));
        let input =
            json!({"resource": "s1", "steps": [{"do": "delete-customer", "id": 9}]}).to_string();
        let (out, _) = Fake::new().run(|| ScimAdmin::run(Trigger::Manual(input)));
        assert!(
            out.unwrap_err()
                .contains("each SCIM root has its own plugin")
        );
    }
}
