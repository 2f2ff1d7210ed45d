//! Admin users and roles through the `/V1/users` and `/V1/roles` extension endpoints (not core
//! Magento: a no-route 404 becomes [`Error::AdminUsersApiMissing`]).

use reqwest::Method;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::client::MagentoClient;
use crate::criteria::{Condition, SearchCriteria};
use crate::error::{Error, Result};
use crate::pages::Pages;
use crate::patch::Patch;
use crate::types::{AdminUser, Role, SearchPage};
use crate::write::{Write, Written, Wrote};

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

    /// Checks a new admin user before anything is sent: the password rules and the role.
    pub(crate) async fn check_new_admin_user(&self, new: &NewAdminUser) -> Result<()> {
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
        Ok(())
    }

    /// Creates an admin user. The password rules and the role are checked first; a create whose
    /// outcome is unknown is sent again only after looking the user up by username.
    pub async fn create_admin_user(&self, new: &NewAdminUser) -> Result<AdminUser> {
        admin_user_of(
            self.write(&Write::CreateAdminUser(Box::new(new.clone())), false)
                .await?,
        )
    }

    /// PUT-merge of an admin user: stored fields the patch does not name are sent back as they
    /// were. A PUT whose answer is lost is sent again only if the user does not hold the patch.
    pub async fn update_admin_user(&self, id: u64, patch: &Patch) -> Result<AdminUser> {
        admin_user_of(
            self.write(&Write::UpdateAdminUser(id, patch.clone()), false)
                .await?,
        )
    }

    /// Deactivates an admin user (`is_active: false`): they can no longer log in.
    pub async fn deactivate_admin_user(&self, id: u64) -> Result<AdminUser> {
        self.update_admin_user(id, &Patch::new().set("is_active", Value::Bool(false)))
            .await
    }

    /// Deletes an admin user; a delete whose answer is lost is not sent again once the user
    /// is gone.
    pub async fn delete_admin_user(&self, id: u64) -> Result<()> {
        self.write(&Write::DeleteAdminUser(id), false)
            .await
            .map(drop)
    }
}

fn admin_user_of(written: Written) -> Result<AdminUser> {
    match written.wrote {
        Wrote::AdminUser(u) => Ok(u),
        other => unreachable!("an admin-user write answers an admin user, not {other:?}"),
    }
}

impl NewAdminUser {
    /// The request body of a create.
    pub(crate) fn body(&self) -> Value {
        json!({"user": {"username": self.username, "firstname": self.firstname, "lastname": self.lastname,
                        "email": self.email, "password": self.password, "role_id": self.role_id,
                        "is_active": self.is_active}})
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
