//! Test guest: allocates without bound. The host must stop it at the memory limit.

use mageflow_sdk::{Guest, Outcome, Trigger, export_workflow};

struct Hog;

impl Guest for Hog {
    fn run(_trigger: Trigger) -> Result<Outcome, String> {
        let mut kept: Vec<Vec<u8>> = Vec::new();
        loop {
            kept.push(vec![1u8; 1 << 20]);
            std::hint::black_box(&kept);
        }
    }
}

export_workflow!(Hog);
