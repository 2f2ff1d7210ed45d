//! The SDKs and the WIT contract this binary carries, as they were when it was built:
//! `plugin build` writes them under the toolchains folder (so a build uses the SDK that
//! matches this host), and `plugin new` vendors the TypeScript SDK into a new project (so its
//! native tests run with no registry).

use std::path::{Path, PathBuf};

use anyhow::Context as _;

/// The WIT contract.
pub(crate) const WIT: &[(&str, &str)] = &[
    (
        "admin-users.wit",
        include_str!("../../../wit/admin-users.wit"),
    ),
    ("approvals.wit", include_str!("../../../wit/approvals.wit")),
    ("bulk.wit", include_str!("../../../wit/bulk.wit")),
    ("customers.wit", include_str!("../../../wit/customers.wit")),
    ("groups.wit", include_str!("../../../wit/groups.wit")),
    ("runtime.wit", include_str!("../../../wit/runtime.wit")),
    ("types.wit", include_str!("../../../wit/types.wit")),
    ("world.wit", include_str!("../../../wit/world.wit")),
];

/// The Python SDK's package (`plugins/sdk-python/mageflow_sdk`), put on componentize-py's
/// path so `import mageflow_sdk` works in every Python plugin. (Its test fake and stubs stay
/// out: a component never runs them.)
pub(crate) const PYTHON_SDK: &[(&str, &str)] = &[
    (
        "__init__.py",
        include_str!("../../../plugins/sdk-python/mageflow_sdk/__init__.py"),
    ),
    (
        "_bindings.py",
        include_str!("../../../plugins/sdk-python/mageflow_sdk/_bindings.py"),
    ),
    (
        "approvals.py",
        include_str!("../../../plugins/sdk-python/mageflow_sdk/approvals.py"),
    ),
    (
        "errors.py",
        include_str!("../../../plugins/sdk-python/mageflow_sdk/errors.py"),
    ),
    (
        "logs.py",
        include_str!("../../../plugins/sdk-python/mageflow_sdk/logs.py"),
    ),
    (
        "patch.py",
        include_str!("../../../plugins/sdk-python/mageflow_sdk/patch.py"),
    ),
    (
        "search.py",
        include_str!("../../../plugins/sdk-python/mageflow_sdk/search.py"),
    ),
    (
        "world.py",
        include_str!("../../../plugins/sdk-python/mageflow_sdk/world.py"),
    ),
];

/// The TypeScript SDK (`plugins/sdk-js`, the `@mageflow/sdk` npm package) without its own
/// tests and scripts.
pub(crate) const JS_SDK: &[(&str, &str)] = &[
    (
        "approvals.d.ts",
        include_str!("../../../plugins/sdk-js/approvals.d.ts"),
    ),
    (
        "customers.d.ts",
        include_str!("../../../plugins/sdk-js/customers.d.ts"),
    ),
    (
        "index.d.ts",
        include_str!("../../../plugins/sdk-js/index.d.ts"),
    ),
    (
        "package.json",
        include_str!("../../../plugins/sdk-js/package.json"),
    ),
    (
        "src/approvals.js",
        include_str!("../../../plugins/sdk-js/src/approvals.js"),
    ),
    (
        "src/customers.js",
        include_str!("../../../plugins/sdk-js/src/customers.js"),
    ),
    (
        "src/errors.js",
        include_str!("../../../plugins/sdk-js/src/errors.js"),
    ),
    (
        "src/fake/admin-users.js",
        include_str!("../../../plugins/sdk-js/src/fake/admin-users.js"),
    ),
    (
        "src/fake/approvals.js",
        include_str!("../../../plugins/sdk-js/src/fake/approvals.js"),
    ),
    (
        "src/fake/bulk.js",
        include_str!("../../../plugins/sdk-js/src/fake/bulk.js"),
    ),
    (
        "src/fake/customers.js",
        include_str!("../../../plugins/sdk-js/src/fake/customers.js"),
    ),
    (
        "src/fake/groups.js",
        include_str!("../../../plugins/sdk-js/src/fake/groups.js"),
    ),
    (
        "src/fake/host.js",
        include_str!("../../../plugins/sdk-js/src/fake/host.js"),
    ),
    (
        "src/fake/runtime.js",
        include_str!("../../../plugins/sdk-js/src/fake/runtime.js"),
    ),
    (
        "src/fake/types.js",
        include_str!("../../../plugins/sdk-js/src/fake/types.js"),
    ),
    (
        "src/hooks.js",
        include_str!("../../../plugins/sdk-js/src/hooks.js"),
    ),
    (
        "src/index.js",
        include_str!("../../../plugins/sdk-js/src/index.js"),
    ),
    (
        "src/log.js",
        include_str!("../../../plugins/sdk-js/src/log.js"),
    ),
    (
        "src/patch.js",
        include_str!("../../../plugins/sdk-js/src/patch.js"),
    ),
    (
        "src/register.js",
        include_str!("../../../plugins/sdk-js/src/register.js"),
    ),
    (
        "src/search.js",
        include_str!("../../../plugins/sdk-js/src/search.js"),
    ),
    (
        "src/testing.js",
        include_str!("../../../plugins/sdk-js/src/testing.js"),
    ),
    (
        "src/workflow.js",
        include_str!("../../../plugins/sdk-js/src/workflow.js"),
    ),
    (
        "testing.d.ts",
        include_str!("../../../plugins/sdk-js/testing.d.ts"),
    ),
    (
        "types/interfaces/mageflow-workflow-admin-users.d.ts",
        include_str!("../../../plugins/sdk-js/types/interfaces/mageflow-workflow-admin-users.d.ts"),
    ),
    (
        "types/interfaces/mageflow-workflow-approvals.d.ts",
        include_str!("../../../plugins/sdk-js/types/interfaces/mageflow-workflow-approvals.d.ts"),
    ),
    (
        "types/interfaces/mageflow-workflow-bulk.d.ts",
        include_str!("../../../plugins/sdk-js/types/interfaces/mageflow-workflow-bulk.d.ts"),
    ),
    (
        "types/interfaces/mageflow-workflow-customers.d.ts",
        include_str!("../../../plugins/sdk-js/types/interfaces/mageflow-workflow-customers.d.ts"),
    ),
    (
        "types/interfaces/mageflow-workflow-groups.d.ts",
        include_str!("../../../plugins/sdk-js/types/interfaces/mageflow-workflow-groups.d.ts"),
    ),
    (
        "types/interfaces/mageflow-workflow-runtime.d.ts",
        include_str!("../../../plugins/sdk-js/types/interfaces/mageflow-workflow-runtime.d.ts"),
    ),
    (
        "types/interfaces/mageflow-workflow-types.d.ts",
        include_str!("../../../plugins/sdk-js/types/interfaces/mageflow-workflow-types.d.ts"),
    ),
    (
        "types/workflow.d.ts",
        include_str!("../../../plugins/sdk-js/types/workflow.d.ts"),
    ),
];

/// Writes `files` into `dir`, making folders as needed.
pub(crate) fn write_all(dir: &Path, files: &[(&str, &str)]) -> anyhow::Result<()> {
    for (name, text) in files {
        write_whole(&dir.join(name), text)?;
    }
    Ok(())
}

/// Writes `text` to `path` through a temporary file and a rename, so a build running beside
/// this one never reads half a file.
pub(crate) fn write_whole(path: &Path, text: &str) -> anyhow::Result<()> {
    let parent = path.parent().expect("a file has a folder");
    std::fs::create_dir_all(parent)
        .with_context(|| format!("cannot create {}", parent.display()))?;
    if std::fs::read_to_string(path).is_ok_and(|t| t == text) {
        return Ok(());
    }
    let tmp = path.with_extension(format!("tmp-{}", std::process::id()));
    std::fs::write(&tmp, text).with_context(|| format!("cannot write {}", tmp.display()))?;
    std::fs::rename(&tmp, path).with_context(|| format!("cannot write {}", path.display()))
}

/// Holds `<toolchains>/<name>.lock` until dropped: one install of a toolchain at a time.
pub(crate) fn install_lock(toolchains: &Path, name: &str) -> anyhow::Result<std::fs::File> {
    std::fs::create_dir_all(toolchains)
        .with_context(|| format!("cannot create {}", toolchains.display()))?;
    let path = toolchains.join(format!("{name}.lock"));
    let file = std::fs::File::create(&path)
        .with_context(|| format!("cannot create {}", path.display()))?;
    file.lock()
        .with_context(|| format!("cannot lock {}", path.display()))?;
    Ok(file)
}

/// The Python SDK written under `toolchains`: the folder to put on the module path.
pub(crate) fn python_sdk(toolchains: &Path) -> anyhow::Result<PathBuf> {
    let root = toolchains.join(format!("sdk-python-{}", env!("CARGO_PKG_VERSION")));
    write_all(&root.join("mageflow_sdk"), PYTHON_SDK)?;
    Ok(root)
}

/// The TypeScript SDK written under `toolchains`: the package's folder.
pub(crate) fn js_sdk(toolchains: &Path) -> anyhow::Result<PathBuf> {
    let root = toolchains.join(format!("sdk-js-{}", env!("CARGO_PKG_VERSION")));
    write_all(&root, JS_SDK)?;
    Ok(root)
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    /// Every file under `root` (relative, `/`-separated), leaving out `skip`'s folders and files.
    fn files(root: &Path, skip: &[&str]) -> Vec<String> {
        let mut out = Vec::new();
        let mut todo = vec![root.to_path_buf()];
        while let Some(dir) = todo.pop() {
            for entry in std::fs::read_dir(&dir).unwrap() {
                let path = entry.unwrap().path();
                let rel = path
                    .strip_prefix(root)
                    .unwrap()
                    .to_string_lossy()
                    .replace('\\', "/");
                if skip.iter().any(|s| rel == *s || rel.ends_with(".pyc")) {
                    continue;
                }
                if path.is_dir() {
                    todo.push(path);
                } else {
                    out.push(rel);
                }
            }
        }
        out.sort();
        out
    }

    fn names(list: &[(&str, &str)]) -> Vec<String> {
        let mut v: Vec<String> = list.iter().map(|(n, _)| (*n).to_owned()).collect();
        v.sort();
        v
    }

    #[test]
    fn the_carried_sdks_and_contract_are_every_file_of_theirs() {
        let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        assert_eq!(names(super::WIT), files(&repo.join("wit"), &[]));
        assert_eq!(
            names(super::PYTHON_SDK),
            files(
                &repo.join("plugins/sdk-python/mageflow_sdk"),
                &["_stubs", "testing.py", "__pycache__"]
            ),
            "a module of the Python SDK is missing from sdks::PYTHON_SDK"
        );
        assert_eq!(
            names(super::JS_SDK),
            files(
                &repo.join("plugins/sdk-js"),
                &["test", "scripts", "node_modules"]
            ),
            "a file of the TypeScript SDK is missing from sdks::JS_SDK"
        );
    }
}
