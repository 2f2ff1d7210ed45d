//! The one table of the Magento calls a plugin can make: each call's WIT name, the grant that
//! allows it, and whether it changes Magento. The gateway's names, the host functions' grant
//! checks, the policy's gateable calls and the dry run's choice of what to plan all read it.
//! Adding a WIT function is a row here and a [`Call`](crate::Call) variant, which
//! `Call::kind` must map (the compiler checks that match).

use crate::grants::Grant;

macro_rules! calls {
    ($($kind:ident: $name:literal, [$($grant:ident),+], $writes:literal;)*) => {
        /// A Magento call, without its arguments.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum CallKind {
            $(#[doc = concat!("`", $name, "`")] $kind,)*
        }

        impl CallKind {
            /// Every call, in the order of the WIT interfaces.
            pub const ALL: &'static [CallKind] = &[$(CallKind::$kind,)*];

            /// The WIT function, e.g. `customers.get`.
            pub const fn name(self) -> &'static str {
                match self {
                    $(CallKind::$kind => $name,)*
                }
            }

            /// The grants any one of which allows the call; a refusal names the first.
            pub const fn grants(self) -> &'static [Grant] {
                match self {
                    $(CallKind::$kind => &[$(Grant::$grant),+],)*
                }
            }

            /// Whether the call changes Magento: a policy may require an approval for it, and
            /// a dry run plans it instead of sending it.
            pub const fn writes(self) -> bool {
                match self {
                    $(CallKind::$kind => $writes,)*
                }
            }
        }
    };
}

calls! {
    SearchCustomers: "customers.search", [CustomersRead], false;
    GetCustomer: "customers.get", [CustomersRead], false;
    FindCustomerByEmail: "customers.find-by-email", [CustomersRead], false;
    CreateCustomer: "customers.create", [CustomersWrite], true;
    UpdateCustomer: "customers.update", [CustomersWrite], true;
    DeleteCustomer: "customers.delete", [CustomersDelete], true;
    ListGroups: "groups.list", [CustomersRead, CustomersWrite], false;
    SearchAdminUsers: "admin-users.search", [AdminUsersRead, AdminUsersWrite], false;
    GetAdminUser: "admin-users.get", [AdminUsersRead, AdminUsersWrite], false;
    FindAdminUserByEmail: "admin-users.find-by-email", [AdminUsersRead, AdminUsersWrite], false;
    CreateAdminUser: "admin-users.create", [AdminUsersWrite], true;
    UpdateAdminUser: "admin-users.update", [AdminUsersWrite], true;
    DeactivateAdminUser: "admin-users.deactivate", [AdminUsersWrite], true;
    DeleteAdminUser: "admin-users.delete", [AdminUsersWrite], true;
    ListRoles: "admin-users.roles", [AdminUsersRead, AdminUsersWrite], false;
    SubmitBulkUpdates: "bulk.submit-updates", [Bulk], true;
    BulkStatus: "bulk.status", [Bulk], false;
    WaitBulks: "bulk.wait", [Bulk], false;
}

impl CallKind {
    /// The call with this WIT name.
    pub fn by_name(name: &str) -> Option<CallKind> {
        CallKind::ALL.iter().copied().find(|k| k.name() == name)
    }

    /// The calls that change Magento, which a workflow's policy may gate.
    pub fn writes_all() -> impl Iterator<Item = CallKind> {
        CallKind::ALL.iter().copied().filter(|k| k.writes())
    }
}

#[cfg(test)]
mod tests {
    use super::CallKind;
    use crate::grants::INTERFACES;

    #[test]
    fn every_call_has_one_name_and_grants_its_interface_allows() {
        let mut names: Vec<_> = CallKind::ALL.iter().map(|k| k.name()).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), CallKind::ALL.len());
        for k in CallKind::ALL {
            assert_eq!(CallKind::by_name(k.name()), Some(*k));
            // A grant that allows a call also lets a plugin import the call's interface.
            let interface = k.name().split('.').next().unwrap();
            let (_, importable) = INTERFACES.iter().find(|(i, _)| *i == interface).unwrap();
            for g in k.grants() {
                assert!(importable.contains(g), "{} is allowed by {g}", k.name());
            }
        }
        assert_eq!(CallKind::writes_all().count(), 8);
    }
}
