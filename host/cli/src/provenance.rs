//! Which toolchain made a component, when its bytes tell (`plugin check` and `plugin build`
//! print it), and which of its exports that toolchain adds for itself: mageflow calls only
//! `run`, so those are shown as ignored instead of looking like part of the plugin.

/// A toolchain mageflow knows, and the exports it leaves in every component it makes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Toolchain {
    pub(crate) language: &'static str,
    pub(crate) name: &'static str,
    /// What adds `own_exports`.
    pub(crate) adder: &'static str,
    pub(crate) own_exports: &'static [&'static str],
}

const PYTHON: Toolchain = Toolchain {
    language: "Python",
    name: "componentize-py",
    adder: "componentize-py",
    own_exports: &["exports"],
};
const QUICKJS: Toolchain = Toolchain {
    language: "JavaScript or TypeScript",
    name: "jco on QuickJS",
    adder: "componentize-qjs",
    own_exports: &["init"],
};
const STARLINGMONKEY: Toolchain = Toolchain {
    language: "JavaScript or TypeScript",
    name: "jco on StarlingMonkey",
    adder: "componentize-js",
    own_exports: &[],
};
const RUST: Toolchain = Toolchain {
    language: "Rust",
    name: "rustc",
    adder: "rustc",
    own_exports: &[],
};

fn contains(bytes: &[u8], marker: &[u8]) -> bool {
    bytes.windows(marker.len()).any(|w| w == marker)
}

/// The toolchain, from markers each leaves: componentize-py's `exports` instance beside `run`,
/// componentize-qjs's module names, StarlingMonkey's name, and otherwise rustc in a
/// `producers` section. `None` when nothing matches.
pub(crate) fn detect(bytes: &[u8], exports: &[String]) -> Option<Toolchain> {
    let exported = |name: &str| {
        exports
            .iter()
            .any(|e| e == name || e.starts_with(&format!("{name} ")))
    };
    if exported("exports") && contains(bytes, b"componentize-py") {
        Some(PYTHON)
    } else if contains(bytes, b"componentize-qjs:") {
        Some(QUICKJS)
    } else if contains(bytes, b"StarlingMonkey") || contains(bytes, b"ComponentizeJS") {
        Some(STARLINGMONKEY)
    } else if names_rust(bytes) {
        Some(RUST)
    } else {
        None
    }
}

/// A `producers` section whose first language is Rust: `language`, a count, then `Rust`.
fn names_rust(bytes: &[u8]) -> bool {
    bytes
        .windows(15)
        .any(|w| &w[..9] == b"\x08language" && &w[10..15] == b"\x04Rust")
}

impl Toolchain {
    /// Whether `export` (as `Inspection` names it, `init (func)`) is the toolchain's own.
    pub(crate) fn owns(&self, export: &str) -> bool {
        let name = export.split(' ').next().unwrap_or(export);
        self.own_exports.contains(&name)
    }
}
