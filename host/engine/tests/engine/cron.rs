//! Cron triggers with a controlled clock: next fire times survive a restart without losing or
//! doubling a tick, missed ticks follow each policy, and overlap = skip waits for the last run.

use std::path::Path;
use std::sync::Arc;

use mageflow_engine::{Engine, Workflow};
use mageflow_magento::{Auth, Connection, MagentoClient};
use mageflow_runtime::Runtime;
use mageflow_store::{Status, Store};

use crate::stores;

/// 2026-11-27 00:00:00 UTC, a whole minute.
const T0: u64 = 1_795_737_600;

fn runtime() -> Arc<Runtime> {
    static RUNTIME: std::sync::OnceLock<Arc<Runtime>> = std::sync::OnceLock::new();
    RUNTIME
        .get_or_init(|| Arc::new(Runtime::new().unwrap()))
        .clone()
}

fn engine(store: Store, missed: &str, overlap: &str) -> Engine {
    let engine = Engine::new(store, runtime());
    let text = format!(
        "name = \"tick\"\nplugin = {:?}\ngrants = [\"customers:read\"]\n\
         [trigger]\nkind = \"cron\"\nschedule = \"0 * * * * *\"\nmissed = \"{missed}\"\noverlap = \"{overlap}\"\n",
        mageflow_test_artifacts::ECHO
    );
    let wf = Workflow::parse(Path::new("tick.toml"), &text).unwrap();
    let client = Arc::new(
        MagentoClient::new(Connection::new(
            "http://127.0.0.1:9",
            Auth::Bearer("x".into()),
        ))
        .unwrap(),
    );
    engine.add(wf, client).unwrap();
    engine
}

fn ticks(engine: &Engine) -> Vec<u64> {
    engine
        .store()
        .runs(None)
        .unwrap()
        .iter()
        .map(|r| r.trigger["at"].as_u64().unwrap())
        .collect()
}

fn finish_all(engine: &Engine) {
    for r in engine.store().runs(None).unwrap() {
        engine
            .store()
            .update_run(r.id, |r| r.status = Status::Succeeded)
            .unwrap();
    }
}

#[test]
fn ticks_fire_once_and_a_restart_neither_loses_nor_doubles_one() {
    let place = stores::Place::new("cron");
    {
        let e = engine(place.open(), "skip", "allow");
        assert!(
            e.cron_tick("tick", T0 + 5).unwrap().is_empty(),
            "first start owes nothing"
        );
        assert!(e.cron_tick("tick", T0 + 59).unwrap().is_empty());
        assert_eq!(e.cron_tick("tick", T0 + 60).unwrap().len(), 1);
        assert!(
            e.cron_tick("tick", T0 + 61).unwrap().is_empty(),
            "not twice"
        );
        e.store().flush().unwrap();
    }
    // Restart within the same minute, then reach the next tick.
    let e = engine(place.open(), "skip", "allow");
    assert!(
        e.cron_tick("tick", T0 + 62).unwrap().is_empty(),
        "a restart does not double"
    );
    assert_eq!(e.cron_tick("tick", T0 + 121).unwrap().len(), 1, "nor lose");
    assert_eq!(ticks(&e), [T0 + 60, T0 + 120]);
}

fn after_downtime(missed: &str) -> Vec<u64> {
    let e = engine(stores::fresh(), missed, "allow");
    e.cron_tick("tick", T0).unwrap();
    // Down from T0 until T0 + 10 min + 30 s: ticks at +1 .. +10 min were missed, the one at
    // +10 min is 30 s late (within the grace).
    e.cron_tick("tick", T0 + 630).unwrap();
    ticks(&e)
}

#[test]
fn missed_ticks_follow_the_policy() {
    assert_eq!(
        after_downtime("skip"),
        [T0 + 600],
        "only the tick still on time"
    );
    assert_eq!(
        after_downtime("once"),
        [T0 + 600],
        "one run for all of them"
    );
    assert_eq!(
        after_downtime("all-up-to-4"),
        [T0 + 420, T0 + 480, T0 + 540, T0 + 600],
        "the latest four"
    );
    let e = engine(stores::fresh(), "skip", "allow");
    e.cron_tick("tick", T0).unwrap();
    e.cron_tick("tick", T0 + 3600).unwrap();
    assert_eq!(ticks(&e), [T0 + 3600]);
}

#[test]
fn overlap_skip_waits_for_the_previous_run() {
    let e = engine(stores::fresh(), "skip", "skip");
    e.cron_tick("tick", T0).unwrap();
    assert_eq!(e.cron_tick("tick", T0 + 60).unwrap().len(), 1);
    assert!(
        e.cron_tick("tick", T0 + 120).unwrap().is_empty(),
        "the first run is unfinished"
    );
    finish_all(&e);
    assert_eq!(e.cron_tick("tick", T0 + 180).unwrap().len(), 1);
    let allow = engine(stores::fresh(), "skip", "allow");
    allow.cron_tick("tick", T0).unwrap();
    allow.cron_tick("tick", T0 + 60).unwrap();
    assert_eq!(allow.cron_tick("tick", T0 + 120).unwrap().len(), 1);
}
