//! Test guest: never returns. The host must stop it at the wall-time limit.

use mageflow_sdk::{Guest, Outcome, Trigger, export_workflow};

struct Spin;

impl Guest for Spin {
    fn run(_trigger: Trigger) -> Result<Outcome, String> {
        let mut n: u64 = 0;
        loop {
            n = std::hint::black_box(n.wrapping_add(1));
        }
    }
}

export_workflow!(Spin);
