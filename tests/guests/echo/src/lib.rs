//! Test guest: reads the customer whose id is the manual input and reports its email; with no
//! input it only logs, so it measures the bare cost of a run.

use mageflow_sdk::{Guest, Outcome, Trigger, customers, export_workflow, info};

struct Echo;

impl Guest for Echo {
    fn run(trigger: Trigger) -> Result<Outcome, String> {
        let Trigger::Manual(input) = trigger else {
            return Err("echo runs by hand only".into());
        };
        let Ok(id) = input.trim().parse::<u64>() else {
            info("no customer id given");
            return Ok(Outcome {
                summary: "nothing to do".into(),
                output_json: None,
            });
        };
        let c = customers::get(id).map_err(|e| format!("customers.get({id}) failed: {e:?}"))?;
        info(&format!("customer {id} is {}", c.email));
        Ok(Outcome {
            summary: c.email,
            output_json: None,
        })
    }
}

export_workflow!(Echo);
