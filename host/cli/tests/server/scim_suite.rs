//! The SCIM roots against a real peer test suite: python-scim's scim2-tester, pinned in
//! `tests/scim/requirements.txt` and installed into a venv in the target directory the first
//! time. It discovers each root, then creates, reads, lists, replaces, patches and deletes
//! users and groups with random values; every check must pass (no ERROR or CRITICAL).

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::scim::{OKTA, setup};

/// A venv with the pinned scim2-tester.
fn tester() -> PathBuf {
    let requirements =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/scim/requirements.txt");
    let venv = Path::new(env!("CARGO_TARGET_TMPDIR")).join("scim2-tester");
    let python = venv.join("bin").join("python");
    let stamp = venv.join("requirements.txt");
    let wanted = std::fs::read(&requirements).unwrap();
    if std::fs::read(&stamp).ok().as_ref() == Some(&wanted) && python.exists() {
        return python;
    }
    eprintln!("installing scim2-tester into {}", venv.display());
    let made = Command::new("python3")
        .args(["-m", "venv"])
        .arg(&venv)
        .status()
        .expect("python3 runs");
    assert!(
        made.success(),
        "python3 -m venv failed: the SCIM suite needs Python 3 with venv (Debian: apt-get install python3-venv)"
    );
    let o = Command::new(venv.join("bin").join("pip"))
        .args(["install", "--quiet", "--disable-pip-version-check", "-r"])
        .arg(&requirements)
        .output()
        .expect("pip runs");
    assert!(
        o.status.success(),
        "pip install -r tests/scim/requirements.txt failed: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    std::fs::write(&stamp, wanted).unwrap();
    python
}

/// Runs the suite against one root: each check's line, and the ones that failed.
fn check(python: &Path, root: &str) -> (String, Vec<String>) {
    let o = Command::new(python)
        .args([
            "-c",
            "from scim2_tester.cli import cli; cli()",
            root,
            "--token",
            OKTA,
            "--verbose",
        ])
        .output()
        .expect("the tester runs");
    let out = String::from_utf8_lossy(&o.stdout).into_owned();
    assert!(
        o.status.success(),
        "scim2-tester crashed on {root}: {out}\n{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let mut failed = Vec::new();
    let lines: Vec<&str> = out.lines().collect();
    for (i, line) in lines.iter().enumerate() {
        if line.starts_with("ERROR") || line.starts_with("CRITICAL") {
            let why = lines
                .get(i + 1)
                .filter(|l| l.starts_with(' '))
                .unwrap_or(&"");
            failed.push(format!("{line}\n{why}"));
        }
    }
    (out, failed)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scim2_tester_passes_on_both_roots() {
    let python = tokio::task::spawn_blocking(tester).await.unwrap();
    let (_sim, _engine, url) = setup(Vec::new()).await;
    for root in ["admin", "customers"] {
        let base = format!("{url}/scim/v2/{root}");
        let python = python.clone();
        let (out, failed) = tokio::task::spawn_blocking(move || check(&python, &base))
            .await
            .unwrap();
        let checks = out.lines().filter(|l| !l.starts_with(' ')).count();
        let mut by_status = std::collections::BTreeMap::<&str, usize>::new();
        for l in out.lines().filter(|l| !l.starts_with(' ')) {
            *by_status
                .entry(l.split(' ').next().unwrap_or(""))
                .or_default() += 1;
        }
        eprintln!("scim2-tester on /scim/v2/{root}: {checks} checks {by_status:?}");
        assert!(
            checks > 20,
            "the suite ran too few checks on {root}:\n{out}"
        );
        assert!(
            failed.is_empty(),
            "scim2-tester on /scim/v2/{root}:\n{}\n\nfull output:\n{out}",
            failed.join("\n")
        );
    }
}
