//! What a SCIM root is configured with (`[scim.admin]`, `[scim.customers]` in mageflow.toml).

/// Which Magento accounts a root provisions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// `/scim/v2/admin`: admin users; groups map to admin roles.
    Admin,
    /// `/scim/v2/customers`: storefront customers; groups map to customer groups.
    Customers,
}

impl Target {
    /// `admin` or `customers`, the root's path segment.
    pub fn name(self) -> &'static str {
        match self {
            Target::Admin => "admin",
            Target::Customers => "customers",
        }
    }
}

/// A change that waits for an approval when its root lists it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Risk {
    /// Creating an account (or re-linking a retained one).
    Create,
    /// `active` from false to true.
    Reactivate,
    /// A move to a more privileged admin role (earlier in the root's `groups`).
    RoleUpgrade,
    /// An email change (it enables a password-reset takeover).
    EmailChange,
    /// A username change.
    UsernameChange,
    /// Deleting the Magento record after a SCIM DELETE deactivated it.
    HardDelete,
    /// A move into a customer group marked privileged.
    PrivilegedGroup,
}

impl Risk {
    /// Every risk, in order.
    pub const ALL: [Risk; 7] = [
        Risk::Create,
        Risk::Reactivate,
        Risk::RoleUpgrade,
        Risk::EmailChange,
        Risk::UsernameChange,
        Risk::HardDelete,
        Risk::PrivilegedGroup,
    ];

    /// Its name in mageflow.toml (`role-upgrade`).
    pub fn name(self) -> &'static str {
        match self {
            Risk::Create => "create",
            Risk::Reactivate => "reactivate",
            Risk::RoleUpgrade => "role-upgrade",
            Risk::EmailChange => "email-change",
            Risk::UsernameChange => "username-change",
            Risk::HardDelete => "hard-delete",
            Risk::PrivilegedGroup => "privileged-group",
        }
    }

    /// Reads a risk's name.
    pub fn parse(text: &str) -> Result<Risk, String> {
        Risk::ALL
            .into_iter()
            .find(|r| r.name() == text)
            .ok_or_else(|| {
                format!(
                    "unknown change {text:?} in approve: the changes are {}",
                    Risk::ALL.map(Risk::name).join(", ")
                )
            })
    }
}

/// A SCIM group that means a Magento role or customer group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupMap {
    /// The group's `displayName` (ignoring case) or `externalId`.
    pub group: String,
    /// The admin role id, or the customer group id.
    pub target: u32,
    /// A customer group moves into which need approval (`privileged-group`).
    pub privileged: bool,
}

/// One SCIM root.
#[derive(Debug, Clone)]
pub struct RootConfig {
    /// What it provisions.
    pub target: Target,
    /// The workflow whose runs carry out its changes (the scim-bridge plugin).
    pub workflow: String,
    /// The changes that wait for an approval.
    pub approve: Vec<Risk>,
    /// Group mappings, most privileged first: a user in several mapped groups gets the first.
    pub groups: Vec<GroupMap>,
    /// The role or customer group of a user in no mapped group.
    pub default_target: u32,
    /// Customers: the group a deactivated customer is moved to (core Magento has no active
    /// flag for customers).
    pub inactive_group: u32,
    /// Customers: their website.
    pub website_id: u32,
}

impl RootConfig {
    /// The defaults of a root: approvals for every risk that applies to it.
    pub fn new(target: Target, workflow: &str) -> RootConfig {
        let approve = match target {
            Target::Admin => vec![
                Risk::Create,
                Risk::Reactivate,
                Risk::RoleUpgrade,
                Risk::EmailChange,
                Risk::UsernameChange,
                Risk::HardDelete,
            ],
            Target::Customers => vec![Risk::HardDelete, Risk::PrivilegedGroup],
        };
        RootConfig {
            target,
            workflow: workflow.to_owned(),
            approve,
            groups: Vec::new(),
            default_target: match target {
                Target::Admin => 0,
                Target::Customers => 1,
            },
            inactive_group: 0,
            website_id: 1,
        }
    }

    /// Whether `risk` waits for an approval here.
    pub fn gates(&self, risk: Risk) -> bool {
        self.approve.contains(&risk)
    }
}

/// The SCIM roots `mageflow serve` answers (none by default).
#[derive(Debug, Clone, Default)]
pub struct ScimConfig {
    /// The roots.
    pub roots: Vec<RootConfig>,
}

impl ScimConfig {
    /// The root at `/scim/v2/{name}`.
    pub fn root(&self, name: &str) -> Option<&RootConfig> {
        self.roots.iter().find(|r| r.target.name() == name)
    }
}
