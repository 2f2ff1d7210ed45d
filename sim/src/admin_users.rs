//! The admin-user extension endpoints the seed document describes (`/V1/users`, `/V1/roles`).
//! They are not core Magento: `--admin-users-api off` makes their routes answer 404 as a
//! real installation without the extension does. Validation messages are Magento_User's own.

use std::borrow::Cow;

use serde_json::{Map, Value, json};

use crate::auth::Principal;
use crate::criteria::Criteria;
use crate::customers::Page;
use crate::error::{MResult, MagentoError};
use crate::filter::{Searchable, Val, search};
use crate::input::{boolean, check_markup, int, normalize, string, type_error};
use crate::model::AdminUser;
use crate::state::State;
use crate::time::format_ts;

const USER_FIELDS: &[&str] = &[
    "id",
    "user_id",
    "username",
    "firstname",
    "lastname",
    "email",
    "password",
    "password_confirmation",
    "role_id",
    "is_active",
    "interface_locale",
    // Read-only fields a client sends back after reading the user; accepted and ignored.
    "created",
    "modified",
    "logdate",
];

/// `Magento\User\Model\UserValidationRules::MIN_PASSWORD_LENGTH`.
pub const MIN_ADMIN_PASSWORD_LENGTH: usize = 7;

fn user_object(body: &Value) -> MResult<Map<String, Value>> {
    let top = body.as_object().ok_or_else(|| type_error(body, "object"))?;
    let inner = top
        .get("user")
        .filter(|v| !v.is_null())
        .ok_or_else(|| MagentoError::required("user"))?;
    normalize(inner, USER_FIELDS)
}

/// The admin password rules, every failure listed.
pub fn password_errors(password: &str, confirmation: Option<&str>) -> Vec<MagentoError> {
    let mut errors = Vec::new();
    if password.is_empty() {
        errors.push(MagentoError::bad_request("Password is required field."));
        return errors;
    }
    if password.chars().count() < MIN_ADMIN_PASSWORD_LENGTH {
        errors.push(
            MagentoError::bad_request("Your password must be at least %1 characters.")
                .with(json!([MIN_ADMIN_PASSWORD_LENGTH])),
        );
    }
    let alpha = password.chars().any(|c| c.is_alphabetic());
    let digit = password.chars().any(|c| c.is_ascii_digit());
    if !(alpha && digit) {
        errors.push(MagentoError::bad_request(
            "Your password must include both numeric and alphabetic characters.",
        ));
    }
    if confirmation.is_some_and(|c| c != password) {
        errors.push(MagentoError::bad_request(
            "Your password confirmation must match your password.",
        ));
    }
    errors
}

fn apply(u: &mut AdminUser, m: &Map<String, Value>) -> MResult<()> {
    for (key, slot) in [
        ("username", &mut u.username),
        ("firstname", &mut u.firstname),
        ("lastname", &mut u.lastname),
        ("email", &mut u.email),
    ] {
        if m.contains_key(key) {
            *slot = string(m, key)?.unwrap_or_default();
            check_markup(key, slot)?;
        }
    }
    if let Some(b) = boolean(m, "is_active")? {
        u.is_active = b;
    }
    if let Some(r) = int(m, "role_id")? {
        u.role_id = r as u32;
    }
    Ok(())
}

fn validate(state: &State, u: &AdminUser, password: Option<(&str, Option<&str>)>) -> MResult<()> {
    let mut errors = Vec::new();
    if u.username.trim().is_empty() {
        errors.push(MagentoError::bad_request("User Name is a required field."));
    }
    if u.firstname.trim().is_empty() {
        errors.push(MagentoError::bad_request("First Name is a required field."));
    }
    if u.lastname.trim().is_empty() {
        errors.push(MagentoError::bad_request("Last Name is a required field."));
    }
    let email_ok = u
        .email
        .split_once('@')
        .is_some_and(|(l, d)| !l.is_empty() && d.contains('.'));
    if !email_ok {
        errors.push(MagentoError::bad_request("Please enter a valid email."));
    }
    if let Some((p, confirm)) = password {
        errors.extend(password_errors(p, confirm));
    }
    if let Some(e) = MagentoError::aggregate(errors) {
        return Err(e);
    }
    if !state.roles.contains_key(&u.role_id) {
        return Err(
            MagentoError::bad_request("The role with id %1 does not exist.")
                .with(json!([u.role_id])),
        );
    }
    let clash = state.admin_users.values().any(|o| {
        o.id != u.id
            && (o.username.eq_ignore_ascii_case(&u.username)
                || o.email.eq_ignore_ascii_case(&u.email))
    });
    if clash {
        return Err(MagentoError::bad_request(
            "A user with the same user name or email already exists.",
        ));
    }
    Ok(())
}

/// `POST /V1/users`.
pub fn create(state: &mut State, now: i64, body: &Value) -> MResult<AdminUser> {
    let m = user_object(body)?;
    if int(&m, "role_id")?.is_none() {
        return Err(MagentoError::required("role_id"));
    }
    let password = string(&m, "password")?.unwrap_or_default();
    let confirm = string(&m, "password_confirmation")?;
    let ts = format_ts(now);
    let mut u = AdminUser {
        id: state.next_admin_id,
        username: String::new(),
        firstname: String::new(),
        lastname: String::new(),
        email: String::new(),
        is_active: true,
        role_id: 0,
        created: ts.clone(),
        modified: ts,
        password: password.clone(),
    };
    apply(&mut u, &m)?;
    validate(state, &u, Some((&password, confirm.as_deref())))?;
    state.next_admin_id += 1;
    state.admin_users.insert(u.id, u.clone());
    state.log_write(now, "create", "admin_user", u.id, "rest");
    Ok(u)
}

/// `PUT /V1/users/{id}`: the fields sent merge onto the stored user.
pub fn update(state: &mut State, now: i64, id: u64, body: &Value) -> MResult<AdminUser> {
    let m = user_object(body)?;
    let mut u = state
        .admin_users
        .get(&id)
        .cloned()
        .ok_or_else(|| MagentoError::no_such_entity("userId", id))?;
    apply(&mut u, &m)?;
    let password = string(&m, "password")?;
    let confirm = string(&m, "password_confirmation")?;
    validate(
        state,
        &u,
        password.as_deref().map(|p| (p, confirm.as_deref())),
    )?;
    if let Some(p) = password {
        u.password = p;
    }
    u.modified = format_ts(now);
    if !u.is_active {
        state.revoke_tokens(Principal::Admin(id));
    }
    state.admin_users.insert(id, u.clone());
    state.log_write(now, "update", "admin_user", id, "rest");
    Ok(u)
}

/// `DELETE /V1/users/{id}`.
pub fn delete(state: &mut State, now: i64, caller: Principal, id: u64) -> MResult<()> {
    if !state.admin_users.contains_key(&id) {
        return Err(MagentoError::no_such_entity("userId", id));
    }
    if caller == Principal::Admin(id) {
        return Err(MagentoError::bad_request(
            "You cannot delete your own account.",
        ));
    }
    state.admin_users.remove(&id);
    state.revoke_tokens(Principal::Admin(id));
    state.log_write(now, "delete", "admin_user", id, "rest");
    Ok(())
}

/// `GET /V1/users/search` (also answered at `GET /V1/users`).
pub fn search_json(state: &State, criteria: &Criteria) -> MResult<Vec<u8>> {
    let users: Vec<&AdminUser> = state.admin_users.values().collect();
    let (items, total_count) = search(&users, criteria)?;
    let page = Page {
        items,
        search_criteria: criteria.echo(),
        total_count,
    };
    Ok(serde_json::to_vec(&page).expect("admin users always serialise"))
}

/// `GET /V1/roles`: every role.
pub fn roles_json(state: &State) -> Value {
    let items: Vec<_> = state.roles.values().collect();
    json!({ "items": items, "total_count": items.len() })
}

const SEARCH_FIELDS: &[&str] = &[
    "id",
    "username",
    "firstname",
    "lastname",
    "email",
    "is_active",
    "role_id",
    "created",
    "modified",
];

impl Searchable for AdminUser {
    fn id(&self) -> u64 {
        self.id
    }

    fn field(name: &str) -> Option<u16> {
        let name = if name == "user_id" { "id" } else { name };
        SEARCH_FIELDS
            .iter()
            .position(|f| *f == name)
            .map(|i| i as u16)
    }

    fn value(&self, field: u16) -> Val<'_> {
        let text = |s: &'_ str| Val::Text(Cow::Owned(s.to_owned()));
        match field {
            0 => Val::Int(self.id as i64),
            1 => text(&self.username),
            2 => text(&self.firstname),
            3 => text(&self.lastname),
            4 => text(&self.email),
            5 => Val::Int(i64::from(self.is_active)),
            6 => Val::Int(self.role_id.into()),
            7 => text(&self.created),
            8 => text(&self.modified),
            _ => Val::Null,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn admin_password_rules_are_listed_together() {
        let e = password_errors("abc", Some("abd"));
        let msgs: Vec<_> = e.iter().map(|e| e.message.as_str()).collect();
        assert_eq!(
            msgs,
            vec![
                "Your password must be at least %1 characters.",
                "Your password must include both numeric and alphabetic characters.",
                "Your password confirmation must match your password.",
            ]
        );
        assert!(password_errors("abcdef12", None).is_empty());
        assert_eq!(
            password_errors("", None)[0].message,
            "Password is required field."
        );
    }
}
