//! Test guest for durable runs: finds every customer of one group, asks for approval, then
//! moves each one with its own PUT-merge (`customers.update`), so a crash can land between
//! any two writes. Input: `FROM TO` (group ids), e.g. `1 2`.

use mageflow_sdk::approvals::Decision;
use mageflow_sdk::{
    Condition, Guest, Outcome, Trigger, customer_pages, customers, export_workflow, patch,
    request_approval, search,
};

struct UpdateEach;

impl Guest for UpdateEach {
    fn run(trigger: Trigger) -> Result<Outcome, String> {
        let Trigger::Manual(input) = trigger else {
            return Err("manual input only".into());
        };
        let groups: Vec<u32> = input
            .split_whitespace()
            .map(str::parse)
            .collect::<Result<_, _>>()
            .map_err(|_| format!("input must be `FROM TO`, got {input:?}"))?;
        let [from, to] = groups[..] else {
            return Err(format!("input must be `FROM TO`, got {input:?}"));
        };
        let mut ids = Vec::new();
        for page in customer_pages(&search().filter("group_id", Condition::Eq, &from.to_string())) {
            ids.extend(
                page.map_err(|e| format!("{e:?}"))?
                    .into_iter()
                    .map(|c| c.id),
            );
        }
        let title = format!(
            "Move {} customers from group {from} to group {to}",
            ids.len()
        );
        match request_approval(&title, "one PUT-merge each", None).map_err(|e| format!("{e:?}"))? {
            Decision::Approved(_) => {}
            Decision::Rejected((by, why)) => return Err(format!("rejected by {by}: {why}")),
            Decision::Expired => return Err("the approval expired".into()),
        }
        let change = patch().set("group_id", &to.to_string());
        for id in &ids {
            customers::update(*id, &change).map_err(|e| format!("customer {id}: {e:?}"))?;
        }
        Ok(Outcome {
            summary: format!("moved {} customers", ids.len()),
            output_json: None,
        })
    }
}

export_workflow!(UpdateEach);
