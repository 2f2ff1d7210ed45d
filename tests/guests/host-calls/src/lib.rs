//! Test and benchmark guest: makes N host calls. Input `get ID N` calls `customers.get(ID)` N
//! times; `now N` calls `runtime.now()` N times. The outcome reports how many calls were made.

use mageflow_sdk::{Guest, Outcome, Trigger, customers, export_workflow, runtime};

struct Calls;

impl Guest for Calls {
    fn run(trigger: Trigger) -> Result<Outcome, String> {
        let Trigger::Manual(input) = trigger else {
            return Err("manual input only".into());
        };
        let words: Vec<&str> = input.split_whitespace().collect();
        let made = match words.as_slice() {
            ["get", id, n] => {
                let id: u64 = id.parse().map_err(|_| "bad id")?;
                let n: u32 = n.parse().map_err(|_| "bad count")?;
                for _ in 0..n {
                    customers::get(id).map_err(|e| format!("{e:?}"))?;
                }
                n
            }
            ["now", n] => {
                let n: u32 = n.parse().map_err(|_| "bad count")?;
                let mut last = 0;
                for _ in 0..n {
                    last = std::hint::black_box(runtime::now());
                }
                std::hint::black_box(last);
                n
            }
            _ => {
                return Err(format!(
                    "input must be `get ID N` or `now N`, got {input:?}"
                ));
            }
        };
        Ok(Outcome {
            summary: format!("{made} calls"),
            output_json: None,
        })
    }
}

export_workflow!(Calls);
