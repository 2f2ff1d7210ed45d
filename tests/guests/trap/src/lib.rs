//! Test guest: panics. The host must report the trap and keep serving.

use mageflow_sdk::{Guest, Outcome, Trigger, export_workflow};

struct Boom;

impl Guest for Boom {
    fn run(_trigger: Trigger) -> Result<Outcome, String> {
        panic!("this plugin is broken on purpose")
    }
}

export_workflow!(Boom);
