//! Test and benchmark guest: makes N host calls. Input `get ID N` calls `customers.get(ID)` N
//! times; `now N` calls `runtime.now()` N times. The outcome reports how many calls were made.
//! Input `clock` reports, as JSON, what the run sees of time and randomness: WASI's wall clock,
//! `runtime.now`, WASI's monotonic clock across a short wait, and 16 random bytes. Input
//! `count` counts its runs in the workflow's state.

use mageflow_sdk::{Guest, Outcome, Trigger, customers, export_workflow, runtime};

struct Calls;

impl Guest for Calls {
    fn run(trigger: Trigger) -> Result<Outcome, String> {
        let Trigger::Manual(input) = trigger else {
            return Err("manual input only".into());
        };
        if input == "clock" {
            return clock();
        }
        if input == "count" {
            // Counts its own runs in the workflow's state.
            let n: u64 = runtime::state_get("count")
                .and_then(|v| v.parse().ok())
                .unwrap_or(0)
                + 1;
            runtime::state_set("count", &n.to_string());
            return Ok(Outcome {
                summary: format!("run {n}"),
                output_json: None,
            });
        }
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

fn clock() -> Result<Outcome, String> {
    let wall = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_err(|e| e.to_string())?;
    let start = std::time::Instant::now();
    let mut spin = 0u64;
    for i in 0..10_000u64 {
        spin = std::hint::black_box(spin.wrapping_add(i));
    }
    let elapsed = start.elapsed();
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes).map_err(|e| e.to_string())?;
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    Ok(Outcome {
        summary: "clock".into(),
        output_json: Some(format!(
            "{{\"wall_secs\":{},\"wall_nanos\":{},\"runtime_now\":{},\"elapsed_nanos\":{},\"random\":\"{hex}\"}}",
            wall.as_secs(),
            wall.subsec_nanos(),
            runtime::now(),
            elapsed.as_nanos(),
        )),
    })
}

export_workflow!(Calls);
