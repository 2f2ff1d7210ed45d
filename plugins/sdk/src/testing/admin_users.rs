//! The fake's admin users and roles.

use serde_json::Value;

use super::Fake;
use super::matching::*;
use crate::{AdminUser, MagentoError, NewAdminUser, Patch, Refusal, Role, SearchCriteria};

impl Fake {
    pub(crate) fn search_admin_users(
        &mut self,
        criteria: &SearchCriteria,
    ) -> Result<Vec<AdminUser>, MagentoError> {
        self.calls.push("admin-users.search");
        let mut found = Vec::new();
        for u in self.admin_users.values() {
            if matches(criteria, |f| admin_field(u, f))? {
                found.push(u.clone());
            }
        }
        Ok(found)
    }

    pub(crate) fn get_admin_user(&mut self, id: u64) -> Result<AdminUser, MagentoError> {
        self.calls.push("admin-users.get");
        self.admin_users
            .get(&id)
            .cloned()
            .ok_or_else(|| no_such("userId", id))
    }

    pub(crate) fn find_admin_user(
        &mut self,
        email: &str,
    ) -> Result<Option<AdminUser>, MagentoError> {
        self.calls.push("admin-users.find-by-email");
        Ok(self
            .admin_users
            .values()
            .find(|u| u.email.eq_ignore_ascii_case(email))
            .cloned())
    }

    pub(crate) fn create_admin_user(
        &mut self,
        new: &NewAdminUser,
        _password: &str,
    ) -> Result<AdminUser, MagentoError> {
        self.calls.push("admin-users.create");
        if !self.roles.iter().any(|r| r.id == new.role_id) {
            return Err(MagentoError::Invalid(format!(
                "role {} does not exist",
                new.role_id
            )));
        }
        if self
            .admin_users
            .values()
            .any(|u| u.username == new.username || u.email.eq_ignore_ascii_case(&new.email))
        {
            return Err(MagentoError::BadRequest(Refusal {
                status: 400,
                message: "A user with the same user name or email already exists.".into(),
                template: "A user with the same user name or email already exists.".into(),
                parameters_json: None,
            }));
        }
        let id = self
            .admin_users
            .keys()
            .next_back()
            .map_or(1, |last| last + 1);
        let u = AdminUser {
            id,
            username: new.username.clone(),
            firstname: new.firstname.clone(),
            lastname: new.lastname.clone(),
            email: new.email.clone(),
            is_active: true,
            role_id: new.role_id,
        };
        self.admin_users.insert(id, u.clone());
        Ok(u)
    }

    pub(crate) fn update_admin_user(
        &mut self,
        id: u64,
        patch: &Patch,
    ) -> Result<AdminUser, MagentoError> {
        self.calls.push("admin-users.update");
        let mut u = self
            .admin_users
            .get(&id)
            .cloned()
            .ok_or_else(|| no_such("userId", id))?;
        for f in &patch.set {
            let value: Value = serde_json::from_str(&f.value_json).map_err(|e| {
                MagentoError::Invalid(format!("the value for {} is not JSON ({e})", f.field))
            })?;
            let text = value
                .as_str()
                .map_or_else(|| value.to_string(), str::to_owned);
            match f.field.as_str() {
                "username" => u.username = text,
                "firstname" => u.firstname = text,
                "lastname" => u.lastname = text,
                "email" => u.email = text,
                "is_active" => u.is_active = value.as_bool().unwrap_or(text == "1"),
                "role_id" => u.role_id = text.parse().unwrap_or(u.role_id),
                _ => {}
            }
        }
        self.admin_users.insert(id, u.clone());
        Ok(u)
    }

    pub(crate) fn deactivate_admin_user(&mut self, id: u64) -> Result<AdminUser, MagentoError> {
        self.calls.push("admin-users.deactivate");
        let u = self
            .admin_users
            .get_mut(&id)
            .ok_or_else(|| no_such("userId", id))?;
        u.is_active = false;
        Ok(u.clone())
    }

    pub(crate) fn delete_admin_user(&mut self, id: u64) -> Result<(), MagentoError> {
        self.calls.push("admin-users.delete");
        self.admin_users
            .remove(&id)
            .map(drop)
            .ok_or_else(|| no_such("userId", id))
    }

    pub(crate) fn list_roles(&mut self) -> Result<Vec<Role>, MagentoError> {
        self.calls.push("admin-users.roles");
        Ok(self.roles.clone())
    }
}
