//! The route table: store-code routing (`/rest[/<store>][/async[/bulk]]/V1/...`) and every
//! endpoint the simulator serves, each with the ACL resource Magento's webapi.xml gives it.
//! A path or method not listed answers Magento's 404.

use axum::http::Method;

use crate::model::store_views;

/// How the request reached the API.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Sync,
    Async,
    Bulk,
}

/// `/rest/<store>/async/bulk/V1/customers` -> (store id, mode, `["customers"]`, api path).
pub fn parse_path(path: &str) -> Option<(u32, Mode, Vec<&str>, String)> {
    let segs: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    let rest = segs.strip_prefix(&["rest"][..])?;
    let (store, rest) = match rest.first()? {
        &"V1" | &"async" => (1, rest),
        &"all" => (0, &rest[1..]),
        code => (
            store_views()
                .iter()
                .find(|s| s.code == *code && s.id != 0)?
                .id,
            &rest[1..],
        ),
    };
    let (mode, rest) = match rest {
        ["async", "bulk", tail @ ..] => (Mode::Bulk, tail),
        ["async", tail @ ..] => (Mode::Async, tail),
        tail => (Mode::Sync, tail),
    };
    let tail = rest.strip_prefix(&["V1"][..])?;
    Some((
        store,
        mode,
        tail.to_vec(),
        format!("/V1/{}", tail.join("/")),
    ))
}

/// One endpoint of the route table.
#[derive(Debug, Clone, PartialEq)]
pub enum Ep {
    AdminToken,
    CustomerToken,
    RevokeCustomerToken,
    CustomerSearch,
    CustomerGet(String),
    CustomerCreate,
    CustomerUpdate(String),
    CustomerDelete(String),
    MeGet,
    MePut,
    IsEmailAvailable,
    GroupSearch,
    GroupDefault,
    GroupGet(String),
    Websites,
    StoreViews,
    UserSearch,
    UserGet(String),
    UserCreate,
    UserUpdate(String),
    UserDelete(String),
    Roles,
    RoleGet(String),
    BulkLog,
    BulkStatus(String),
    BulkDetailed(String),
    BulkCount(String, String),
    AsyncCreate,
    AsyncSave,
}

const CUSTOMER: &str = "Magento_Customer::customer";
const MANAGE: &str = "Magento_Customer::manage";
const GROUP: &str = "Magento_Customer::group";
const USERS: &str = "Magento_User::acl_users";
const ROLES: &str = "Magento_User::acl_roles";
const BULK: &str = "Magento_Logging::system_magento_logging_bulk_operations";

pub fn route(
    method: &Method,
    mode: Mode,
    segs: &[&str],
    admin_users_api: bool,
) -> Option<(Ep, &'static str)> {
    let own = |s: &str| s.to_owned();
    let m = method.as_str();
    if mode != Mode::Sync {
        return match (m, segs, mode) {
            ("POST", ["customers"], _) => Some((Ep::AsyncCreate, "anonymous")),
            ("PUT", ["customers", "byCustomerId"], Mode::Bulk) => Some((Ep::AsyncSave, MANAGE)),
            ("PUT", ["customers", _], Mode::Async) => Some((Ep::AsyncSave, MANAGE)),
            _ => None,
        };
    }
    let users = |ep: Ep, acl| admin_users_api.then_some((ep, acl));
    match (m, segs) {
        ("POST", ["integration", "admin", "token"]) => Some((Ep::AdminToken, "anonymous")),
        ("POST", ["integration", "customer", "token"]) => Some((Ep::CustomerToken, "anonymous")),
        ("POST", ["integration", "customer", "revoke-customer-token"]) => {
            Some((Ep::RevokeCustomerToken, MANAGE))
        }
        ("GET", ["customers", "search"]) => Some((Ep::CustomerSearch, CUSTOMER)),
        ("GET", ["customers", "me"]) => Some((Ep::MeGet, "self")),
        ("PUT", ["customers", "me"]) => Some((Ep::MePut, "self")),
        ("POST", ["customers", "isEmailAvailable"]) => Some((Ep::IsEmailAvailable, "anonymous")),
        ("GET", ["customers", id]) => Some((Ep::CustomerGet(own(id)), CUSTOMER)),
        ("PUT", ["customers", id]) => Some((Ep::CustomerUpdate(own(id)), MANAGE)),
        ("DELETE", ["customers", id]) => {
            Some((Ep::CustomerDelete(own(id)), "Magento_Customer::delete"))
        }
        ("POST", ["customers"]) => Some((Ep::CustomerCreate, "anonymous")),
        ("GET", ["customerGroups", "search"]) => Some((Ep::GroupSearch, GROUP)),
        ("GET", ["customerGroups", "default"]) => Some((Ep::GroupDefault, GROUP)),
        ("GET", ["customerGroups", id]) => Some((Ep::GroupGet(own(id)), GROUP)),
        ("GET", ["store", "websites"]) => Some((Ep::Websites, "Magento_Backend::stores")),
        ("GET", ["store", "storeViews"]) => Some((Ep::StoreViews, "Magento_Backend::stores")),
        ("GET", ["users"] | ["users", "search"]) => users(Ep::UserSearch, USERS),
        ("GET", ["users", id]) => users(Ep::UserGet(own(id)), USERS),
        ("POST", ["users"]) => users(Ep::UserCreate, USERS),
        ("PUT", ["users", id]) => users(Ep::UserUpdate(own(id)), USERS),
        ("DELETE", ["users", id]) => users(Ep::UserDelete(own(id)), USERS),
        ("GET", ["roles"]) => users(Ep::Roles, ROLES),
        ("GET", ["roles", id]) => users(Ep::RoleGet(own(id)), ROLES),
        ("GET", ["bulk"]) => Some((Ep::BulkLog, BULK)),
        ("GET", ["bulk", uuid, "status"]) => Some((Ep::BulkStatus(own(uuid)), BULK)),
        ("GET", ["bulk", uuid, "detailed-status"]) => Some((Ep::BulkDetailed(own(uuid)), BULK)),
        ("GET", ["bulk", uuid, "operation-status", s]) => {
            Some((Ep::BulkCount(own(uuid), own(s)), BULK))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn store_codes_route_or_fail() {
        assert_eq!(parse_path("/rest/V1/customers/5").unwrap().0, 1);
        assert_eq!(parse_path("/rest/b2b_en/V1/customers/5").unwrap().0, 2);
        assert_eq!(parse_path("/rest/all/V1/customers/5").unwrap().0, 0);
        assert!(parse_path("/rest/nope/V1/customers/5").is_none());
        assert!(parse_path("/rest/admin/V1/customers/5").is_none());
        let (_, mode, segs, api) =
            parse_path("/rest/default/async/bulk/V1/customers/byCustomerId").unwrap();
        assert_eq!(
            (mode, segs, api.as_str()),
            (
                Mode::Bulk,
                vec!["customers", "byCustomerId"],
                "/V1/customers/byCustomerId"
            )
        );
    }

    #[test]
    fn unknown_methods_do_not_route() {
        assert!(route(&Method::PATCH, Mode::Sync, &["customers", "5"], true).is_none());
        assert!(route(&Method::GET, Mode::Sync, &["users"], false).is_none());
        assert_eq!(
            route(&Method::GET, Mode::Sync, &["customers", "search"], true)
                .unwrap()
                .0,
            Ep::CustomerSearch
        );
    }
}
