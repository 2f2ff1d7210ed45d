//! Builds every test guest and example plugin as a wasm32-wasip2 component, so `cargo test`
//! alone does it. Installs the target with rustup when it is missing (cargo does not, even
//! though rust-toolchain.toml lists it). Python guests (`tests/python/<name>/app.py`) are built
//! with componentize-py, installed at a pinned version into `target/python` the first time.
//! `SKIP_GUEST_BUILD=1` skips the build (lint-only runs).

use std::path::{Path, PathBuf};
use std::process::Command;

const TARGET: &str = "wasm32-wasip2";

fn main() {
    let root =
        PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"))
            .join("../..")
            .canonicalize()
            .expect("the workspace root exists");
    for dir in ["plugins", "tests/guests", "tests/python", "wit"] {
        println!("cargo:rerun-if-changed={}", root.join(dir).display());
    }
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-env-changed=SKIP_GUEST_BUILD");
    let guests = guest_crates(&root);
    let out = PathBuf::from(std::env::var("OUT_DIR").expect("cargo sets OUT_DIR"));
    // A target directory of its own, beside the outer one, so the nested cargo never waits on
    // the outer build's lock and keeps its cache between builds.
    let target_dir = root.join("target").join("wasm-guests");
    if std::env::var("SKIP_GUEST_BUILD").as_deref() != Ok("1") {
        ensure_target();
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let mut cmd = Command::new(cargo);
        cmd.current_dir(&root)
            .args(["build", "--release", "--target", TARGET])
            .env("CARGO_TARGET_DIR", &target_dir)
            .env_remove("CARGO_ENCODED_RUSTFLAGS")
            .env_remove("RUSTFLAGS");
        for (package, _) in &guests {
            cmd.args(["-p", package]);
        }
        let status = cmd.status().expect("cargo runs");
        assert!(
            status.success(),
            "building the wasm guests failed (see the cargo output above)"
        );
    }
    let mut code = String::new();
    let mut names = Vec::new();
    for (package, dir) in &guests {
        let constant = package
            .trim_start_matches("guest-")
            .replace('-', "_")
            .to_uppercase();
        let file = target_dir
            .join(TARGET)
            .join("release")
            .join(format!("{}.wasm", package.replace('-', "_")));
        code.push_str(&format!(
            "/// `{package}` built for {TARGET}.\npub const {constant}: &str = {:?};\n",
            file.display().to_string()
        ));
        // The example plugins are also embedded, for `mageflow demo`.
        if dir.starts_with(root.join("plugins")) {
            if file.exists() {
                code.push_str(&format!(
                    "/// The bytes of `{package}`.\npub const {constant}_WASM: &[u8] = include_bytes!({:?});\n",
                    file.display().to_string()
                ));
            } else {
                code.push_str(&format!(
                    "/// `{package}` was not built (SKIP_GUEST_BUILD=1).\npub const {constant}_WASM: &[u8] = &[];\n"
                ));
            }
        }
        names.push(constant);
    }
    let skip = std::env::var("SKIP_GUEST_BUILD").as_deref() == Ok("1");
    for (name, dir) in python_guests(&root) {
        let constant = format!("PY_{}", name.replace('-', "_").to_uppercase());
        let file = root
            .join("target")
            .join("python-guests")
            .join(format!("{name}.wasm"));
        if !skip {
            componentize_python(&root, &dir, &file);
        }
        code.push_str(&format!(
            "/// The Python guest `tests/python/{name}` built with componentize-py.\npub const {constant}: &str = {:?};\n",
            file.display().to_string()
        ));
        names.push(constant);
    }
    code.push_str("/// Calls `$m!(NAME)` for every guest.\n#[macro_export]\nmacro_rules! foreach_guest {\n    ($m:ident) => {\n");
    for n in &names {
        code.push_str(&format!("        $m!({n});\n"));
    }
    code.push_str("    };\n}\n");
    std::fs::write(out.join("guests.rs"), code).expect("OUT_DIR is writable");
}

/// `(package name, dir)` of every component crate (a `cdylib`) under `tests/guests/` and
/// `plugins/`.
fn guest_crates(root: &Path) -> Vec<(String, PathBuf)> {
    let mut out = Vec::new();
    for parent in ["tests/guests", "plugins"] {
        let Ok(entries) = std::fs::read_dir(root.join(parent)) else {
            continue;
        };
        let mut dirs: Vec<PathBuf> = entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.join("Cargo.toml").exists())
            .collect();
        dirs.sort();
        for dir in dirs {
            let manifest =
                std::fs::read_to_string(dir.join("Cargo.toml")).expect("a manifest reads");
            let name = manifest
                .lines()
                .find_map(|l| {
                    l.trim()
                        .strip_prefix("name = ")
                        .map(|v| v.trim_matches('"').to_owned())
                })
                .expect("a package has a name");
            // Libraries the plugins share (the SDK, scim-bridge) build into no component.
            if manifest.contains("cdylib") {
                out.push((name, dir));
            }
        }
    }
    out
}

/// The componentize-py release the Python guests are built with.
const COMPONENTIZE_PY: &str = "componentize-py==0.25.1";

/// `(name, dir)` of every Python guest: a folder under `tests/python/` with an `app.py`.
fn python_guests(root: &Path) -> Vec<(String, PathBuf)> {
    let Ok(entries) = std::fs::read_dir(root.join("tests/python")) else {
        return Vec::new();
    };
    let mut out: Vec<(String, PathBuf)> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.join("app.py").exists())
        .map(|p| {
            let name = p
                .file_name()
                .expect("a folder has a name")
                .to_string_lossy()
                .into_owned();
            (name, p)
        })
        .collect();
    out.sort();
    out
}

fn modified(path: &Path) -> Option<std::time::SystemTime> {
    std::fs::metadata(path).and_then(|m| m.modified()).ok()
}

/// Builds one Python guest when its component is older than its sources or the WIT.
fn componentize_python(root: &Path, dir: &Path, out: &Path) {
    let newest_input = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .chain(std::fs::read_dir(root.join("wit")).into_iter().flatten())
        .filter_map(|e| e.ok().and_then(|e| modified(&e.path())))
        .max();
    if let (Some(built), Some(input)) = (modified(out), newest_input)
        && built > input
    {
        return;
    }
    let tool = componentize_py(root);
    std::fs::create_dir_all(out.parent().expect("the output has a folder"))
        .expect("target/ is writable");
    let status = Command::new(&tool)
        .current_dir(dir)
        .arg("-d")
        .arg(root.join("wit"))
        .args(["-w", "workflow", "componentize", "app", "-o"])
        .arg(out)
        .status()
        .expect("componentize-py runs");
    assert!(
        status.success(),
        "componentize-py could not build {} (see its output above)",
        dir.display()
    );
}

/// `target/python/bin/componentize-py`, installed into a venv there when missing.
fn componentize_py(root: &Path) -> PathBuf {
    let venv = root.join("target").join("python");
    let tool = venv.join("bin").join("componentize-py");
    if tool.exists() {
        return tool;
    }
    let python = std::env::var("PYTHON").unwrap_or_else(|_| "python3".into());
    let made = Command::new(&python)
        .arg("-m")
        .arg("venv")
        .arg(&venv)
        .status();
    assert!(
        made.is_ok_and(|s| s.success()),
        "`{python} -m venv {}` failed: the Python guests need Python 3 with venv (Debian: apt-get install python3-venv)",
        venv.display()
    );
    let installed = Command::new(venv.join("bin").join("pip"))
        .args(["install", "--quiet", COMPONENTIZE_PY])
        .status();
    assert!(
        installed.is_ok_and(|s| s.success()) && tool.exists(),
        "`pip install {COMPONENTIZE_PY}` into {} failed: the Python guests cannot be built without it",
        venv.display()
    );
    tool
}

/// Installs the wasm target with rustup when it is missing.
fn ensure_target() {
    let installed = Command::new("rustup")
        .args(["target", "list", "--installed"])
        .output()
        .map(|o| {
            String::from_utf8_lossy(&o.stdout)
                .lines()
                .any(|l| l.trim() == TARGET)
        })
        .unwrap_or(false);
    if installed {
        return;
    }
    let status = Command::new("rustup")
        .args(["target", "add", TARGET])
        .status();
    match status {
        Ok(s) if s.success() => {}
        _ => panic!(
            "the {TARGET} target is missing and `rustup target add {TARGET}` failed: install it by hand"
        ),
    }
}
