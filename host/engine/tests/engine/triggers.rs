//! The trigger loops under paused tokio time: a cron workflow fires once per tick, each run
//! it queues goes to the workers once, and nothing fires for the first start.

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use mageflow_engine::{Engine, Workflow};
use mageflow_magento::{Auth, Connection, MagentoClient};
use mageflow_runtime::Runtime;

/// 2026-11-27 00:00:00 UTC, a whole minute.
const T0: u64 = 1_795_737_600;

fn cron_engine() -> Arc<Engine> {
    let engine = Engine::new(crate::stores::fresh(), Arc::new(Runtime::new().unwrap()));
    let text = format!(
        "name = \"tick\"\nplugin = {:?}\ngrants = [\"customers:read\"]\n\
         [trigger]\nkind = \"cron\"\nschedule = \"0 * * * * *\"\noverlap = \"allow\"\n",
        mageflow_test_artifacts::ECHO
    );
    let client = Arc::new(
        MagentoClient::new(Connection::new(
            "http://127.0.0.1:9",
            Auth::Bearer("x".into()),
        ))
        .unwrap(),
    );
    engine
        .add(
            Workflow::parse(Path::new("tick.toml"), &text).unwrap(),
            client,
        )
        .unwrap();
    Arc::new(engine)
}

#[tokio::test(start_paused = true)]
async fn the_loop_fires_each_cron_tick_once_and_hands_its_run_to_the_workers() {
    let engine = cron_engine();
    let dispatched = Arc::new(Mutex::new(Vec::new()));
    let (looping, got) = (engine.clone(), dispatched.clone());
    let start = tokio::time::Instant::now();
    let task = tokio::spawn(async move {
        let clock = move || T0 + start.elapsed().as_secs();
        let dispatch = move |run| got.lock().unwrap().push(run);
        looping.run_triggers(&clock, &dispatch).await;
    });
    // Two and a half minutes of paused time: ticks at +60 s and +120 s.
    tokio::time::sleep(Duration::from_secs(150)).await;
    task.abort();
    let runs = engine.store().runs(None).unwrap();
    let fired: Vec<u64> = runs
        .iter()
        .map(|r| r.trigger["at"].as_u64().unwrap())
        .collect();
    assert_eq!(fired, [T0 + 60, T0 + 120]);
    let ids: Vec<u64> = runs.iter().map(|r| r.id).collect();
    assert_eq!(*dispatched.lock().unwrap(), ids, "each run dispatched once");
}
