//! `mageflow plugin build [DIR]`: a plugin project, in Rust, Python or TypeScript, built into
//! a component that imports only what its grants allow, compiled into the compile cache, and
//! described (size, imports, time).
//!
//! componentize-py and jco import every interface of the world they are given, whether the
//! code uses it or not; so Python and TypeScript plugins are built against a world narrowed to
//! their grants (written next to a copy of the WIT contract this binary carries). A Rust
//! component imports only what its code calls, so it is built as it is and checked the same
//! way.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use anyhow::Context as _;
use mageflow_runtime::{GRANTED_WORLD, Grants, Runtime, granted_world};

use crate::Usage;

/// The componentize-py release Python plugins are built with.
pub(crate) const COMPONENTIZE_PY: &str = "componentize-py==0.25.1";

/// A plugin project's language, told by its files.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Lang {
    Rust,
    Python,
    TypeScript,
}

impl Lang {
    pub(crate) fn parse(text: &str) -> Result<Lang, Usage> {
        match text {
            "rust" => Ok(Lang::Rust),
            "python" => Ok(Lang::Python),
            "typescript" | "ts" | "javascript" | "js" => Ok(Lang::TypeScript),
            other => Err(Usage(format!(
                "--lang {other:?}: mageflow builds rust, python and typescript plugins"
            ))),
        }
    }

    fn detect(dir: &Path) -> Result<Lang, Usage> {
        if dir.join("Cargo.toml").is_file() {
            Ok(Lang::Rust)
        } else if dir.join("app.py").is_file() {
            Ok(Lang::Python)
        } else if dir.join("app.ts").is_file() || dir.join("app.js").is_file() {
            Ok(Lang::TypeScript)
        } else {
            Err(Usage(format!(
                "{} holds no Cargo.toml (Rust), app.py (Python) or app.ts (TypeScript): point at \
                 a plugin project, or make one with `mageflow plugin new NAME --lang \
                 rust|python|typescript`",
                dir.display()
            )))
        }
    }
}

/// What `plugin build` reads of a project's `workflow.toml`.
#[derive(Debug, Default, serde::Deserialize)]
struct Project {
    #[serde(default)]
    grants: Vec<String>,
    /// The component, relative to the project.
    plugin: Option<String>,
}

/// The project's `workflow.toml`, when it has one.
fn project(dir: &Path) -> Result<Option<Project>, Usage> {
    let file = dir.join("workflow.toml");
    let Ok(text) = std::fs::read_to_string(&file) else {
        return Ok(None);
    };
    toml::from_str(&text)
        .map(Some)
        .map_err(|e| Usage(format!("{}: {}", file.display(), e.message())))
}

/// The grants of a plugin project: `given`, else its `workflow.toml`'s `grants`.
fn project_grants(
    dir: &Path,
    project: Option<&Project>,
    given: Option<&str>,
) -> Result<Grants, Usage> {
    if let Some(list) = given {
        return Grants::parse(list).map_err(Usage);
    }
    let file = dir.join("workflow.toml");
    let project = project.ok_or_else(|| {
        Usage(format!(
            "name the plugin's grants: --grants customers:read,approvals, or a {} with \
             grants = [...]",
            file.display()
        ))
    })?;
    Grants::parse(&project.grants.join(",")).map_err(|e| Usage(format!("{}: {e}", file.display())))
}

/// Where toolchains are installed: `MAGEFLOW_TOOLCHAINS`, else the cache directory.
fn toolchains() -> anyhow::Result<PathBuf> {
    if let Some(dir) = std::env::var_os("MAGEFLOW_TOOLCHAINS") {
        return Ok(PathBuf::from(dir));
    }
    let base = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .filter(|p| p.is_absolute())
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))
        .context("neither XDG_CACHE_HOME nor HOME is set: set MAGEFLOW_TOOLCHAINS")?;
    Ok(base.join("mageflow").join("toolchains"))
}

/// componentize-py, installed into a venv of its own the first time.
fn componentize_py() -> anyhow::Result<PathBuf> {
    if let Some(tool) = std::env::var_os("MAGEFLOW_COMPONENTIZE_PY") {
        return Ok(PathBuf::from(tool));
    }
    let venv = toolchains()?.join(COMPONENTIZE_PY.replace("==", "-"));
    let _installing = crate::sdks::install_lock(&toolchains()?, "componentize-py")?;
    let tool = venv.join("bin").join("componentize-py");
    if tool.is_file() {
        return Ok(tool);
    }
    eprintln!(
        "installing {COMPONENTIZE_PY} into {} (once)",
        venv.display()
    );
    let python = std::env::var("PYTHON").unwrap_or_else(|_| "python3".into());
    let made = Command::new(&python)
        .arg("-m")
        .arg("venv")
        .arg(&venv)
        .status();
    anyhow::ensure!(
        made.is_ok_and(|s| s.success()),
        "`{python} -m venv {}` failed: Python plugins need Python 3 with venv (Debian: apt-get \
         install python3-venv)",
        venv.display()
    );
    let pip = Command::new(venv.join("bin").join("pip"))
        .args([
            "install",
            "--quiet",
            "--disable-pip-version-check",
            COMPONENTIZE_PY,
        ])
        .status()
        .context("pip runs")?;
    anyhow::ensure!(
        pip.success(),
        "pip could not install {COMPONENTIZE_PY} from PyPI (see its output above)"
    );
    Ok(tool)
}

/// The jco toolchain's files: its pinned packages, and the preopen module it runs under.
const JCO: &[(&str, &str)] = &[
    ("package.json", include_str!("toolchains/jco/package.json")),
    (
        "package-lock.json",
        include_str!("toolchains/jco/package-lock.json"),
    ),
    ("preopen.mjs", include_str!("toolchains/jco/preopen.mjs")),
];

/// jco and componentize-js, installed with `npm ci` the first time: the toolchain's folder.
fn jco() -> anyhow::Result<PathBuf> {
    let dir = toolchains()?.join("jco-1.35.0");
    let _installing = crate::sdks::install_lock(&toolchains()?, "jco")?;
    let lock = dir.join("package-lock.json");
    let current = dir
        .join("node_modules/@bytecodealliance/jco/package.json")
        .is_file()
        && std::fs::read_to_string(&lock).is_ok_and(|l| l == JCO[1].1);
    crate::sdks::write_all(&dir, JCO)?;
    if !current {
        eprintln!(
            "installing jco 1.35.0 and componentize-js 0.23.0 into {} (once)",
            dir.display()
        );
        let o = Command::new("npm")
            .args(["ci", "--no-audit", "--no-fund", "--loglevel=error"])
            .current_dir(&dir)
            .status()
            .context("npm runs: TypeScript plugins need Node.js 20 or later with npm")?;
        anyhow::ensure!(
            o.success(),
            "npm could not install jco (see its output above)"
        );
    }
    Ok(dir)
}

/// The WIT contract with the world narrowed to `grants`, written under the toolchains.
fn narrowed_wit(grants: &Grants) -> anyhow::Result<PathBuf> {
    let names: Vec<&str> = grants.iter().map(|g| g.name()).collect();
    let key = if names.is_empty() {
        "none".to_owned()
    } else {
        names.join("+").replace(':', "-")
    };
    let dir = toolchains()?.join("wit").join(key);
    std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
    crate::sdks::write_all(&dir, crate::sdks::WIT)?;
    crate::sdks::write_whole(&dir.join("granted.wit"), &granted_world(grants))?;
    Ok(dir)
}

fn build_python(dir: &Path, grants: &Grants, out: &Path) -> anyhow::Result<()> {
    let tool = componentize_py()?;
    let wit = narrowed_wit(grants)?;
    let o = Command::new(&tool)
        .current_dir(dir)
        .arg("-d")
        .arg(&wit)
        .args(["-w", GRANTED_WORLD, "componentize", "-p", "."])
        .arg("-p")
        .arg(crate::sdks::python_sdk(&toolchains()?)?)
        .args(["app", "-o"])
        .arg(out)
        .output()
        .with_context(|| format!("cannot run {}", tool.display()))?;
    if !o.status.success() {
        let err = String::from_utf8_lossy(&o.stderr);
        let hint = if err.contains("wit_world.imports") {
            "\n(the plugin imports an interface its grants do not cover: add the grant to \
             workflow.toml or --grants)"
        } else {
            ""
        };
        anyhow::bail!(
            "componentize-py could not build {}:\n{err}{hint}",
            dir.display()
        );
    }
    Ok(())
}

/// A Rolldown configuration that resolves `@mageflow/sdk` to the SDK this binary carries
/// (written at `sdk`), whatever the project's `node_modules` holds: a component is built with
/// the SDK that matches its host. The project's tsconfig.json is for `tsc` (its `paths` name
/// the SDK's types), so the bundler does not read it.
fn bundle_config(sdk: &Path) -> String {
    let at = |file: &str| {
        serde_json::to_string(&sdk.join("src").join(file).display().to_string())
            .expect("a path is JSON")
    };
    format!(
        "// Written by `mageflow plugin build`: @mageflow/sdk is the SDK mageflow carries.\n\
         export default {{\n  tsconfig: false,\n  resolve: {{\n    alias: {{\n      \
         '@mageflow/sdk/customers': {},\n      '@mageflow/sdk/approvals': {},\n      \
         '@mageflow/sdk': {},\n    }},\n  }},\n}};\n",
        at("customers.js"),
        at("approvals.js"),
        at("index.js"),
    )
}

/// `tsc -p tsconfig.json` (the toolchain's TypeScript), when the project has a tsconfig.json:
/// jco strips types without checking them.
fn type_check(dir: &Path, jco: &Path) -> anyhow::Result<()> {
    if !dir.join("tsconfig.json").is_file() {
        return Ok(());
    }
    let o = Command::new("node")
        .current_dir(dir)
        .arg(jco.join("node_modules/typescript/bin/tsc"))
        .args(["-p", "tsconfig.json", "--noEmit", "--pretty", "false"])
        .output()
        .context("node runs: TypeScript plugins need Node.js 20 or later")?;
    if o.status.success() {
        return Ok(());
    }
    let err = format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    let hint = if err.contains("'@mageflow/sdk") {
        "\n(the SDK's types are not installed: run `npm install` in the project, whose \
         package.json names @mageflow/sdk)"
    } else {
        ""
    };
    anyhow::bail!(
        "{} does not type-check (tsc -p tsconfig.json):\n{}{hint}",
        dir.display(),
        err.trim_end()
    );
}

/// TypeScript (or JavaScript) with jco on the QuickJS backend: 1.7 MB components that start
/// in a fifth of a millisecond, against StarlingMonkey's 13 MB and 1.2 ms (measured for issue
/// 13). The QuickJS build has no WASI: `console` is not defined (the SDK's `workflow` sends it
/// to the run's log).
fn build_typescript(dir: &Path, grants: &Grants, out: &Path) -> anyhow::Result<()> {
    let jco = jco()?;
    type_check(dir, &jco)?;
    let wit = narrowed_wit(grants)?;
    let sdk = crate::sdks::js_sdk(&toolchains()?)?;
    let config = sdk.join("bundle.config.mjs");
    crate::sdks::write_whole(&config, &bundle_config(&sdk))?;
    let app = if dir.join("app.ts").is_file() {
        "app.ts"
    } else {
        "app.js"
    };
    let o = Command::new("node")
        .current_dir(dir)
        .arg("--import")
        .arg(jco.join("preopen.mjs"))
        .arg(jco.join("node_modules/@bytecodealliance/jco/dist/jco.js"))
        .args(["componentize", app, "--bundle", "--bundle-config"])
        .arg(&config)
        .arg("--wit")
        .arg(&wit)
        .args(["--world-name", GRANTED_WORLD, "-o"])
        .arg(out)
        .args([
            "--backend",
            "quickjs",
            "--backend-qjs-disable-async",
            "--backend-qjs-stub-wasi",
        ])
        .output()
        .context("node runs: TypeScript plugins need Node.js 20 or later")?;
    if !o.status.success() {
        let err = format!(
            "{}{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        );
        let hint = if err.contains("mageflow:workflow/") {
            "\n(the plugin imports an interface its grants do not cover: add the grant to \
             workflow.toml or --grants)"
        } else {
            ""
        };
        anyhow::bail!("jco could not build {}:\n{err}{hint}", dir.display());
    }
    Ok(())
}

fn build_rust(dir: &Path, out: &Path) -> anyhow::Result<()> {
    let o = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        .args([
            "build",
            "--release",
            "--target",
            "wasm32-wasip2",
            "--message-format=json",
        ])
        .arg("--manifest-path")
        .arg(dir.join("Cargo.toml"))
        .stderr(std::process::Stdio::inherit())
        .output()
        .context("cargo runs")?;
    let text = String::from_utf8_lossy(&o.stdout);
    anyhow::ensure!(
        o.status.success(),
        "cargo could not build {} for wasm32-wasip2 (its errors are above; `rustup target add \
         wasm32-wasip2` if the target is missing)",
        dir.display()
    );
    let wasm = text
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|m| m["reason"] == "compiler-artifact")
        .flat_map(|m| {
            m["filenames"]
                .as_array()
                .cloned()
                .unwrap_or_default()
                .into_iter()
                .filter_map(|f| f.as_str().map(PathBuf::from))
        })
        .rfind(|f| f.extension().is_some_and(|e| e == "wasm"))
        .context("cargo built no .wasm: is the crate a cdylib (crate-type = [\"cdylib\"])?")?;
    std::fs::copy(&wasm, out)
        .with_context(|| format!("cannot copy {} to {}", wasm.display(), out.display()))?;
    Ok(())
}

/// Builds the project in `dir`; answers the component's path.
pub(crate) fn build(
    runtime: &Runtime,
    dir: &Path,
    grants: Option<&str>,
    out: Option<&Path>,
) -> anyhow::Result<PathBuf> {
    let dir = std::path::absolute(dir)?;
    let lang = Lang::detect(&dir)?;
    let project = project(&dir)?;
    let grants = project_grants(&dir, project.as_ref(), grants)?;
    let name = dir
        .file_name()
        .map_or_else(|| "plugin".to_owned(), |n| n.to_string_lossy().into_owned());
    let out = match (out, project.as_ref().and_then(|p| p.plugin.as_deref())) {
        (Some(o), _) => std::path::absolute(o)?,
        (None, Some(plugin)) => dir.join(plugin),
        (None, None) => dir.join(format!("{}.wasm", name.replace('-', "_"))),
    };
    let started = Instant::now();
    match lang {
        Lang::Python => build_python(&dir, &grants, &out)?,
        Lang::TypeScript => build_typescript(&dir, &grants, &out)?,
        Lang::Rust => build_rust(&dir, &out)?,
    }
    let built = started.elapsed();
    let bytes = std::fs::read(&out)?;
    let compiling = Instant::now();
    let inspection = runtime.inspect(&out.display().to_string(), &bytes, &grants)?;
    let compiled = compiling.elapsed();
    println!(
        "built {} ({:?}, {:.1} MB) in {:.1} s; compiled into the cache in {:.1} s",
        out.display(),
        lang,
        bytes.len() as f64 / 1e6,
        built.as_secs_f64(),
        compiled.as_secs_f64()
    );
    crate::plugin::report(&inspection, &bytes)?;
    Ok(out)
}
