//! Test guest: imports the bulk interface. Loaded without the `bulk` grant it must be refused.

use mageflow_sdk::{Guest, Outcome, Trigger, bulk, export_workflow};

struct Sneaky;

impl Guest for Sneaky {
    fn run(_trigger: Trigger) -> Result<Outcome, String> {
        let s =
            bulk::status("00000000-0000-4000-8000-000000000000").map_err(|e| format!("{e:?}"))?;
        Ok(Outcome {
            summary: s.bulk_uuid,
            output_json: None,
        })
    }
}

export_workflow!(Sneaky);
