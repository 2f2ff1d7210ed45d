//! What a workflow may do. A plugin importing an interface nothing grants is refused when it is
//! loaded; read, write and delete within an interface are checked on every call.

use std::collections::BTreeSet;
use std::fmt;

use crate::calls::CallKind;

/// One permission.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Grant {
    /// `customers:read`: search, get, find customers; list groups.
    CustomersRead,
    /// `customers:write`: create and update customers.
    CustomersWrite,
    /// `customers:delete`: delete customers.
    CustomersDelete,
    /// `admin-users:read`: search and get admin users and roles.
    AdminUsersRead,
    /// `admin-users:write`: create, update, deactivate and delete admin users.
    AdminUsersWrite,
    /// `bulk`: submit bulk updates and read their status.
    Bulk,
    /// `approvals`: ask people for a decision.
    Approvals,
}

const NAMES: &[(Grant, &str)] = &[
    (Grant::CustomersRead, "customers:read"),
    (Grant::CustomersWrite, "customers:write"),
    (Grant::CustomersDelete, "customers:delete"),
    (Grant::AdminUsersRead, "admin-users:read"),
    (Grant::AdminUsersWrite, "admin-users:write"),
    (Grant::Bulk, "bulk"),
    (Grant::Approvals, "approvals"),
];

impl Grant {
    /// The grant's name as workflows write it.
    pub fn name(self) -> &'static str {
        NAMES
            .iter()
            .find(|(g, _)| *g == self)
            .map(|(_, n)| *n)
            .expect("every grant is named")
    }
}

impl fmt::Display for Grant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The grants of one workflow.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Grants(BTreeSet<Grant>);

impl Grants {
    /// Parses `customers:read,customers:write,bulk` (commas or spaces).
    pub fn parse(list: &str) -> Result<Grants, String> {
        let mut set = BTreeSet::new();
        for word in list
            .split([',', ' '])
            .map(str::trim)
            .filter(|w| !w.is_empty())
        {
            let grant = NAMES
                .iter()
                .find(|(_, n)| *n == word)
                .map(|(g, _)| *g)
                .ok_or_else(|| {
                    let known: Vec<&str> = NAMES.iter().map(|(_, n)| *n).collect();
                    format!(
                        "unknown grant {word:?}; the grants are {}",
                        known.join(", ")
                    )
                })?;
            set.insert(grant);
        }
        Ok(Grants(set))
    }

    /// Whether `grant` is held.
    pub fn has(&self, grant: Grant) -> bool {
        self.0.contains(&grant)
    }

    /// Every grant held.
    pub fn iter(&self) -> impl Iterator<Item = Grant> + '_ {
        self.0.iter().copied()
    }

    /// `Ok` when one of the grants that allow `call` is held, otherwise the reason a `denied`
    /// error carries, naming the first of them.
    pub fn allow(&self, call: CallKind) -> Result<(), String> {
        match call.grants() {
            any if any.iter().any(|g| self.has(*g)) => Ok(()),
            any => self.check(any[0], call.name()),
        }
    }

    /// `Ok` when held, otherwise the reason a `denied` error carries.
    pub fn check(&self, grant: Grant, call: &str) -> Result<(), String> {
        if self.has(grant) {
            Ok(())
        } else {
            Err(format!(
                "{call} needs the {grant} grant, which this workflow does not have"
            ))
        }
    }
}

/// The mageflow interfaces a plugin can import, with the grants any one of which allows it.
pub const INTERFACES: &[(&str, &[Grant])] = &[
    (
        "customers",
        &[
            Grant::CustomersRead,
            Grant::CustomersWrite,
            Grant::CustomersDelete,
        ],
    ),
    ("groups", &[Grant::CustomersRead, Grant::CustomersWrite]),
    (
        "admin-users",
        &[Grant::AdminUsersRead, Grant::AdminUsersWrite],
    ),
    ("bulk", &[Grant::Bulk]),
    ("approvals", &[Grant::Approvals]),
    ("runtime", &[]),
    ("types", &[]),
];

/// The name of the world [`granted_world`] writes.
pub const GRANTED_WORLD: &str = "granted";

/// A WIT world of the `mageflow:workflow` package that imports only the interfaces `grants`
/// cover (and `runtime`, which needs none), exporting `run` as `workflow` does. Built
/// against it, a component made by a toolchain that imports every interface of its world
/// (componentize-py, jco) imports no more than it may use.
pub fn granted_world(grants: &Grants) -> String {
    let mut text = String::from(
        "package mageflow:workflow@0.1.0;\n\n\
         /// The workflow world narrowed to a plugin's grants (written by `mageflow plugin build`).\n\
         world granted {\n",
    );
    for (interface, any) in INTERFACES {
        if *interface == "types" {
            continue;
        }
        if any.is_empty() || any.iter().any(|g| grants.has(*g)) {
            text.push_str(&format!("    import {interface};\n"));
        }
    }
    text.push_str(
        "\n    use types.{trigger, outcome};\n\n\
         \x20   export run: func(trigger: trigger) -> result<outcome, string>;\n}\n",
    );
    text
}

/// What a load-time check found for one import.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ImportCheck {
    /// A WASI interface: linked, sandboxed (no files, no network, no environment).
    Wasi,
    /// A mageflow interface the grants cover.
    Granted,
    /// A mageflow interface no grant covers; the grants that would.
    Missing(Vec<Grant>),
    /// Something mageflow does not provide.
    Unknown,
}

/// Classifies one import name (`mageflow:workflow/customers@0.1.0`, `wasi:cli/stdout@0.2.x`).
pub fn check_import(name: &str, grants: &Grants) -> ImportCheck {
    if name.starts_with("wasi:") {
        return ImportCheck::Wasi;
    }
    let Some(rest) = name.strip_prefix("mageflow:workflow/") else {
        return ImportCheck::Unknown;
    };
    let interface = rest.split('@').next().unwrap_or(rest);
    match INTERFACES.iter().find(|(n, _)| *n == interface) {
        None => ImportCheck::Unknown,
        Some((_, [])) => ImportCheck::Granted,
        Some((_, any)) if any.iter().any(|g| grants.has(*g)) => ImportCheck::Granted,
        Some((_, any)) => ImportCheck::Missing(any.to_vec()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_refuses_unknown_grants() {
        let g = Grants::parse("customers:read, bulk").unwrap();
        assert!(g.has(Grant::CustomersRead) && g.has(Grant::Bulk) && !g.has(Grant::CustomersWrite));
        assert!(
            Grants::parse("customers:rw")
                .unwrap_err()
                .contains("unknown grant \"customers:rw\"")
        );
    }

    #[test]
    fn the_granted_world_imports_what_the_grants_cover() {
        let w = granted_world(&Grants::parse("customers:read, approvals").unwrap());
        for present in [
            "import customers;",
            "import groups;",
            "import approvals;",
            "import runtime;",
        ] {
            assert!(w.contains(present), "{present} missing from\n{w}");
        }
        for absent in ["admin-users", "bulk"] {
            assert!(!w.contains(absent), "{absent} in\n{w}");
        }
        assert!(w.contains("export run: func(trigger: trigger) -> result<outcome, string>;"));
    }

    #[test]
    fn imports_are_classified() {
        let g = Grants::parse("customers:read").unwrap();
        assert_eq!(
            check_import("mageflow:workflow/customers@0.1.0", &g),
            ImportCheck::Granted
        );
        assert_eq!(
            check_import("mageflow:workflow/runtime@0.1.0", &g),
            ImportCheck::Granted
        );
        assert_eq!(check_import("wasi:cli/stdout@0.2.6", &g), ImportCheck::Wasi);
        assert_eq!(
            check_import("mageflow:workflow/bulk@0.1.0", &g),
            ImportCheck::Missing(vec![Grant::Bulk])
        );
        assert_eq!(check_import("acme:evil/net", &g), ImportCheck::Unknown);
        assert_eq!(
            g.check(Grant::CustomersDelete, "customers.delete")
                .unwrap_err(),
            "customers.delete needs the customers:delete grant, which this workflow does not have"
        );
    }
}
