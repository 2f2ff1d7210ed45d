//! Test guest: tries to read a host file through WASI. With no preopened directory it cannot.

use mageflow_sdk::{Guest, Outcome, Trigger, export_workflow};

struct Snoop;

impl Guest for Snoop {
    fn run(_trigger: Trigger) -> Result<Outcome, String> {
        match std::fs::read_to_string("/etc/passwd") {
            Ok(text) => Ok(Outcome {
                summary: format!("read {} bytes of /etc/passwd", text.len()),
                output_json: None,
            }),
            Err(e) => Err(format!("cannot open /etc/passwd: {e}")),
        }
    }
}

export_workflow!(Snoop);
