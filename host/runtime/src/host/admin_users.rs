//! `interface admin-users`: backend admin users and roles.

use std::sync::Arc;

use mageflow_magento::{MagentoClient, NewAdminUser};
use wasmtime::component::{HasSelf, Linker};

use crate::generated::mageflow::workflow::admin_users;
use crate::generated::mageflow::workflow::types::{
    AdminUser, MagentoError, NewAdminUser as WitNewAdminUser, Patch, Role, SearchCriteria,
};
use crate::grants::{Grant, Grants};
use crate::host::types::{self as convert, convert_error, denied};

/// Host state of `interface admin-users`.
#[derive(Debug)]
pub(crate) struct AdminUsersHost {
    pub(crate) client: Arc<MagentoClient>,
    pub(crate) grants: Grants,
}

type Answer<T> = wasmtime::Result<Result<T, MagentoError>>;

impl AdminUsersHost {
    fn read(&self, call: &str) -> Result<(), MagentoError> {
        if self.grants.has(Grant::AdminUsersWrite) {
            return Ok(());
        }
        self.grants
            .check(Grant::AdminUsersRead, call)
            .map_err(denied)
    }

    fn write(&self, call: &str) -> Result<(), MagentoError> {
        self.grants
            .check(Grant::AdminUsersWrite, call)
            .map_err(denied)
    }
}

impl admin_users::Host for AdminUsersHost {
    #[tracing::instrument(name = "admin-users.search", skip_all)]
    async fn search(&mut self, criteria: SearchCriteria) -> Answer<Vec<AdminUser>> {
        Ok(async {
            self.read("admin-users.search")?;
            let found = self
                .client
                .admin_users(convert::criteria(criteria))
                .collect()
                .await;
            found
                .map(|l| l.into_iter().map(convert::admin_user).collect())
                .map_err(convert_error)
        }
        .await)
    }

    #[tracing::instrument(name = "admin-users.get", skip(self))]
    async fn get(&mut self, id: u64) -> Answer<AdminUser> {
        Ok(async {
            self.read("admin-users.get")?;
            self.client
                .admin_user(id)
                .await
                .map(convert::admin_user)
                .map_err(convert_error)
        }
        .await)
    }

    #[tracing::instrument(name = "admin-users.find-by-email", skip_all)]
    async fn find_by_email(&mut self, email: String) -> Answer<Option<AdminUser>> {
        Ok(async {
            self.read("admin-users.find-by-email")?;
            self.client
                .find_admin_user_by_email(&email)
                .await
                .map(|u| u.map(convert::admin_user))
                .map_err(convert_error)
        }
        .await)
    }

    #[tracing::instrument(name = "admin-users.create", skip_all)]
    async fn create(&mut self, user: WitNewAdminUser, password: String) -> Answer<AdminUser> {
        Ok(async {
            self.write("admin-users.create")?;
            let new = NewAdminUser {
                username: user.username,
                firstname: user.firstname,
                lastname: user.lastname,
                email: user.email,
                password,
                role_id: user.role_id,
                is_active: true,
            };
            self.client
                .create_admin_user(&new)
                .await
                .map(convert::admin_user)
                .map_err(convert_error)
        }
        .await)
    }

    #[tracing::instrument(name = "admin-users.update", skip(self, patch))]
    async fn update(&mut self, id: u64, patch: Patch) -> Answer<AdminUser> {
        Ok(async {
            self.write("admin-users.update")?;
            let patch = convert::patch(patch)?;
            self.client
                .update_admin_user(id, &patch)
                .await
                .map(convert::admin_user)
                .map_err(convert_error)
        }
        .await)
    }

    #[tracing::instrument(name = "admin-users.deactivate", skip(self))]
    async fn deactivate(&mut self, id: u64) -> Answer<AdminUser> {
        Ok(async {
            self.write("admin-users.deactivate")?;
            self.client
                .deactivate_admin_user(id)
                .await
                .map(convert::admin_user)
                .map_err(convert_error)
        }
        .await)
    }

    #[tracing::instrument(name = "admin-users.delete", skip(self))]
    async fn delete(&mut self, id: u64) -> Answer<()> {
        Ok(async {
            self.write("admin-users.delete")?;
            self.client
                .delete_admin_user(id)
                .await
                .map_err(convert_error)
        }
        .await)
    }

    #[tracing::instrument(name = "admin-users.roles", skip_all)]
    async fn roles(&mut self) -> Answer<Vec<Role>> {
        Ok(async {
            self.read("admin-users.roles")?;
            self.client
                .roles()
                .await
                .map(|l| {
                    l.into_iter()
                        .map(|r| Role {
                            id: r.id,
                            name: r.role_name,
                        })
                        .collect()
                })
                .map_err(convert_error)
        }
        .await)
    }
}

/// Adds `interface admin-users` to a linker.
pub(crate) fn add_to_linker<T: Send + 'static>(
    l: &mut Linker<T>,
    get: fn(&mut T) -> &mut AdminUsersHost,
) -> wasmtime::Result<()> {
    admin_users::add_to_linker::<T, HasSelf<AdminUsersHost>>(l, get)
}
