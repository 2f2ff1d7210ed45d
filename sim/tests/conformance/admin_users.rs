//! The admin-user extension endpoints: CRUD, Magento_User's password messages, roles, ACL,
//! and the 404 of an installation without the extension.

use magento_sim::SimConfig;
use magento_sim::config::Switch;
use serde_json::json;

use crate::support::Api;

fn user(username: &str, password: &str, role: u32) -> serde_json::Value {
    json!({"user": {"username": username, "firstname": "New", "lastname": "Admin", "email": format!("{username}@example.com"),
                    "password": password, "role_id": role, "is_active": true}})
}

#[tokio::test]
async fn admin_users_are_created_searched_updated_and_deleted() {
    let api = Api::default().await;
    let t = api.admin_token().await;
    let (s, u) = api
        .post("/V1/users", Some(&t), user("newadmin", "Str0ngPass", 1))
        .await;
    assert_eq!(s, 200, "{u}");
    let id = u["id"].as_u64().unwrap();
    assert_eq!(
        (
            u["username"].as_str(),
            u["is_active"].as_bool(),
            u.get("password")
        ),
        (Some("newadmin"), Some(true), None)
    );
    let (s, page) = api
        .get("/V1/users/search?searchCriteria[filter_groups][0][filters][0][field]=email&searchCriteria[filter_groups][0][filters][0][value]=newadmin%40example.com", &t)
        .await;
    assert_eq!((s, page["total_count"].as_u64()), (200, Some(1)));
    let (s, off) = api
        .put(
            &format!("/V1/users/{id}"),
            &t,
            json!({"user": {"is_active": false}}),
        )
        .await;
    assert_eq!(
        (s, off["is_active"].as_bool(), off["email"].as_str()),
        (200, Some(false), Some("newadmin@example.com"))
    );
    let (s, _) = api
        .post(
            "/V1/integration/admin/token",
            None,
            json!({"username": "newadmin", "password": "Str0ngPass"}),
        )
        .await;
    assert_eq!(s, 401, "a deactivated admin cannot log in");
    assert_eq!(
        api.delete(&format!("/V1/users/{id}"), &t).await,
        (200, json!(true))
    );
    let (s, b) = api.get(&format!("/V1/users/{id}"), &t).await;
    assert_eq!(
        (s, b["parameters"]["fieldName"].as_str()),
        (404, Some("userId"))
    );
    let (s, b) = api.delete("/V1/users/1", &t).await;
    assert_eq!(
        (s, b["message"].as_str()),
        (400, Some("You cannot delete your own account."))
    );
}

#[tokio::test]
async fn admin_password_rules_and_role_checks_answer_clearly() {
    let api = Api::default().await;
    let t = api.admin_token().await;
    let (s, b) = api
        .post("/V1/users", Some(&t), user("weak", "abc", 1))
        .await;
    assert_eq!(s, 400);
    assert_eq!(
        b.to_string(),
        r#"{"message":"One or more input exceptions have occurred.","errors":[{"message":"Your password must be at least %1 characters.","parameters":[7]},{"message":"Your password must include both numeric and alphabetic characters."}]}"#
    );
    let (s, b) = api
        .post("/V1/users", Some(&t), user("norole", "Str0ngPass", 99))
        .await;
    assert_eq!(
        (s, b.to_string()),
        (
            400,
            r#"{"message":"The role with id %1 does not exist.","parameters":[99]}"#.into()
        )
    );
    let (s, b) = api
        .post("/V1/users", Some(&t), user("admin", "Str0ngPass", 1))
        .await;
    assert_eq!(
        (s, b["message"].as_str()),
        (
            400,
            Some("A user with the same user name or email already exists.")
        )
    );
    let (s, roles) = api.get("/V1/roles", &t).await;
    assert_eq!((s, roles["total_count"].as_u64()), (200, Some(2)));
    assert_eq!(roles["items"][0]["role_name"], "Administrators");
}

#[tokio::test]
async fn without_the_extension_the_routes_do_not_exist() {
    let api = Api::start(SimConfig {
        admin_users_api: Switch::Off,
        ..Default::default()
    })
    .await;
    let t = api.admin_token().await;
    for path in ["/V1/users?searchCriteria=", "/V1/users/1", "/V1/roles"] {
        let (s, b) = api.get(path, &t).await;
        assert_eq!(
            (s, b.to_string()),
            (
                404,
                r#"{"message":"Request does not match any route."}"#.into()
            ),
            "{path}"
        );
    }
}

#[tokio::test]
async fn integrations_need_the_user_acl_resources() {
    let api = Api::start(SimConfig {
        customers: vec![("c@example.com".into(), "Str0ng!Pass".into())],
        ..Default::default()
    })
    .await;
    let (_, ct) = api
        .post(
            "/V1/integration/customer/token",
            None,
            json!({"username": "c@example.com", "password": "Str0ng!Pass"}),
        )
        .await;
    let (s, b) = api.get("/V1/users/1", ct.as_str().unwrap()).await;
    assert_eq!(
        (s, b["parameters"]["resources"].as_str()),
        (401, Some("Magento_User::acl_users"))
    );
    let (s, b) = api.get("/V1/roles", ct.as_str().unwrap()).await;
    assert_eq!(
        (s, b["parameters"]["resources"].as_str()),
        (401, Some("Magento_User::acl_roles"))
    );
}
