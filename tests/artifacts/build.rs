//! Builds every test guest and example plugin as a wasm32-wasip2 component, so `cargo test`
//! alone does it. Installs the target with rustup when it is missing (cargo does not, even
//! though rust-toolchain.toml lists it). `SKIP_GUEST_BUILD=1` skips the build (lint-only runs).

use std::path::{Path, PathBuf};
use std::process::Command;

const TARGET: &str = "wasm32-wasip2";

fn main() {
    let root =
        PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"))
            .join("../..")
            .canonicalize()
            .expect("the workspace root exists");
    for dir in ["plugins", "tests/guests", "wit"] {
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
    code.push_str("/// Calls `$m!(NAME)` for every guest.\n#[macro_export]\nmacro_rules! foreach_guest {\n    ($m:ident) => {\n");
    for n in &names {
        code.push_str(&format!("        $m!({n});\n"));
    }
    code.push_str("    };\n}\n");
    std::fs::write(out.join("guests.rs"), code).expect("OUT_DIR is writable");
}

/// `(package name, dir)` of every crate under `tests/guests/` and `plugins/` except the SDK.
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
            if name != "mageflow-sdk" {
                out.push((name, dir));
            }
        }
    }
    out
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
