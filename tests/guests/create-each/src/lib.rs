//! Test guest for exactly-once creates: asks for approval, then creates `N` customers with one
//! `customers.create` each (`create-<i>@example.com`, website 1), so a crash or a lost answer
//! can land between any two. Input: `N`.

use mageflow_sdk::approvals::Decision;
use mageflow_sdk::{
    Guest, NewCustomer, Outcome, Trigger, customers, export_workflow, request_approval,
};

struct CreateEach;

impl Guest for CreateEach {
    fn run(trigger: Trigger) -> Result<Outcome, String> {
        let Trigger::Manual(input) = trigger else {
            return Err("manual input only".into());
        };
        let n: u32 = input
            .trim()
            .parse()
            .map_err(|_| format!("input must be a number of customers, got {input:?}"))?;
        match request_approval(&format!("Create {n} customers"), "one create each", None)
            .map_err(|e| format!("{e:?}"))?
        {
            Decision::Approved(_) => {}
            Decision::Rejected((by, why)) => return Err(format!("rejected by {by}: {why}")),
            Decision::Expired => return Err("the approval expired".into()),
        }
        for i in 0..n {
            let new = NewCustomer {
                email: format!("create-{i}@example.com"),
                firstname: "Created".into(),
                lastname: format!("Number{i}"),
                website_id: Some(1),
                group_id: None,
                extra_json: None,
            };
            customers::create(&new, Some("Str0ng!Pass"))
                .map_err(|e| format!("customer {i}: {e:?}"))?;
        }
        Ok(Outcome {
            summary: format!("created {n} customers"),
            output_json: None,
        })
    }
}

export_workflow!(CreateEach);
