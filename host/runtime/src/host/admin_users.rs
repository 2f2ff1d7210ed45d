//! `interface admin-users`: backend admin users and roles.

use mageflow_magento::NewAdminUser;
use mageflow_model::CallKind;
use wasmtime::component::{HasSelf, Linker};

use crate::gateway::{Call, Reply};
use crate::generated::mageflow::workflow::admin_users;
use crate::generated::mageflow::workflow::types::{
    AdminUser, NewAdminUser as WitNewAdminUser, Patch, Role, SearchCriteria,
};
use crate::host::magento::{Answer, MagentoHost};
use crate::host::types::{self as convert, answer};

fn one(reply: Reply) -> Result<AdminUser, Reply> {
    match reply {
        Reply::AdminUser(u) => Ok(convert::admin_user(*u)),
        other => Err(other),
    }
}

impl admin_users::Host for MagentoHost {
    #[tracing::instrument(name = "admin-users.search", skip_all)]
    async fn search(&mut self, criteria: SearchCriteria) -> Answer<Vec<AdminUser>> {
        let kind = CallKind::SearchAdminUsers;
        let call = Call::SearchAdminUsers(convert::criteria(criteria));
        answer(kind, self.ask(kind, || Ok(call)).await, |r| match r {
            Reply::AdminUsers(l) => Ok(l.into_iter().map(convert::admin_user).collect()),
            other => Err(other),
        })
    }

    #[tracing::instrument(name = "admin-users.get", skip(self))]
    async fn get(&mut self, id: u64) -> Answer<AdminUser> {
        let kind = CallKind::GetAdminUser;
        answer(
            kind,
            self.ask(kind, || Ok(Call::GetAdminUser(id))).await,
            one,
        )
    }

    #[tracing::instrument(name = "admin-users.find-by-email", skip_all)]
    async fn find_by_email(&mut self, email: String) -> Answer<Option<AdminUser>> {
        let kind = CallKind::FindAdminUserByEmail;
        let got = self
            .ask(kind, || Ok(Call::FindAdminUserByEmail(email)))
            .await;
        answer(kind, got, |r| match r {
            Reply::MaybeAdminUser(u) => Ok(u.map(|u| convert::admin_user(*u))),
            other => Err(other),
        })
    }

    #[tracing::instrument(name = "admin-users.create", skip_all)]
    async fn create(&mut self, user: WitNewAdminUser, password: String) -> Answer<AdminUser> {
        let kind = CallKind::CreateAdminUser;
        let got = self
            .ask(kind, || {
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
        answer(kind, got, one)
    }

    #[tracing::instrument(name = "admin-users.update", skip(self, patch))]
    async fn update(&mut self, id: u64, patch: Patch) -> Answer<AdminUser> {
        let kind = CallKind::UpdateAdminUser;
        let got = self
            .ask(kind, || {
                Ok(Call::UpdateAdminUser(id, convert::patch(patch)?))
            })
            .await;
        answer(kind, got, one)
    }

    #[tracing::instrument(name = "admin-users.deactivate", skip(self))]
    async fn deactivate(&mut self, id: u64) -> Answer<AdminUser> {
        let kind = CallKind::DeactivateAdminUser;
        let got = self.ask(kind, || Ok(Call::DeactivateAdminUser(id))).await;
        answer(kind, got, one)
    }

    #[tracing::instrument(name = "admin-users.delete", skip(self))]
    async fn delete(&mut self, id: u64) -> Answer<()> {
        let kind = CallKind::DeleteAdminUser;
        let got = self.ask(kind, || Ok(Call::DeleteAdminUser(id))).await;
        answer(kind, got, |r| match r {
            Reply::Done => Ok(()),
            other => Err(other),
        })
    }

    #[tracing::instrument(name = "admin-users.roles", skip_all)]
    async fn roles(&mut self) -> Answer<Vec<Role>> {
        let kind = CallKind::ListRoles;
        answer(
            kind,
            self.ask(kind, || Ok(Call::ListRoles)).await,
            |r| match r {
                Reply::Roles(l) => Ok(l
                    .into_iter()
                    .map(|r| Role {
                        id: r.id,
                        name: r.role_name,
                    })
                    .collect()),
                other => Err(other),
            },
        )
    }
}

/// Adds `interface admin-users` to a linker.
pub(crate) fn add_to_linker<T: Send + 'static>(
    l: &mut Linker<T>,
    get: fn(&mut T) -> &mut MagentoHost,
) -> wasmtime::Result<()> {
    admin_users::add_to_linker::<T, HasSelf<MagentoHost>>(l, get)
}
