//! magento-sim for the CLI's tests.

use magento_sim::{Server, SimConfig};

/// A sim whose first `n` customers are all in group 1 (General).
pub(crate) async fn in_group_1(n: usize) -> Server {
    let server = magento_sim::start(
        SimConfig {
            seed_customers: n,
            ..Default::default()
        },
        "127.0.0.1:0",
    )
    .await
    .expect("sim starts");
    {
        let mut state = server.sim.write();
        let all: Vec<_> = state.all_customers().cloned().collect();
        for mut c in all {
            c.group_id = 1;
            state.put_customer(c);
        }
    }
    server
}
