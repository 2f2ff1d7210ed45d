//! The SCIM bridge end to end: identity providers' real request sequences (Okta's and Entra
//! ID's, as ../shared/scim/IDP-FACTS.md quotes them) sent over HTTP to `mageflow serve`,
//! whose runs of the scim-bridge plugin change magento-sim. Each test ends on the sim's state
//! and its write log (every write exactly once).

use std::path::Path;
use std::sync::Arc;

use crate::harness;

use mageflow_engine::{Engine, Workflow};
use mageflow_server::scim::config::{GroupMap, Risk, RootConfig, ScimConfig, Target};
use mageflow_server::{AccessConfig, EnvTokens};
use magento_sim::{Server, SimConfig};
use reqwest::Method;
use serde_json::{Value, json};

pub(crate) const OKTA: &str = "okta-token-0123456789";
pub(crate) const ENTRA: &str = "entra-token-0123456789";
const ALICE: &str = "alice-token-0123456789";

/// A sim, and `mageflow serve` with both SCIM roots; `approve` is what the admin root gates.
pub(crate) async fn setup(approve: Vec<Risk>) -> (Server, Arc<Engine>, String) {
    let sim = magento_sim::start(SimConfig::default(), "127.0.0.1:0")
        .await
        .unwrap();
    let client = harness::magento(&sim);
    let engine = harness::engine("scim-compile-cache");
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"));
    for (name, grants) in [
        (
            "scim-admin",
            r#"["admin-users:read", "admin-users:write", "approvals"]"#,
        ),
        (
            "scim-customers",
            r#"["customers:read", "customers:write", "customers:delete", "approvals"]"#,
        ),
    ] {
        let text = format!(
            "name = {name:?}\nplugin = {:?}\ngrants = {grants}\n[approvals]\napprovers = [\"alice\"]\n",
            if name == "scim-admin" {
                mageflow_test_artifacts::SCIM_ADMIN
            } else {
                mageflow_test_artifacts::SCIM_CUSTOMERS
            }
        );
        engine
            .add(
                Workflow::parse(&dir.join("scim.toml"), &text).unwrap(),
                client.clone(),
            )
            .unwrap();
    }
    let mut admin = RootConfig::new(Target::Admin, "scim-admin");
    admin.approve = approve;
    admin.groups = vec![
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
    admin.default_target = 2;
    let mut customers = RootConfig::new(Target::Customers, "scim-customers");
    customers.groups = vec![GroupMap {
        group: "Wholesale".into(),
        target: 2,
        privileged: true,
    }];
    customers.inactive_group = 0;
    let access = AccessConfig {
        env_tokens: EnvTokens::parse(&format!(
            "okta:scim={OKTA},entra:scim={ENTRA},alice:approver+viewer={ALICE}"
        ))
        .unwrap(),
        scim: ScimConfig {
            roots: vec![admin, customers],
        },
        ..AccessConfig::default()
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let serving = engine.clone();
    tokio::spawn(async move {
        mageflow_server::serve(serving, access, listener, |_| None)
            .await
            .unwrap();
    });
    (sim, engine, url)
}

/// One SCIM request: the status, the body (null when empty) and the Location header.
pub(crate) async fn call(
    method: Method,
    url: &str,
    token: &str,
    body: Option<Value>,
) -> (u16, Value, Option<String>) {
    let mut req = reqwest::Client::new()
        .request(method, url)
        .bearer_auth(token);
    if let Some(b) = body {
        req = req
            .header("content-type", "application/scim+json")
            .body(b.to_string());
    }
    let resp = req.send().await.unwrap();
    let status = resp.status().as_u16();
    let location = resp
        .headers()
        .get("location")
        .map(|l| l.to_str().unwrap().to_owned());
    if status != 204 {
        assert_eq!(
            resp.headers()["content-type"],
            "application/scim+json",
            "{status}"
        );
    }
    let text = resp.text().await.unwrap();
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::Null),
        location,
    )
}

fn writes(sim: &Server) -> Vec<(String, String, u64)> {
    sim.sim
        .read()
        .writes
        .iter()
        .map(|w| (w.op.to_owned(), w.entity.to_owned(), w.id))
        .collect()
}

fn admin_user(sim: &Server, username: &str) -> magento_sim::model::AdminUser {
    sim.sim
        .read()
        .admin_users
        .values()
        .find(|u| u.username == username)
        .cloned()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn okta_provisions_an_admin_user_and_pushes_groups() {
    let (sim, engine, url) = setup(Vec::new()).await;
    let root = format!("{url}/scim/v2/admin");
    // Test connection: the first page of users, then of groups, with integer counters.
    let (s, list, _) = call(
        Method::GET,
        &format!("{root}/Users?startIndex=1&count=2"),
        OKTA,
        None,
    )
    .await;
    assert_eq!(
        (s, list["totalResults"].clone(), list["startIndex"].clone()),
        (200, json!(0), json!(1))
    );
    assert_eq!(
        call(
            Method::GET,
            &format!("{root}/Groups?count=100&startIndex=1"),
            OKTA,
            None
        )
        .await
        .0,
        200
    );
    // Assign: look the user up (an empty list), then create with externalId and a password.
    let lookup = format!(
        "{root}/Users?filter=userName%20eq%20%22isabella%40example.com%22&startIndex=1&count=100"
    );
    let (s, empty, _) = call(Method::GET, &lookup, OKTA, None).await;
    assert_eq!((s, empty["Resources"].clone()), (200, json!([])));
    let user = json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
        "userName": "isabella@example.com",
        "name": {"givenName": "Isabella", "familyName": "Ortiz"},
        "emails": [{"primary": true, "value": "isabella@example.com", "type": "work"}],
        "displayName": "Isabella Ortiz", "locale": "en-US", "externalId": "00u1abcdEFGH",
        "groups": [], "password": "1mP@ssw0rd!", "active": true,
    });
    let (s, created, location) = call(
        Method::POST,
        &format!("{root}/Users"),
        OKTA,
        Some(user.clone()),
    )
    .await;
    assert_eq!(s, 201, "{created}");
    let id = created["id"].as_str().unwrap().to_owned();
    assert_eq!(location.as_deref(), created["meta"]["location"].as_str());
    assert_eq!(created["externalId"], "00u1abcdEFGH");
    assert!(
        created.get("password").is_none(),
        "passwords are never returned"
    );
    let magento = admin_user(&sim, "isabella@example.com");
    assert_eq!(
        (
            magento.firstname.as_str(),
            magento.role_id,
            magento.is_active
        ),
        ("Isabella", 2, true)
    );
    // The upper-case lookup finds it; a second create is a 409.
    let upper = format!("{root}/Users?filter=userName%20eq%20%22ISABELLA%40EXAMPLE.COM%22");
    let (_, found, _) = call(Method::GET, &upper, OKTA, None).await;
    assert_eq!(
        (
            found["totalResults"].clone(),
            found["Resources"][0]["id"].clone()
        ),
        (json!(1), json!(id))
    );
    let (s, dup, _) = call(
        Method::POST,
        &format!("{root}/Users"),
        OKTA,
        Some(user.clone()),
    )
    .await;
    assert_eq!(
        (s, dup["scimType"].clone(), dup["status"].clone()),
        (409, json!("uniqueness"), json!("409"))
    );
    // Profile update: GET, then PUT of the whole object.
    let (_, mut whole, _) = call(Method::GET, &format!("{root}/Users/{id}"), OKTA, None).await;
    whole["name"]["familyName"] = json!("Ortiz-Diaz");
    whole["title"] = json!("Buyer");
    let (s, put, _) = call(
        Method::PUT,
        &format!("{root}/Users/{id}"),
        OKTA,
        Some(whole),
    )
    .await;
    assert_eq!((s, put["title"].clone()), (200, json!("Buyer")));
    assert_eq!(
        admin_user(&sim, "isabella@example.com").lastname,
        "Ortiz-Diaz"
    );
    // Deactivate and reactivate with path-less replaces.
    let op = |active: bool| json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": [{"op": "replace", "value": {"active": active}}]});
    let (s, off, _) = call(
        Method::PATCH,
        &format!("{root}/Users/{id}"),
        OKTA,
        Some(op(false)),
    )
    .await;
    assert_eq!((s, off["active"].clone()), (200, json!(false)));
    assert!(!admin_user(&sim, "isabella@example.com").is_active);
    let (s, on, _) = call(
        Method::PATCH,
        &format!("{root}/Users/{id}"),
        OKTA,
        Some(op(true)),
    )
    .await;
    assert_eq!((s, on["active"].clone()), (200, json!(true)));
    assert!(admin_user(&sim, "isabella@example.com").is_active);
    // Group push: create with no members, add the user (the mapped role lands), rename with
    // the id, remove the member, then a full replace with an empty list.
    let (s, group, _) = call(Method::POST, &format!("{root}/Groups"), OKTA, Some(json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": "Magento Admins", "members": []}))).await;
    assert_eq!(s, 201, "{group}");
    let gid = group["id"].as_str().unwrap().to_owned();
    let members = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": [
        {"op": "replace", "value": {"id": gid, "displayName": "Magento Admins"}},
        {"op": "add", "path": "members", "value": [{"value": id, "display": "isabella@example.com"}]}]});
    let (s, g, _) = call(
        Method::PATCH,
        &format!("{root}/Groups/{gid}"),
        OKTA,
        Some(members),
    )
    .await;
    assert_eq!((s, g["members"][0]["value"].clone()), (200, json!(id)));
    assert_eq!(admin_user(&sim, "isabella@example.com").role_id, 1);
    let (_, u, _) = call(Method::GET, &format!("{root}/Users/{id}"), OKTA, None).await;
    assert_eq!(u["groups"][0]["display"], "Magento Admins");
    let remove = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": [
        {"op": "remove", "path": format!("members[value eq \"{id}\"]")}]});
    assert_eq!(
        call(
            Method::PATCH,
            &format!("{root}/Groups/{gid}"),
            OKTA,
            Some(remove)
        )
        .await
        .0,
        200
    );
    assert_eq!(admin_user(&sim, "isabella@example.com").role_id, 2);
    let add_back =
        json!({"Operations": [{"op": "add", "path": "members", "value": [{"value": id}]}]});
    call(
        Method::PATCH,
        &format!("{root}/Groups/{gid}"),
        OKTA,
        Some(add_back),
    )
    .await;
    let empty = json!({"Operations": [{"op": "replace", "path": "members", "value": []}]});
    let (s, g, _) = call(
        Method::PATCH,
        &format!("{root}/Groups/{gid}"),
        OKTA,
        Some(empty),
    )
    .await;
    assert_eq!((s, g["members"].clone()), (200, json!([])));
    assert_eq!(admin_user(&sim, "isabella@example.com").role_id, 2);
    // Unlink the group.
    assert_eq!(
        call(Method::DELETE, &format!("{root}/Groups/{gid}"), OKTA, None)
            .await
            .0,
        204
    );
    // A custom (AIW) app sends everything as PUT, the leaver too: the same deactivation.
    let (_, mut whole, _) = call(Method::GET, &format!("{root}/Users/{id}"), OKTA, None).await;
    whole["active"] = json!(false);
    let (s, _, _) = call(
        Method::PUT,
        &format!("{root}/Users/{id}"),
        OKTA,
        Some(whole),
    )
    .await;
    assert_eq!(s, 200);
    assert!(!admin_user(&sim, "isabella@example.com").is_active);
    // Sent again (a retry), it changes nothing more.
    let (_, whole, _) = call(Method::GET, &format!("{root}/Users/{id}"), OKTA, None).await;
    assert_eq!(
        call(
            Method::PUT,
            &format!("{root}/Users/{id}"),
            OKTA,
            Some(whole)
        )
        .await
        .0,
        200
    );
    // Exactly once: one create, then one update per change that reached Magento.
    let uid = magento.id;
    let w = writes(&sim);
    assert_eq!(w.iter().filter(|x| x.0 == "create").count(), 1, "{w:?}");
    assert!(w.iter().all(|x| x.1 == "admin_user" && x.2 == uid), "{w:?}");
    // lastname, deactivate, reactivate, role 1, role 2, role 1, role 2, deactivate
    assert_eq!(w.len(), 9, "{w:?}");
    // Every change was a run of scim-admin, requested by okta.
    let runs = engine.store().runs(None).unwrap();
    assert_eq!(runs.len(), 9);
    assert!(
        runs.iter()
            .all(|r| r.workflow == "scim-admin" && r.requester == "okta")
    );
}

/// Alice approves or rejects an approval through the API.
async fn decide(url: &str, approval: u64, verb: &str, body: Value) {
    let decided = reqwest::Client::new()
        .post(format!("{url}/api/approvals/{approval}/{verb}"))
        .bearer_auth(ALICE)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(decided.status(), 200, "{verb} {approval}");
}

fn patch_op(ops: Value) -> Value {
    let mut body = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"]});
    body["Operations"] = ops;
    body
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn entra_id_queries_disables_with_a_string_boolean_and_manages_members() {
    let (sim, engine, url) = setup(Vec::new()).await;
    let root = format!("{url}/scim/v2/admin");
    let q = |f: &str| format!("{root}/Users?filter={}", urlencoding::encode(f));
    // Zero-hit queries answer 200 with an empty list.
    let (s, none, _) = call(
        Method::GET,
        &q(r#"userName eq "Test_User_0f3e@contoso.com""#),
        ENTRA,
        None,
    )
    .await;
    assert_eq!((s, none["totalResults"].clone()), (200, json!(0)));
    let (s, none, _) = call(Method::GET, &q(r#"externalId eq "0f3e9b2c""#), ENTRA, None).await;
    assert_eq!((s, none["Resources"].clone()), (200, json!([])));
    // Entra's own sample userName is longer than Magento's 40 characters: a clear 400.
    let long = json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "Test_User_dfeef4c5-5681-4387-b016-bdf221e82081",
        "name": {"givenName": "T", "familyName": "U"}, "emails": [{"value": "t@contoso.com", "type": "work", "primary": true}]});
    let (s, e, _) = call(Method::POST, &format!("{root}/Users"), ENTRA, Some(long)).await;
    assert_eq!((s, e["scimType"].clone()), (400, json!("invalidValue")));
    assert!(e["detail"].as_str().unwrap().contains("at most 40"), "{e}");
    let user = json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User", "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],
        "externalId": "0f3e9b2c", "userName": "Test_User_0f3e@contoso.com", "active": true,
        "displayName": "Test User", "emails": [{"primary": true, "type": "work", "value": "Test_User_0f3e@contoso.com"}],
        "meta": {"resourceType": "User"}, "name": {"formatted": "Test User", "familyName": "User", "givenName": "Test"},
        "roles": [], "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"department": "Sales", "manager": {"value": "m-1"}},
    });
    // Entra's client-request-id is kept with the run, for its provisioning log and ours.
    let created: Value = reqwest::Client::new()
        .post(format!("{root}/Users"))
        .bearer_auth(ENTRA)
        .header("client-request-id", "7c2b51e4-entra-request")
        .json(&user)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = created["id"].as_str().unwrap().to_owned();
    let run = engine.store().runs(None).unwrap().remove(0);
    assert_eq!(run.requester, "entra");
    assert!(
        run.trigger.to_string().contains("7c2b51e4-entra-request"),
        "{:?}",
        run.trigger
    );
    assert!(
        run.log
            .iter()
            .any(|(_, line)| line.contains("7c2b51e4-entra-request")),
        "{:?}",
        run.log
    );
    assert_eq!(
        created["urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"]["department"],
        "Sales"
    );
    for f in [
        r#"userName eq "test_user_0f3e@contoso.com""#,
        r#"externalId eq "0f3e9b2c""#,
        r#"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department eq "sales" and active eq true"#,
    ] {
        let (_, hit, _) = call(Method::GET, &q(f), ENTRA, None).await;
        assert_eq!(hit["Resources"][0]["id"], json!(id), "{f}");
    }
    // Capitalised ops, a value-path replace, a string boolean.
    let edit = patch_op(json!([
        {"op": "Add", "path": "title", "value": "Account Manager"},
        {"op": "Replace", "path": "emails[type eq \"work\"].value", "value": "test.user@contoso.com"},
        {"op": "Replace", "path": "name.familyName", "value": "Userson"},
    ]));
    let (s, edited, _) = call(
        Method::PATCH,
        &format!("{root}/Users/{id}"),
        ENTRA,
        Some(edit),
    )
    .await;
    assert_eq!(
        (s, edited["title"].clone()),
        (200, json!("Account Manager"))
    );
    let m = admin_user(&sim, "Test_User_0f3e@contoso.com");
    assert_eq!(
        (m.email.as_str(), m.lastname.as_str()),
        ("test.user@contoso.com", "Userson")
    );
    let off = patch_op(json!([{"op": "Replace", "path": "active", "value": "False"}]));
    let (s, disabled, _) = call(
        Method::PATCH,
        &format!("{root}/Users/{id}"),
        ENTRA,
        Some(off),
    )
    .await;
    assert_eq!((s, disabled["active"].clone()), (200, json!(false)));
    assert!(!admin_user(&sim, "Test_User_0f3e@contoso.com").is_active);
    // A soft-deleted user is still returned.
    assert_eq!(
        call(Method::GET, &format!("{root}/Users/{id}"), ENTRA, None)
            .await
            .0,
        200
    );
    // Groups: Entra's schema URI, members added with a null $ref, removed with a value array.
    let group = json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group", "http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/Group"],
        "externalId": "8aa1a0c0", "displayName": "Support", "meta": {"resourceType": "Group"}});
    let (s, g, _) = call(Method::POST, &format!("{root}/Groups"), ENTRA, Some(group)).await;
    assert_eq!(s, 201, "{g}");
    let gid = g["id"].as_str().unwrap().to_owned();
    let (_, by_name, _) = call(
        Method::GET,
        &format!(
            "{root}/Groups?filter={}&excludedAttributes=members",
            urlencoding::encode(r#"displayName eq "Support""#)
        ),
        ENTRA,
        None,
    )
    .await;
    assert_eq!(by_name["Resources"][0]["id"], json!(gid));
    let add =
        patch_op(json!([{"op": "Add", "path": "members", "value": [{"$ref": null, "value": id}]}]));
    let (s, _, _) = call(
        Method::PATCH,
        &format!("{root}/Groups/{gid}"),
        ENTRA,
        Some(add),
    )
    .await;
    assert_eq!(s, 200);
    let (_, g, _) = call(
        Method::GET,
        &format!("{root}/Groups/{gid}?excludedAttributes=members"),
        ENTRA,
        None,
    )
    .await;
    assert!(g.get("members").is_none(), "{g}");
    let (_, g, _) = call(Method::GET, &format!("{root}/Groups/{gid}"), ENTRA, None).await;
    assert_eq!(g["members"][0]["value"], json!(id));
    let remove = patch_op(json!([{"op": "Remove", "path": "members", "value": [{"value": id}]}]));
    let (s, g, _) = call(
        Method::PATCH,
        &format!("{root}/Groups/{gid}"),
        ENTRA,
        Some(remove),
    )
    .await;
    assert_eq!((s, g.get("members").cloned()), (200, None));
    // A duplicate group name is refused; DELETE hides the user and, with no approval
    // configured for it here, deletes the Magento record after deactivating it.
    let dup = json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": "support"});
    assert_eq!(
        call(Method::POST, &format!("{root}/Groups"), ENTRA, Some(dup))
            .await
            .0,
        409
    );
    assert_eq!(
        call(Method::DELETE, &format!("{root}/Users/{id}"), ENTRA, None)
            .await
            .0,
        204
    );
    assert_eq!(
        call(Method::GET, &format!("{root}/Users/{id}"), ENTRA, None)
            .await
            .0,
        404
    );
    assert!(
        sim.sim
            .read()
            .admin_users
            .values()
            .all(|u| u.username != "Test_User_0f3e@contoso.com")
    );
    let w = writes(&sim);
    let ops: Vec<&str> = w.iter().map(|x| x.0.as_str()).collect();
    // create, the PATCH (email and lastname in one PUT-merge), deactivate, delete
    assert_eq!(ops, ["create", "update", "update", "delete"], "{w:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn risky_changes_wait_for_an_approver_and_deactivation_never_does() {
    let (sim, engine, url) = setup(RootConfig::new(Target::Admin, "scim-admin").approve).await;
    let root = format!("{url}/scim/v2/admin");
    let user = |name: &str| {
        json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": name,
        "name": {"givenName": "N", "familyName": "M"}, "emails": [{"value": format!("{name}@example.com"), "primary": true}]})
    };
    // A create waits: the answer is the user as asked for, marked pending with its run.
    let (s, pending, _) = call(
        Method::POST,
        &format!("{root}/Users"),
        OKTA,
        Some(user("nina")),
    )
    .await;
    assert_eq!(s, 201, "{pending}");
    let ext = &pending[mageflow_server::scim::APPROVAL_EXTENSION];
    assert_eq!(ext["state"], "pending", "{pending}");
    let run = ext["run"].as_u64().unwrap();
    assert!(
        sim.sim
            .read()
            .admin_users
            .values()
            .all(|u| u.username != "nina")
    );
    // The provider's retry joins the same run: no second run, no second approval.
    let (s, again, _) = call(
        Method::POST,
        &format!("{root}/Users"),
        OKTA,
        Some(user("nina")),
    )
    .await;
    assert_eq!((s, again["id"].clone()), (201, pending["id"].clone()));
    assert_eq!(engine.store().runs(None).unwrap().len(), 1);
    assert_eq!(engine.store().approvals(None).unwrap().len(), 1);
    let approval = harness::awaiting_approval(&engine, run).await;
    decide(&url, approval, "approve", json!({"comment": "new hire"})).await;
    assert_eq!(
        harness::ended(&engine, run).await,
        mageflow_store::Status::Succeeded
    );
    let id = pending["id"].as_str().unwrap();
    let (_, landed, _) = call(Method::GET, &format!("{root}/Users/{id}"), OKTA, None).await;
    assert!(
        landed
            .get(mageflow_server::scim::APPROVAL_EXTENSION)
            .is_none(),
        "{landed}"
    );
    assert!(admin_user(&sim, "nina").is_active);
    // Deactivation lands at once, with no approval.
    let off = patch_op(json!([{"op": "replace", "value": {"active": false}}]));
    let (s, _, _) = call(
        Method::PATCH,
        &format!("{root}/Users/{id}"),
        OKTA,
        Some(off),
    )
    .await;
    assert_eq!(s, 200);
    assert!(!admin_user(&sim, "nina").is_active);
    assert_eq!(engine.store().approvals(None).unwrap().len(), 1);
    // A rejected create lands nothing, and the same create sent again is refused with why.
    let (_, omar, _) = call(
        Method::POST,
        &format!("{root}/Users"),
        OKTA,
        Some(user("omar")),
    )
    .await;
    let run = omar[mageflow_server::scim::APPROVAL_EXTENSION]["run"]
        .as_u64()
        .unwrap();
    let approval = harness::awaiting_approval(&engine, run).await;
    decide(
        &url,
        approval,
        "reject",
        json!({"reason": "not a real hire"}),
    )
    .await;
    harness::ended(&engine, run).await;
    let oid = omar["id"].as_str().unwrap();
    assert_eq!(
        call(Method::GET, &format!("{root}/Users/{oid}"), OKTA, None)
            .await
            .0,
        404
    );
    let (s, refused, _) = call(
        Method::POST,
        &format!("{root}/Users"),
        OKTA,
        Some(user("omar")),
    )
    .await;
    assert_eq!(s, 403, "{refused}");
    let detail = refused["detail"].as_str().unwrap();
    assert!(
        detail.contains("rejected by alice") && detail.contains("not a real hire"),
        "{detail}"
    );
    assert!(
        sim.sim
            .read()
            .admin_users
            .values()
            .all(|u| u.username != "omar")
    );
    let w = writes(&sim);
    assert_eq!(
        w.iter().map(|x| x.0.as_str()).collect::<Vec<_>>(),
        ["create", "update"],
        "{w:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn customers_are_deactivated_into_their_group_and_deleted_only_after_approval() {
    let (sim, engine, url) = setup(Vec::new()).await;
    let root = format!("{url}/scim/v2/customers");
    let c = json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "carla",
        "name": {"givenName": "Carla", "familyName": "Diaz"}, "emails": [{"value": "carla@example.com", "type": "work"}]});
    let (s, created, _) = call(Method::POST, &format!("{root}/Users"), OKTA, Some(c)).await;
    assert_eq!(s, 201, "{created}");
    let id = created["id"].as_str().unwrap().to_owned();
    let customer = |sim: &Server| {
        sim.sim
            .read()
            .customers
            .iter()
            .flatten()
            .find(|c| c.email == "carla@example.com")
            .cloned()
    };
    assert_eq!(customer(&sim).unwrap().group_id, 1);
    let off = patch_op(json!([{"op": "replace", "path": "active", "value": false}]));
    assert_eq!(
        call(
            Method::PATCH,
            &format!("{root}/Users/{id}"),
            OKTA,
            Some(off)
        )
        .await
        .0,
        200
    );
    assert_eq!(
        customer(&sim).unwrap().group_id,
        0,
        "moved to the inactive group"
    );
    // DELETE answers at once; the Magento record goes only after an approval.
    assert_eq!(
        call(Method::DELETE, &format!("{root}/Users/{id}"), OKTA, None)
            .await
            .0,
        204
    );
    assert_eq!(
        call(Method::GET, &format!("{root}/Users/{id}"), OKTA, None)
            .await
            .0,
        404
    );
    assert!(customer(&sim).is_some());
    let run = engine.store().runs(None).unwrap().last().unwrap().id;
    let approval = harness::awaiting_approval(&engine, run).await;
    decide(&url, approval, "approve", json!({})).await;
    assert_eq!(
        harness::ended(&engine, run).await,
        mageflow_store::Status::Succeeded
    );
    assert!(customer(&sim).is_none());
    let w = writes(&sim);
    assert_eq!(
        w.iter().map(|x| x.0.as_str()).collect::<Vec<_>>(),
        ["create", "update", "delete"],
        "{w:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refusals_are_scim_errors_a_provisioning_log_can_show() {
    let (_sim, _engine, url) = setup(Vec::new()).await;
    let root = format!("{url}/scim/v2/admin");
    let (s, e, _) = call(Method::GET, &format!("{root}/Users"), "not-a-token", None).await;
    assert_eq!(
        (s, e["schemas"][0].clone()),
        (401, json!("urn:ietf:params:scim:api:messages:2.0:Error"))
    );
    let (s, e, _) = call(Method::GET, &format!("{root}/Users"), ALICE, None).await;
    assert_eq!(s, 403);
    assert!(e["detail"].as_str().unwrap().contains("scim role"), "{e}");
    let (s, e, _) = call(
        Method::GET,
        &format!("{root}/Users?filter=userName%20eq"),
        OKTA,
        None,
    )
    .await;
    assert_eq!((s, e["scimType"].clone()), (400, json!("invalidFilter")));
    let (s, e, _) = call(Method::GET, &format!("{root}/Users/nope"), OKTA, None).await;
    assert_eq!((s, e["status"].clone()), (404, json!("404")));
    assert!(e["detail"].as_str().is_some());
    let (s, e, _) = call(
        Method::GET,
        &format!("{url}/scim/v2/nowhere/Users"),
        OKTA,
        None,
    )
    .await;
    assert_eq!(s, 404, "{e}");
    let (s, spc, _) = call(
        Method::GET,
        &format!("{root}/ServiceProviderConfig"),
        OKTA,
        None,
    )
    .await;
    assert_eq!(
        (
            s,
            spc["patch"]["supported"].clone(),
            spc["etag"]["supported"].clone()
        ),
        (200, json!(true), json!(false))
    );
    let (_, types, _) = call(Method::GET, &format!("{root}/ResourceTypes"), OKTA, None).await;
    assert_eq!(types["totalResults"], 2);
    let (_, schemas, _) = call(Method::GET, &format!("{root}/Schemas"), OKTA, None).await;
    assert_eq!(schemas["totalResults"], 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lost_answer_is_reconciled_and_a_magento_refusal_leaves_no_half_state() {
    let (sim, _engine, url) = setup(Vec::new()).await;
    let root = format!("{url}/scim/v2/admin");
    let user = |name: &str, email: &str| {
        json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": name,
            "name": {"givenName": "N", "familyName": "M"}, "emails": [{"value": email, "primary": true}]})
    };
    // The create lands in Magento, but its answer is lost on the way back: the run looks the
    // user up before sending anything again, and the provider gets its 201.
    sim.sim.write().faults.push(magento_sim::faults::Fault {
        method: Some("POST".into()),
        path: "/V1/users".into(),
        status: None,
        rate: 1.0,
        latency_ms: 0,
        drop: true,
        after: true,
        retry_after: None,
        times: Some(1),
    });
    let (s, created, _) = call(
        Method::POST,
        &format!("{root}/Users"),
        OKTA,
        Some(user("lost", "lost@example.com")),
    )
    .await;
    assert_eq!(s, 201, "{created}");
    let w = writes(&sim);
    assert_eq!(w.iter().filter(|x| x.0 == "create").count(), 1, "{w:?}");
    // An email Magento already has: its refusal is a 409, and nothing of the user is kept.
    let (s, e, _) = call(
        Method::POST,
        &format!("{root}/Users"),
        OKTA,
        Some(user("twin", "lost@example.com")),
    )
    .await;
    assert_eq!(
        (s, e["scimType"].clone()),
        (409, json!("uniqueness")),
        "{e}"
    );
    assert!(
        e["detail"].as_str().unwrap().contains("already exists"),
        "{e}"
    );
    let filter = format!(
        "{root}/Users?filter={}",
        urlencoding::encode(r#"userName eq "twin""#)
    );
    assert_eq!(
        call(Method::GET, &filter, OKTA, None).await.1["totalResults"],
        0
    );
    // Sent again with a free email, the same userName is created.
    let (s, _, _) = call(
        Method::POST,
        &format!("{root}/Users"),
        OKTA,
        Some(user("twin", "twin@example.com")),
    )
    .await;
    assert_eq!(s, 201);
    assert_eq!(writes(&sim).len(), 2);
}
