//! Admin users and roles through the `/V1/users` and `/V1/roles` extension endpoints (not core
//! Magento: a no-route 404 becomes [`Error::AdminUsersApiMissing`]).

use reqwest::Method;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::client::{MagentoClient, Repeat};
use crate::criteria::{Condition, SearchCriteria};
use crate::error::{Error, Result};
use crate::pages::Pages;
use crate::patch::Patch;
use crate::types::{AdminUser, Role, SearchPage};

/// An admin user to create.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct NewAdminUser {
    /// Login name.
    pub username: String,
    /// First name.
    pub firstname: String,
    /// Last name.
    pub lastname: String,
    /// Email.
    pub email: String,
    /// Password (Magento_User rules: 7+ characters, letters and digits). Never serialized
    /// (journals and digests leave it out).
    #[serde(skip_serializing, default)]
    pub password: String,
    /// Role; must exist.
    pub role_id: u32,
    /// Active on creation.
    pub is_active: bool,
}

/// Magento_User's admin password rules, every failure listed in its own words.
pub fn check_admin_password(password: &str) -> Result<()> {
    let mut problems = Vec::new();
    if password.chars().count() < 7 {
        problems.push("Your password must be at least 7 characters.");
    }
    let alpha = password.chars().any(char::is_alphabetic);
    let digit = password.chars().any(|c| c.is_ascii_digit());
    if !(alpha && digit) {
        problems.push("Your password must include both numeric and alphabetic characters.");
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(Error::Invalid {
            field: "password".into(),
            message: problems.join(" "),
        })
    }
}

impl MagentoClient {
    /// Every admin user matching `criteria`, streamed.
    pub fn admin_users(&self, criteria: SearchCriteria) -> Pages<'_, AdminUser> {
        Pages::new(self, "/V1/users/search", "user_id", criteria)
    }

    /// The admin user with this id.
    pub async fn admin_user(&self, id: u64) -> Result<AdminUser> {
        self.read(Method::GET, &format!("/V1/users/{id}"), "", None)
            .await
    }

    /// The admin user with this email.
    pub async fn find_admin_user_by_email(&self, email: &str) -> Result<Option<AdminUser>> {
        let c = SearchCriteria::new()
            .filter("email", Condition::Eq, email)
            .page_size(2);
        let page: SearchPage<AdminUser> = self
            .read(Method::GET, "/V1/users/search", &c.to_query(), None)
            .await?;
        Ok(page.items.into_iter().next())
    }

    /// Every admin role.
    pub async fn roles(&self) -> Result<Vec<Role>> {
        let page: SearchPage<Role> = self.read(Method::GET, "/V1/roles", "", None).await?;
        Ok(page.items)
    }

    /// Creates an admin user. The password rules and the role are checked first; a create whose
    /// outcome is unknown is retried only after looking the user up by username.
    pub async fn create_admin_user(&self, new: &NewAdminUser) -> Result<AdminUser> {
        check_admin_password(&new.password)?;
        let roles = self.roles().await?;
        if !roles.iter().any(|r| r.id == new.role_id) {
            let known: Vec<String> = roles
                .iter()
                .map(|r| format!("{} ({})", r.id, r.role_name))
                .collect();
            return Err(Error::Invalid {
                field: "role_id".into(),
                message: format!(
                    "role {} does not exist; the roles are {}",
                    new.role_id,
                    known.join(", ")
                ),
            });
        }
        let body = json!({"user": {"username": new.username, "firstname": new.firstname, "lastname": new.lastname,
                                   "email": new.email, "password": new.password, "role_id": new.role_id, "is_active": new.is_active}});
        let mut attempt = 0;
        loop {
            match self
                .request(Method::POST, "/V1/users", "", Some(&body), Repeat::Never)
                .await
            {
                Ok(v) => {
                    return serde_json::from_value(v).map_err(|e| Error::Decode {
                        method: "POST".into(),
                        path: "/V1/users".into(),
                        detail: e.to_string(),
                    });
                }
                Err(e)
                    if matches!(&e, Error::Transport { .. } | Error::Timeout { .. })
                        || e.status().is_some_and(|s| s >= 500) =>
                {
                    if let Some(found) = self.find_admin_user_by_email(&new.email).await? {
                        return Ok(found);
                    }
                    if attempt >= self.conn.retry.max_retries {
                        return Err(e);
                    }
                    attempt += 1;
                }
                Err(e) => return Err(e),
            }
        }
    }

    /// PUT-merge of an admin user: stored fields the patch does not name are sent back as they were.
    pub async fn update_admin_user(&self, id: u64, patch: &Patch) -> Result<AdminUser> {
        let path = format!("/V1/users/{id}");
        let mut stored = self
            .request(Method::GET, &path, "", None, Repeat::Safe)
            .await?;
        if let Some(obj) = stored.as_object_mut() {
            // Derived or secret fields are not sent back.
            obj.remove("password");
        }
        let merged = patch.apply(stored, id)?;
        self.read(Method::PUT, &path, "", Some(&json!({ "user": merged })))
            .await
    }

    /// Deactivates an admin user (`is_active: false`): they can no longer log in.
    pub async fn deactivate_admin_user(&self, id: u64) -> Result<AdminUser> {
        self.update_admin_user(id, &Patch::new().set("is_active", Value::Bool(false)))
            .await
    }

    /// Deletes an admin user.
    pub async fn delete_admin_user(&self, id: u64) -> Result<()> {
        self.request(
            Method::DELETE,
            &format!("/V1/users/{id}"),
            "",
            None,
            Repeat::Safe,
        )
        .await
        .map(drop)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn admin_password_rules_list_every_problem() {
        let e = check_admin_password("abc").unwrap_err().to_string();
        assert!(
            e.contains("at least 7") && e.contains("numeric and alphabetic"),
            "{e}"
        );
        assert!(check_admin_password("abcdef1").is_ok());
    }
}
