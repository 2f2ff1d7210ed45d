//! Workflow files: the shipped ones load (plugins included), and mistakes are refused with
//! the file, the line and the fix.

use std::path::Path;
use std::sync::Arc;

use mageflow_engine::workflow::{Missed, Overlap, Signature, Trigger};
use mageflow_engine::{Engine, Workflow};
use mageflow_magento::{Auth, Connection, MagentoClient};
use mageflow_runtime::Runtime;

fn workflows_dir() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../workflows")
}

#[test]
fn the_shipped_workflows_load_with_their_plugins() {
    // The plugins are built by the test-artifacts build script.
    let _ = mageflow_test_artifacts::ONBOARD_CUSTOMER;
    let all = Workflow::load_dir(&workflows_dir()).unwrap_or_else(|e| panic!("{e}"));
    let names: Vec<&str> = all.iter().map(|w| w.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "customer-watch",
            "group-reassign",
            "offboard-admin",
            "onboard-customer",
            "scim-admin",
            "scim-customers"
        ]
    );
    let runtime = Arc::new(Runtime::new().unwrap());
    let engine = Engine::new(crate::stores::fresh(), runtime);
    let client = Arc::new(
        MagentoClient::new(Connection::new(
            "http://127.0.0.1:9",
            Auth::Bearer("unused".into()),
        ))
        .unwrap(),
    );
    for wf in all {
        let name = wf.name.clone();
        engine
            .add(wf, client.clone())
            .unwrap_or_else(|e| panic!("{name}: {e}"));
    }
    let offboard = engine.workflow("offboard-admin").unwrap();
    assert_eq!(offboard.def.approvals.required, 2);
    assert!(
        offboard
            .def
            .require_approval
            .contains("admin-users.deactivate")
    );
    // Each SCIM root's plugin loads with its own root's grants only.
    for (name, grants) in [
        ("scim-admin", "admin-users:read,admin-users:write,approvals"),
        (
            "scim-customers",
            "customers:read,customers:write,customers:delete,approvals",
        ),
    ] {
        let want = mageflow_runtime::Grants::parse(grants).unwrap();
        assert_eq!(engine.workflow(name).unwrap().def.grants, want, "{name}");
    }
    let watch = engine.workflow("customer-watch").unwrap();
    assert!(matches!(watch.def.trigger, Trigger::Poll { .. }));
    let onboard = engine.workflow("onboard-customer").unwrap();
    assert!(matches!(
        &onboard.def.trigger,
        Trigger::Webhook { signature: Signature::Hmac { secret_env }, .. } if secret_env == "MAGEFLOW_HOOK_SECRET"
    ));
}

fn refused(text: &str) -> String {
    Workflow::parse(Path::new("workflows/bad.toml"), text)
        .unwrap_err()
        .to_string()
}

#[test]
fn mistakes_are_named_with_file_line_and_fix() {
    assert_eq!(
        refused("plugin = \"p.wasm\"\ngrants = [\"customers:read\"]\nschedule = \"x\"\n"),
        "workflows/bad.toml:3: unknown field `schedule`, expected one of `name`, `plugin`, `grants`, `trigger`, `config`, `limits`, `approvals`, `policy`, `retry`, `magento` (see the workflow file reference in the README)"
    );
    assert!(
        refused(
            "plugin = \"p.wasm\"\ngrants = [\n  \"customers:read\",\n  \"customers:wrte\",\n]\n"
        )
        .starts_with("workflows/bad.toml:4: unknown grant \"customers:wrte\""),
    );
    assert_eq!(
        refused("plugin = \"p.wasm\"\n[trigger]\nkind = \"cron\"\nschedule = \"every day\"\n"),
        "workflows/bad.toml:4: schedule \"every day\" is not a cron expression (Invalid expression: Invalid cron expression.); it has seconds first: \"sec min hour day month weekday\""
            .replace("(Invalid expression: Invalid cron expression.)", &cron_error("every day"))
    );
    assert_eq!(
        refused("plugin = \"p.wasm\"\n[trigger]\nkind = \"hourly\"\n"),
        "workflows/bad.toml:3: trigger kind \"hourly\" must be \"manual\", \"cron\", \"webhook\" or \"poll\""
    );
    assert!(
        refused("plugin = \"p.wasm\"\n[trigger]\nkind = \"webhook\"\n")
            .contains("unsigned webhooks are refused")
    );
    assert_eq!(
        refused("plugin = \"p.wasm\"\n[policy]\nrequire-approval = [\"customers.get\"]\n"),
        "workflows/bad.toml:3: require-approval lists \"customers.get\", which is not a write call; gateable calls: customers.create, customers.update, customers.delete, admin-users.create, admin-users.update, admin-users.deactivate, admin-users.delete, bulk.submit-updates"
    );
    assert_eq!(
        refused("plugin = \"p.wasm\"\n[approvals]\napprovers = [\"a\"]\nrequired = 2\n"),
        "workflows/bad.toml:4: required is 2 but only 1 approvers are listed"
    );
    assert!(
        refused("plugin = \"p.wasm\"\n[limits]\nwall-time = \"soon\"\n")
            .starts_with("workflows/bad.toml:3: wall-time \"soon\" is not a duration")
    );
    assert!(refused("grants = []\n").contains("missing field `plugin`"));
    assert!(
        refused("plugin = \"p.wasm\"\n[magento]\nurl = \"http://m\"\npassword = \"hunter2\"\n")
            .starts_with("workflows/bad.toml:4: unknown field `password`, expected one of `url`, `store`, `admin-user-env`")
    );
    assert_eq!(
        refused("plugin = \"p.wasm\"\n[magento]\ntimeout = \"soon\"\n"),
        "workflows/bad.toml:3: [magento] timeout = \"soon\": write a duration such as 30s or 2m"
    );
}

fn cron_error(expr: &str) -> String {
    use std::str::FromStr;
    format!("({})", cron::Schedule::from_str(expr).unwrap_err())
}

#[test]
fn cron_triggers_read_their_policies() {
    let wf = Workflow::parse(
        Path::new("nightly.toml"),
        "plugin = \"p.wasm\"\n[trigger]\nkind = \"cron\"\nschedule = \"0 30 2 * * *\"\ntimezone = \"+02:00\"\nmissed = \"all-up-to-5\"\noverlap = \"allow\"\n",
    )
    .unwrap();
    assert_eq!(wf.name, "nightly");
    assert_eq!(
        wf.trigger,
        Trigger::Cron {
            schedule: "0 30 2 * * *".into(),
            utc_offset_secs: 7200,
            missed: Missed::All(5),
            overlap: Overlap::Allow,
        }
    );
    assert!(
        Workflow::parse(Path::new("x.toml"), "plugin = \"p\"\n[trigger]\nkind = \"cron\"\nschedule = \"0 0 * * * *\"\nmissed = \"some\"\n")
            .unwrap_err()
            .to_string()
            .contains("\"skip\", \"once\" or \"all-up-to-N\"")
    );
}

/// Issue 11: `[retry]` is read and checked like every other section.
#[test]
fn a_retry_policy_is_read_and_its_mistakes_are_named() {
    let wf = Workflow::parse(
        Path::new("workflows/r.toml"),
        "plugin = \"p.wasm\"\n[retry]\ninitial-interval = \"2s\"\nmax-interval = \"1m\"\nmax-elapsed = \"1h\"\nmax-attempts = 5\n",
    )
    .unwrap();
    assert_eq!(wf.retry.initial_interval, std::time::Duration::from_secs(2));
    assert_eq!(wf.retry.max_interval, std::time::Duration::from_secs(60));
    assert_eq!(wf.retry.max_elapsed, std::time::Duration::from_secs(3600));
    assert_eq!(wf.retry.max_attempts, 5);
    let defaults = Workflow::parse(Path::new("workflows/d.toml"), "plugin = \"p.wasm\"\n").unwrap();
    assert_eq!(defaults.retry, mageflow_engine::RetryPolicy::default());
    assert_eq!(
        refused("plugin = \"p.wasm\"\n[retry]\nmax-elapsed = \"soon\"\n"),
        "workflows/bad.toml:3: max-elapsed \"soon\" is not a duration: write e.g. \"1s\", \"5m\" or \"24h\""
    );
    assert_eq!(
        refused("plugin = \"p.wasm\"\n[retry]\nbackoff = 0.5\n"),
        "workflows/bad.toml:3: backoff 0.5 must be a number of at least 1.0"
    );
    assert!(
        refused("plugin = \"p.wasm\"\n[retry]\ninitial-interval = \"10m\"\n")
            .contains("max-interval (300s) is shorter than initial-interval (600s)")
    );
}
