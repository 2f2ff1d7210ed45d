//! `interface admin-users`: backend admin users and roles.

use std::sync::Arc;

use mageflow_magento::NewAdminUser;
use wasmtime::component::{HasSelf, Linker};

use crate::gateway::{Call, Gateway, Reply};
use crate::generated::mageflow::workflow::admin_users;
use crate::generated::mageflow::workflow::types::{
    AdminUser, MagentoError, NewAdminUser as WitNewAdminUser, Patch, Role, SearchCriteria,
};
use crate::grants::{Grant, Grants};
use crate::host::types::{self as convert, Stop, answer, ask};

/// Host state of `interface admin-users`.
#[derive(Debug)]
pub(crate) struct AdminUsersHost {
    pub(crate) gateway: Arc<dyn Gateway>,
    pub(crate) grants: Grants,
}

type Answer<T> = wasmtime::Result<Result<T, MagentoError>>;

impl AdminUsersHost {
    /// A read: `admin-users:read`, or `admin-users:write` which includes it.
    async fn read(&self, name: &str, call: Call) -> Result<Reply, Stop> {
        let allowed = if self.grants.has(Grant::AdminUsersWrite) {
            Ok(())
        } else {
            self.grants.check(Grant::AdminUsersRead, name)
        };
        ask(&*self.gateway, allowed, || Ok(call)).await
    }

    async fn write(
        &self,
        name: &str,
        call: impl FnOnce() -> Result<Call, MagentoError>,
    ) -> Result<Reply, Stop> {
        let allowed = self.grants.check(Grant::AdminUsersWrite, name);
        ask(&*self.gateway, allowed, call).await
    }
}

fn one(reply: Reply) -> Result<AdminUser, Reply> {
    match reply {
        Reply::AdminUser(u) => Ok(convert::admin_user(*u)),
        other => Err(other),
    }
}

impl admin_users::Host for AdminUsersHost {
    #[tracing::instrument(name = "admin-users.search", skip_all)]
    async fn search(&mut self, criteria: SearchCriteria) -> Answer<Vec<AdminUser>> {
        let name = "admin-users.search";
        let call = Call::SearchAdminUsers(convert::criteria(criteria));
        answer(name, self.read(name, call).await, |r| match r {
            Reply::AdminUsers(l) => Ok(l.into_iter().map(convert::admin_user).collect()),
            other => Err(other),
        })
    }

    #[tracing::instrument(name = "admin-users.get", skip(self))]
    async fn get(&mut self, id: u64) -> Answer<AdminUser> {
        let name = "admin-users.get";
        answer(name, self.read(name, Call::GetAdminUser(id)).await, one)
    }

    #[tracing::instrument(name = "admin-users.find-by-email", skip_all)]
    async fn find_by_email(&mut self, email: String) -> Answer<Option<AdminUser>> {
        let name = "admin-users.find-by-email";
        let got = self.read(name, Call::FindAdminUserByEmail(email)).await;
        answer(name, got, |r| match r {
            Reply::MaybeAdminUser(u) => Ok(u.map(|u| convert::admin_user(*u))),
            other => Err(other),
        })
    }

    #[tracing::instrument(name = "admin-users.create", skip_all)]
    async fn create(&mut self, user: WitNewAdminUser, password: String) -> Answer<AdminUser> {
        let name = "admin-users.create";
        let got = self
            .write(name, || {
                Ok(Call::CreateAdminUser(Box::new(NewAdminUser {
                    username: user.username,
                    firstname: user.firstname,
                    lastname: user.lastname,
                    email: user.email,
                    password,
                    role_id: user.role_id,
                    is_active: true,
                })))
            })
            .await;
        answer(name, got, one)
    }

    #[tracing::instrument(name = "admin-users.update", skip(self, patch))]
    async fn update(&mut self, id: u64, patch: Patch) -> Answer<AdminUser> {
        let name = "admin-users.update";
        let got = self
            .write(name, || {
                Ok(Call::UpdateAdminUser(id, convert::patch(patch)?))
            })
            .await;
        answer(name, got, one)
    }

    #[tracing::instrument(name = "admin-users.deactivate", skip(self))]
    async fn deactivate(&mut self, id: u64) -> Answer<AdminUser> {
        let name = "admin-users.deactivate";
        let got = self.write(name, || Ok(Call::DeactivateAdminUser(id))).await;
        answer(name, got, one)
    }

    #[tracing::instrument(name = "admin-users.delete", skip(self))]
    async fn delete(&mut self, id: u64) -> Answer<()> {
        let name = "admin-users.delete";
        let got = self.write(name, || Ok(Call::DeleteAdminUser(id))).await;
        answer(name, got, |r| match r {
            Reply::Done => Ok(()),
            other => Err(other),
        })
    }

    #[tracing::instrument(name = "admin-users.roles", skip_all)]
    async fn roles(&mut self) -> Answer<Vec<Role>> {
        let name = "admin-users.roles";
        answer(name, self.read(name, Call::ListRoles).await, |r| match r {
            Reply::Roles(l) => Ok(l
                .into_iter()
                .map(|r| Role {
                    id: r.id,
                    name: r.role_name,
                })
                .collect()),
            other => Err(other),
        })
    }
}

/// Adds `interface admin-users` to a linker.
pub(crate) fn add_to_linker<T: Send + 'static>(
    l: &mut Linker<T>,
    get: fn(&mut T) -> &mut AdminUsersHost,
) -> wasmtime::Result<()> {
    admin_users::add_to_linker::<T, HasSelf<AdminUsersHost>>(l, get)
}
