//! Test guest: tries to open a TCP connection through WASI. Sockets are not allowed.

use mageflow_sdk::{Guest, Outcome, Trigger, export_workflow};

struct Dialer;

impl Guest for Dialer {
    fn run(_trigger: Trigger) -> Result<Outcome, String> {
        match std::net::TcpStream::connect("127.0.0.1:9") {
            Ok(_) => Ok(Outcome {
                summary: "connected to 127.0.0.1:9".into(),
                output_json: None,
            }),
            Err(e) => Err(format!("cannot connect: {e}")),
        }
    }
}

export_workflow!(Dialer);
