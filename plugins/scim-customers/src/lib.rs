//! scim-customers: the plugin of the SCIM root `/scim/v2/customers`. It carries out one change
//! to a storefront customer (create, update, delete), after an approval when the root asked
//! for one. It imports customers and approvals only. See `scim-bridge` for the input.

use mageflow_sdk::{Guest, Outcome, Trigger, customers, export_workflow};
use scim_bridge::{Done, Step, carry_out, customer, foreign, merge, refusal};
use serde_json::json;

/// One step against Magento's customers.
pub fn exec(step: &Step, _created: Option<u64>) -> Result<Done, String> {
    Ok(match step {
        Step::CreateCustomer(c) => {
            let c = customers::create(c, None).map_err(refusal)?;
            let line = format!("created customer {} (id {})", c.email, c.id);
            (customer(&c), line, None)
        }
        Step::UpdateCustomer(id, f) => {
            let c = customers::update(*id, &merge(f)).map_err(refusal)?;
            let line = format!("updated customer {}", c.email);
            (customer(&c), line, None)
        }
        Step::DeleteCustomer(id) => {
            customers::delete(*id).map_err(refusal)?;
            (
                json!({"deleted": id}),
                format!("deleted customer {id}"),
                None,
            )
        }
        other => return Err(foreign(other)),
    })
}

struct ScimCustomers;

impl Guest for ScimCustomers {
    fn run(trigger: Trigger) -> Result<Outcome, String> {
        carry_out(trigger, exec)
    }
}

export_workflow!(ScimCustomers);

#[cfg(test)]
mod tests {
    use super::*;
    use mageflow_sdk::testing::Fake;
    use serde_json::Value;

    #[test]
    fn creates_and_moves_a_customer_and_refuses_admin_steps() {
        let input = json!({"resource": "s1", "steps": [
            {"do": "create-customer", "email": "c@x.test", "firstname": "C", "lastname": "D", "group_id": 1, "website_id": 1}
        ]})
        .to_string();
        let (out, _) = Fake::new().run(|| ScimCustomers::run(Trigger::Manual(input)));
        let out: Value = serde_json::from_str(&out.unwrap().output_json.unwrap()).unwrap();
        assert_eq!(out["customer"]["email"], "c@x.test");
        let input =
            json!({"resource": "s1", "steps": [{"do": "deactivate-admin", "id": 1}]}).to_string();
        let (out, _) = Fake::new().run(|| ScimCustomers::run(Trigger::Manual(input)));
        assert!(
            out.unwrap_err()
                .contains("each SCIM root has its own plugin")
        );
    }
}
