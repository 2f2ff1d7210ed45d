//! Test guest: reads the customer whose id is the manual input and reports its email; with no
//! input it only logs, so it measures the bare cost of a run. A cron tick is answered with
//! its time.

use mageflow_sdk::{Guest, Outcome, Trigger, customers, export_workflow, info};

struct Echo;

impl Guest for Echo {
    fn run(trigger: Trigger) -> Result<Outcome, String> {
        let input = match trigger {
            Trigger::Manual(input) => input,
            Trigger::Schedule(at) => {
                return Ok(Outcome {
                    summary: format!("tick at {at}"),
                    output_json: None,
                });
            }
            _ => return Err("echo runs by hand or on a schedule".into()),
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
