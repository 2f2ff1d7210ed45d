//! What a SCIM user means in Magento: the account fields a root sends, read from the SCIM
//! document, and the steps (with their risks) that take Magento from one to the other.

use mageflow_scim::{ScimError, ScimType, path};
use serde_json::{Map, Value, json};

use super::config::{Risk, RootConfig, Target};

/// Magento's `admin_user.username` is varchar(40).
pub(crate) const USERNAME_MAX: usize = 40;
/// `admin_user.firstname` and `lastname` are varchar(32).
pub(crate) const ADMIN_NAME_MAX: usize = 32;

/// The Magento side of a SCIM user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Account {
    pub(crate) username: String,
    pub(crate) firstname: String,
    pub(crate) lastname: String,
    pub(crate) email: String,
    pub(crate) active: bool,
    /// The admin role, or the customer group (before deactivation moves it).
    pub(crate) group: u32,
}

fn text<'a>(o: &'a Map<String, Value>, key: &str) -> Option<&'a str> {
    path::get_ci(o, key)
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|s| !s.is_empty())
}

fn invalid(detail: String) -> ScimError {
    ScimError::bad(ScimType::InvalidValue, detail)
}

/// The primary email, else the work one, else the first.
pub(crate) fn email(doc: &Map<String, Value>) -> Option<String> {
    let emails = path::get_ci(doc, "emails")?.as_array()?;
    let objects: Vec<&Map<String, Value>> = emails.iter().filter_map(Value::as_object).collect();
    let pick = objects
        .iter()
        .find(|e| path::get_ci(e, "primary") == Some(&Value::Bool(true)))
        .or_else(|| {
            objects
                .iter()
                .find(|e| text(e, "type").is_some_and(|t| t.eq_ignore_ascii_case("work")))
        })
        .or_else(|| objects.first())?;
    text(pick, "value").map(str::to_owned)
}

/// Cuts a name to Magento's column; the SCIM document keeps it whole.
fn fit(name: &str, max: usize) -> String {
    name.chars().take(max).collect()
}

impl Account {
    /// Reads the account of a (normalized) SCIM user; `group` is the mapped role or group.
    pub(crate) fn of(
        doc: &Map<String, Value>,
        root: &RootConfig,
        group: u32,
    ) -> Result<Account, ScimError> {
        let username = text(doc, "userName")
            .ok_or_else(|| invalid("userName is required".into()))?
            .to_owned();
        if root.target == Target::Admin && username.chars().count() > USERNAME_MAX {
            return Err(invalid(format!(
                "userName {username:?} has {} characters; Magento admin usernames hold at most {USERNAME_MAX}: map a shorter attribute to userName in the identity provider",
                username.chars().count()
            )));
        }
        let name = path::get_ci(doc, "name").and_then(Value::as_object);
        let part = |key: &str| name.and_then(|n| text(n, key)).map(str::to_owned);
        let firstname = part("givenName").ok_or_else(|| {
            invalid("name.givenName is required: Magento needs a first name".into())
        })?;
        let lastname = part("familyName").ok_or_else(|| {
            invalid("name.familyName is required: Magento needs a last name".into())
        })?;
        let email = email(doc).ok_or_else(|| {
            invalid(
                "emails is required: Magento needs an email (the primary one, else the work one)"
                    .into(),
            )
        })?;
        if !email.contains('@') {
            return Err(invalid(format!("the email {email:?} has no @")));
        }
        let (firstname, lastname) = match root.target {
            Target::Admin => (
                fit(&firstname, ADMIN_NAME_MAX),
                fit(&lastname, ADMIN_NAME_MAX),
            ),
            Target::Customers => (firstname, lastname),
        };
        let active = path::get_ci(doc, "active")
            .and_then(Value::as_bool)
            .unwrap_or(true);
        Ok(Account {
            username,
            firstname,
            lastname,
            email,
            active,
            group,
        })
    }

    /// The customer group Magento should hold: the inactive group while deactivated.
    fn customer_group(&self, root: &RootConfig) -> u32 {
        if self.active {
            self.group
        } else {
            root.inactive_group
        }
    }
}

/// How privileged a role or group is: its place in the root's mappings (0 is the most).
fn rank(root: &RootConfig, group: u32) -> usize {
    root.groups
        .iter()
        .position(|g| g.target == group)
        .unwrap_or(root.groups.len())
}

/// The Magento steps of a change, split into what never waits (a deactivation) and the rest,
/// with the risks of the rest.
#[derive(Debug, Default, Clone, PartialEq)]
pub(crate) struct Plan {
    /// Steps run at once, without an approval.
    pub(crate) now: Vec<Value>,
    /// Steps that wait when any of `risks` is gated.
    pub(crate) rest: Vec<Value>,
    /// What makes `rest` risky.
    pub(crate) risks: Vec<Risk>,
    /// What changes, for the approvers: `field: {from, to}`.
    pub(crate) changes: Map<String, Value>,
}

/// The plan that takes Magento from `old` (absent: no Magento record yet) to `new`.
pub(crate) fn plan(
    root: &RootConfig,
    id: Option<u64>,
    old: Option<&Account>,
    new: &Account,
) -> Plan {
    let mut p = Plan::default();
    let admin = root.target == Target::Admin;
    let Some((id, old)) = id.zip(old) else {
        p.risks.push(Risk::Create);
        if admin {
            p.rest.push(
                json!({"do": "create-admin", "username": new.username, "firstname": new.firstname,
                "lastname": new.lastname, "email": new.email, "role_id": new.group}),
            );
            if !new.active {
                p.rest
                    .push(json!({"do": "deactivate-admin", "id": Value::Null}));
            }
        } else {
            p.rest.push(json!({"do": "create-customer", "email": new.email, "firstname": new.firstname,
                "lastname": new.lastname, "group_id": new.customer_group(root), "website_id": root.website_id}));
            if root
                .groups
                .iter()
                .any(|g| g.privileged && g.target == new.customer_group(root))
            {
                p.risks.push(Risk::PrivilegedGroup);
            }
        }
        for (k, v) in [("username", &new.username), ("email", &new.email)] {
            p.changes.insert(k.into(), json!({"to": v}));
        }
        p.changes.insert("group".into(), json!({"to": new.group}));
        return p;
    };
    let mut set = Map::new();
    let mut change = |field: &str, from: Value, to: Value, set: &mut Map<String, Value>| {
        if from != to {
            p.changes
                .insert(field.into(), json!({"from": from, "to": to}));
            set.insert(field.into(), to);
        }
    };
    if admin {
        change(
            "username",
            json!(old.username),
            json!(new.username),
            &mut set,
        );
    }
    change(
        "firstname",
        json!(old.firstname),
        json!(new.firstname),
        &mut set,
    );
    change(
        "lastname",
        json!(old.lastname),
        json!(new.lastname),
        &mut set,
    );
    change("email", json!(old.email), json!(new.email), &mut set);
    if admin {
        change("role_id", json!(old.group), json!(new.group), &mut set);
    } else {
        change(
            "group_id",
            json!(old.customer_group(root)),
            json!(new.customer_group(root)),
            &mut set,
        );
    }
    let deactivating = old.active && !new.active;
    if admin && old.active != new.active {
        p.changes.insert(
            "is_active".into(),
            json!({"from": old.active, "to": new.active}),
        );
        if new.active {
            set.insert("is_active".into(), json!(true));
        }
    }
    if set.contains_key("username") {
        p.risks.push(Risk::UsernameChange);
    }
    if set.contains_key("email") {
        p.risks.push(Risk::EmailChange);
    }
    if !old.active && new.active {
        p.risks.push(Risk::Reactivate);
    }
    if admin && set.contains_key("role_id") && rank(root, new.group) < rank(root, old.group) {
        p.risks.push(Risk::RoleUpgrade);
    }
    if !admin
        && let Some(g) = set.get("group_id").and_then(Value::as_u64)
        && root
            .groups
            .iter()
            .any(|m| m.privileged && u64::from(m.target) == g)
    {
        p.risks.push(Risk::PrivilegedGroup);
    }
    if deactivating {
        // The leaver path never waits: deactivate first, alone.
        if admin {
            p.now.push(json!({"do": "deactivate-admin", "id": id}));
        } else if let Some(g) = set.remove("group_id") {
            p.now
                .push(json!({"do": "update-customer", "id": id, "set": {"group_id": g}}));
        }
    }
    if !set.is_empty() {
        p.rest.push(json!({"do": if admin { "update-admin" } else { "update-customer" }, "id": id, "set": set}));
    }
    p
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scim::config::GroupMap;

    fn root() -> RootConfig {
        let mut r = RootConfig::new(Target::Admin, "scim-admin");
        r.groups = vec![
            GroupMap {
                group: "Magento Admins".into(),
                target: 1,
                privileged: false,
            },
            GroupMap {
                group: "Support".into(),
                target: 2,
                privileged: false,
            },
        ];
        r.default_target = 2;
        r
    }

    fn account(doc: &Value, group: u32) -> Result<Account, ScimError> {
        Account::of(doc.as_object().unwrap(), &root(), group)
    }

    #[test]
    fn accounts_need_magento_s_fields_and_long_names_are_cut_for_magento_only() {
        let doc = json!({"userName": "ann", "name": {"givenName": "A".repeat(40), "familyName": "B"},
            "emails": [{"value": "home@x.test", "type": "home"}, {"value": "ann@x.test", "type": "work"}]});
        let a = account(&doc, 2).unwrap();
        assert_eq!(
            (a.firstname.len(), a.email.as_str(), a.active),
            (32, "ann@x.test", true)
        );
        let e = account(&json!({"userName": "u".repeat(41), "name": {"givenName": "A", "familyName": "B"}, "emails": [{"value": "a@x"}]}), 2).unwrap_err();
        assert!(e.detail.contains("at most 40"), "{}", e.detail);
        let e = account(
            &json!({"userName": "u", "name": {"givenName": "A", "familyName": "B"}}),
            2,
        )
        .unwrap_err();
        assert!(e.detail.contains("emails is required"));
    }

    #[test]
    fn deactivation_is_split_off_and_risks_are_named() {
        let r = root();
        let old = Account {
            username: "ann".into(),
            firstname: "A".into(),
            lastname: "B".into(),
            email: "a@x".into(),
            active: true,
            group: 2,
        };
        let new = Account {
            active: false,
            email: "new@x".into(),
            group: 1,
            ..old.clone()
        };
        let p = plan(&r, Some(7), Some(&old), &new);
        assert_eq!(p.now, [json!({"do": "deactivate-admin", "id": 7})]);
        assert_eq!(p.risks, [Risk::EmailChange, Risk::RoleUpgrade]);
        assert_eq!(p.rest[0]["set"], json!({"email": "new@x", "role_id": 1}));
        let back = plan(
            &r,
            Some(7),
            Some(&new),
            &Account {
                active: true,
                ..new.clone()
            },
        );
        assert_eq!(back.risks, [Risk::Reactivate]);
        let down = plan(
            &r,
            Some(7),
            Some(&new),
            &Account {
                group: 2,
                ..new.clone()
            },
        );
        assert!(down.risks.is_empty() && down.now.is_empty());
        assert_eq!(plan(&r, None, None, &old).risks, [Risk::Create]);
    }
}
