//! Who is asking, and what they may do: roles, each limited to workflows by name or glob.

use serde::Serialize;

use crate::api::ApiError;

/// What a principal may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Role {
    /// Read runs and approvals.
    Viewer,
    /// Start runs, including dry runs.
    Operator,
    /// Decide the approvals it is named for, or whose named group it is in.
    Approver,
    /// Manage tokens and read the access audit.
    Admin,
    /// Provision through the SCIM root of the workflows it covers (an identity provider).
    Scim,
}

impl Role {
    /// Every role, in order.
    pub const ALL: [Role; 5] = [
        Role::Viewer,
        Role::Operator,
        Role::Approver,
        Role::Admin,
        Role::Scim,
    ];

    /// The role's name (`viewer`).
    pub fn name(self) -> &'static str {
        match self {
            Role::Viewer => "viewer",
            Role::Operator => "operator",
            Role::Approver => "approver",
            Role::Admin => "admin",
            Role::Scim => "scim",
        }
    }

    /// Reads a role's name.
    pub fn parse(text: &str) -> Result<Role, String> {
        Role::ALL
            .into_iter()
            .find(|r| r.name() == text.trim())
            .ok_or_else(|| {
                format!(
                    "unknown role {text:?}: the roles are viewer, operator, approver, admin and scim"
                )
            })
    }

    /// Reads `viewer,operator`.
    pub fn parse_list(text: &str) -> Result<Vec<Role>, String> {
        let mut roles = text
            .split([',', '+'])
            .filter(|r| !r.trim().is_empty())
            .map(Role::parse)
            .collect::<Result<Vec<_>, _>>()?;
        roles.sort();
        roles.dedup();
        if roles.is_empty() {
            return Err("name at least one role: viewer, operator, approver, admin or scim".into());
        }
        Ok(roles)
    }
}

/// One role, over the workflows it covers (empty: every workflow).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Grant {
    /// The role.
    pub role: Role,
    /// Workflow names or globs (`group-*`); empty means all.
    pub workflows: Vec<String>,
}

impl Grant {
    /// Each of `roles`, over `workflows` (empty: every workflow).
    pub fn each(roles: impl IntoIterator<Item = Role>, workflows: &[String]) -> Vec<Grant> {
        roles
            .into_iter()
            .map(|role| Grant {
                role,
                workflows: workflows.to_vec(),
            })
            .collect()
    }

    fn covers(&self, workflow: Option<&str>) -> bool {
        match workflow {
            None => true,
            Some(w) => self.workflows.is_empty() || self.workflows.iter().any(|g| glob(g, w)),
        }
    }
}

/// How a principal proved who it is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case", tag = "kind", content = "id")]
pub enum Via {
    /// A token of the data directory (its id).
    Token(String),
    /// A token from `MAGEFLOW_APPROVER_TOKENS` (demo and tests).
    EnvToken,
    /// A single sign-on session.
    Sso,
    /// The data directory opened by its owner, with no server (the OS user).
    Local,
}

/// An authenticated person or client.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Principal {
    /// The name runs and decisions are recorded under.
    pub name: String,
    /// What it may do.
    pub grants: Vec<Grant>,
    /// The groups it is in (approvals may name `group:NAME`).
    pub groups: Vec<String>,
    /// How it proved who it is.
    pub via: Via,
}

impl Principal {
    /// The owner of the data directory, working on it with no server: every role.
    pub fn local() -> Principal {
        let user = std::env::var("USER")
            .or_else(|_| std::env::var("LOGNAME"))
            .unwrap_or_else(|_| "unknown".into());
        Principal {
            name: format!("local:{user}"),
            grants: Grant::each(Role::ALL, &[]),
            groups: Vec::new(),
            via: Via::Local,
        }
    }

    /// Whether it has `role` for `workflow` (for any workflow, when `None`).
    pub fn may(&self, role: Role, workflow: Option<&str>) -> bool {
        self.grants
            .iter()
            .any(|g| g.role == role && g.covers(workflow))
    }

    /// Whether it may read a workflow's runs and approvals: viewers, and the operators and
    /// approvers of that workflow.
    pub fn may_view(&self, workflow: &str) -> bool {
        [Role::Viewer, Role::Operator, Role::Approver]
            .into_iter()
            .any(|r| self.may(r, Some(workflow)))
    }

    /// Refuses (403, naming the role) unless it has `role` for `workflow`.
    pub fn require(&self, role: Role, workflow: Option<&str>, to: &str) -> Result<(), ApiError> {
        if self.may(role, workflow) {
            return Ok(());
        }
        let scope = workflow
            .map(|w| format!(" for workflow {w}"))
            .unwrap_or_default();
        Err(ApiError::Forbidden(format!(
            "{} may not {to}: that needs the {} role{scope}, and {} has {}",
            self.name,
            role.name(),
            self.name,
            self.roles_text()
        )))
    }

    /// Refuses (403) unless it may read `workflow`'s runs.
    pub fn require_view(&self, workflow: &str) -> Result<(), ApiError> {
        if self.may_view(workflow) {
            return Ok(());
        }
        Err(ApiError::Forbidden(format!(
            "{} may not read the runs of workflow {workflow}: that needs the viewer, operator or \
             approver role for it, and {} has {}",
            self.name,
            self.name,
            self.roles_text()
        )))
    }

    /// `viewer, approver (group-*)`, or `no role`.
    pub fn roles_text(&self) -> String {
        if self.grants.is_empty() {
            return "no role".into();
        }
        self.grants
            .iter()
            .map(|g| {
                if g.workflows.is_empty() {
                    g.role.name().to_owned()
                } else {
                    format!("{} ({})", g.role.name(), g.workflows.join(", "))
                }
            })
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// Matches `text` against a glob of `*` (any run of characters) and `?` (one character).
pub fn glob(pattern: &str, text: &str) -> bool {
    let (p, t): (Vec<char>, Vec<char>) = (pattern.chars().collect(), text.chars().collect());
    let (mut pi, mut ti) = (0, 0);
    // Where the last `*` was, and the text position it was tried at.
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some((pi, ti));
            pi += 1;
        } else if let Some((sp, st)) = star {
            pi = sp + 1;
            ti = st + 1;
            star = Some((sp, st + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|&c| c == '*')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs_match_names() {
        assert!(glob("group-*", "group-reassign"));
        assert!(glob("*", "anything"));
        assert!(glob("on?oard-*", "onboard-customer"));
        assert!(glob("a*b*c", "aXbYbc"));
        assert!(!glob("group-*", "offboard-admin"));
        assert!(!glob("exact", "exactly"));
        assert!(glob("exact", "exact"));
    }

    #[test]
    fn roles_cover_their_workflows_only() {
        let p = Principal {
            name: "olga".into(),
            grants: vec![Grant {
                role: Role::Operator,
                workflows: vec!["group-*".into()],
            }],
            groups: vec![],
            via: Via::EnvToken,
        };
        assert!(p.may(Role::Operator, Some("group-reassign")));
        assert!(!p.may(Role::Operator, Some("offboard-admin")));
        assert!(!p.may(Role::Approver, Some("group-reassign")));
        assert!(p.may_view("group-reassign"));
        let refused = p.require(Role::Approver, Some("group-reassign"), "decide approval 3");
        let text = refused.unwrap_err().to_string();
        assert!(text.contains("needs the approver role"), "{text}");
        assert!(text.contains("operator (group-*)"), "{text}");
    }

    #[test]
    fn role_lists_parse_and_refuse_unknown_names() {
        assert_eq!(
            Role::parse_list("approver,operator").unwrap(),
            vec![Role::Operator, Role::Approver]
        );
        assert!(
            Role::parse_list("root")
                .unwrap_err()
                .contains("unknown role")
        );
        assert!(Role::parse_list("").is_err());
    }
}
