//! Customers: get, create, PUT-merge and full-save, delete, me, and their exact error bodies.

use magento_sim::SimConfig;
use magento_sim::config::PutMode;
use reqwest::Method;
use serde_json::{Value, json};

use crate::schema::Schema;
use crate::support::{Api, address};

#[tokio::test]
async fn no_such_entity_names_the_field_and_value() {
    let api = Api::default().await;
    let t = api.admin_token().await;
    let (status, body) = api.get("/V1/customers/999999", &t).await;
    assert_eq!(status, 404);
    assert_eq!(
        body.to_string(),
        r#"{"message":"No such entity with %fieldName = %fieldValue","parameters":{"fieldName":"customerId","fieldValue":999999}}"#
    );
    let (status, body) = api.delete("/V1/customers/999999", &t).await;
    assert_eq!(
        (status, &body["parameters"]["fieldName"]),
        (404, &json!("customerId"))
    );
}

#[tokio::test]
async fn create_returns_the_customer_and_get_matches_the_schema() {
    let api = Api::default().await;
    let t = api.admin_token().await;
    let mut home = address("1 Main St");
    home["default_billing"] = json!(true);
    home["default_shipping"] = json!(true);
    let created = api
        .post(
            "/V1/customers",
            Some(&t),
            json!({"customer": {"email": "new@example.com", "firstname": "New", "lastname": "User", "website_id": 1,
                                "addresses": [home], "custom_attributes": [{"attribute_code": "crm_id", "value": "A7"}]},
                   "password": "Str0ng!Pass"}),
        )
        .await;
    assert_eq!(created.0, 200, "{}", created.1);
    let c = &created.1;
    assert_eq!(
        (
            c["website_id"].as_u64(),
            c["store_id"].as_u64(),
            c["group_id"].as_u64()
        ),
        (Some(1), Some(1), Some(1))
    );
    assert_eq!(c["created_in"], "Default Store View");
    assert_eq!(
        c["default_billing"],
        json!(c["addresses"][0]["id"].to_string()),
        "default_billing is a string id"
    );
    let (status, fetched) = api.get(&format!("/V1/customers/{}", c["id"]), &t).await;
    assert_eq!(status, 200);
    assert_eq!(&fetched, c);
    let errors = Schema::load().check("customer-data-customer-interface", &fetched, &[]);
    assert!(errors.is_empty(), "{errors:#?}");
    assert!(
        fetched.get("middlename").is_none(),
        "null fields are omitted"
    );
    assert_eq!(fetched["addresses"][0]["default_billing"], true);
}

#[tokio::test]
async fn duplicate_email_is_refused_per_website_only() {
    let api = Api::default().await;
    let t = api.admin_token().await;
    api.create_customer(&t, "dup@example.com", 1).await;
    let (status, body) = api
        .post("/V1/customers", Some(&t), json!({"customer": {"email": "DUP@example.com", "firstname": "A", "lastname": "B", "website_id": 1}}))
        .await;
    assert_eq!(status, 400);
    assert_eq!(
        body.to_string(),
        r#"{"message":"A customer with the same email address already exists in an associated website."}"#
    );
    api.create_customer(&t, "dup@example.com", 2).await;
}

#[tokio::test]
async fn each_password_rule_answers_its_own_message() {
    let api = Api::default().await;
    let cases = [
        (
            "Ab1!",
            r#"{"message":"The password needs at least %1 characters. Create a new password and try again.","parameters":[8]}"#,
        ),
        (
            " Abcdef1! ",
            r#"{"message":"The password can't begin or end with a space. Verify the password and try again."}"#,
        ),
        (
            "abcdefgh",
            r#"{"message":"Minimum of different classes of characters in password is %1. Classes of characters: Lower Case, Upper Case, Digits, Special Characters.","parameters":[3]}"#,
        ),
        (
            "pw@Example.com",
            r#"{"message":"The password can't be the same as the email address. Create a new password and try again."}"#,
        ),
    ];
    for (password, expected) in cases {
        let (status, body) = api
            .post("/V1/customers", None, json!({"customer": {"email": "pw@example.com", "firstname": "A", "lastname": "B"}, "password": password}))
            .await;
        assert_eq!(
            (status, body.to_string().as_str()),
            (400, expected),
            "password {password:?}"
        );
    }
    let long = "Ab1!".repeat(65);
    let (status, body) = api
        .post("/V1/customers", None, json!({"customer": {"email": "pw@example.com", "firstname": "A", "lastname": "B"}, "password": long}))
        .await;
    assert_eq!(status, 400);
    assert_eq!(
        body.to_string(),
        r#"{"message":"Please enter a password with at most %1 characters.","parameters":[256]}"#
    );
}

#[tokio::test]
async fn create_checks_email_website_store_and_group() {
    let api = Api::default().await;
    let t = api.admin_token().await;
    let base = json!({"email": "x@example.com", "firstname": "A", "lastname": "B"});
    let with = |extra: Value| {
        let mut c = base.clone();
        c.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        json!({ "customer": c })
    };
    let (s, b) = api
        .post(
            "/V1/customers",
            Some(&t),
            json!({"customer": {"firstname": "A", "lastname": "B"}}),
        )
        .await;
    assert_eq!(
        (s, b.to_string()),
        (
            400,
            r#"{"message":"The email address is required to create a customer account."}"#.into()
        )
    );
    let (s, b) = api
        .post("/V1/customers", Some(&t), with(json!({"website_id": 9})))
        .await;
    assert_eq!(
        (s, b.to_string()),
        (404, r#"{"message":"The website with id %1 that was requested wasn't found. Verify the website and try again.","parameters":[9]}"#.into())
    );
    let (s, b) = api
        .post(
            "/V1/customers",
            Some(&t),
            with(json!({"website_id": 1, "store_id": 2})),
        )
        .await;
    assert_eq!(
        (s, b.to_string()),
        (
            400,
            r#"{"message":"The store view is not in the associated website."}"#.into()
        )
    );
    let (s, b) = api
        .post("/V1/customers", Some(&t), with(json!({"group_id": 77})))
        .await;
    assert_eq!(
        (s, b.to_string()),
        (
            400,
            r#"{"message":"The specified customer group id does not exist."}"#.into()
        )
    );
    let (s, b) = api
        .post(
            "/V1/customers",
            Some(&t),
            with(json!({"firstname": "Robert{}"})),
        )
        .await;
    assert_eq!(
        (s, b.to_string()),
        (400, r#"{"message":"First Name is not valid!"}"#.into())
    );
    let (s, b) = api
        .post(
            "/V1/customers",
            Some(&t),
            with(json!({"addresses": [{"city": "Austin"}]})),
        )
        .await;
    assert_eq!(s, 400);
    assert_eq!(b["message"], "One or more input exceptions have occurred.");
    assert_eq!(
        b["errors"][0].to_string(),
        r#"{"message":"\"%fieldName\" is required. Enter and try again.","parameters":{"fieldName":"firstname"}}"#
    );
}

#[tokio::test]
async fn create_without_password_mails_a_welcome_with_reset_link() {
    let api = Api::default().await;
    let (s, c) = api
        .post(
            "/V1/customers",
            None,
            json!({"customer": {"email": "nopw@example.com", "firstname": "No", "lastname": "Pw"}}),
        )
        .await;
    assert_eq!(s, 200, "{c}");
    let outbox = api.control(Method::GET, "/__sim/outbox", None).await;
    let mail = outbox.as_array().unwrap().last().unwrap();
    assert_eq!(
        (mail["to"].as_str(), mail["template"].as_str()),
        (Some("nopw@example.com"), Some("registered_no_password"))
    );
    assert_eq!(mail["customer_id"], c["id"]);
}

#[tokio::test]
async fn bad_bodies_get_magentos_400_not_a_panic() {
    let api = Api::default().await;
    let t = api.admin_token().await;
    let resp = api
        .http
        .post(api.url("/V1/customers"))
        .bearer_auth(&t)
        .header("content-type", "application/json")
        .body("{\"customer\": {")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 400);
    assert_eq!(
        resp.text().await.unwrap(),
        r#"{"message":"Decoding error."}"#
    );
    let (s, b) = api
        .post("/V1/customers", Some(&t), json!({"customer": {"email": "a@example.com", "firstname": "A", "lastname": "B", "is_active": true}}))
        .await;
    assert_eq!(
        (s, b.to_string()),
        (400, r#"{"message":"\"%fieldName\" is not supported. Correct the field name and try again.","parameters":{"fieldName":"IsActive"}}"#.into())
    );
    let resp = api
        .http
        .post(api.url("/V1/customers"))
        .bearer_auth(&t)
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 400);
    assert_eq!(
        resp.text().await.unwrap(),
        r#"{"message":"Content-Type header is empty."}"#
    );
    let (s, b) = api.post("/V1/customers", Some(&t), json!({"customer": {"email": "a@example.com", "firstname": "<script>x", "lastname": "B"}})).await;
    assert_eq!(
        (s, b["message"].as_str()),
        (400, Some("\"%field_name\" does not contains valid value."))
    );
    let (s, _) = api.get("/V1/customers/abc", &t).await;
    assert_eq!(s, 400);
}

#[tokio::test]
async fn put_merges_and_keeps_addresses_and_custom_attributes() {
    let api = Api::default().await;
    let t = api.admin_token().await;
    let (_, c) = api
        .post(
            "/V1/customers",
            Some(&t),
            json!({"customer": {"email": "m@example.com", "firstname": "M", "lastname": "X", "addresses": [address("1 A St"), address("2 B St")],
                                "custom_attributes": [{"attribute_code": "crm_id", "value": "A7"}]}}),
        )
        .await;
    let id = c["id"].as_u64().unwrap();
    let (s, updated) = api
        .put(
            &format!("/V1/customers/{id}"),
            &t,
            json!({"customer": {"middlename": "Q"}}),
        )
        .await;
    assert_eq!(s, 200, "{updated}");
    assert_eq!(updated["middlename"], "Q");
    assert_eq!(
        updated["addresses"], c["addresses"],
        "omitted addresses survive a merge PUT"
    );
    assert_eq!(updated["custom_attributes"], c["custom_attributes"]);
    assert_eq!(updated["email"], "m@example.com");

    // A partial list deletes the rest; the default that pointed at a deleted address lapses.
    let keep = c["addresses"][1].clone();
    let (s, partial) = api
        .put(
            &format!("/V1/customers/{id}"),
            &t,
            json!({"customer": {"addresses": [keep]}}),
        )
        .await;
    assert_eq!(s, 200, "{partial}");
    assert_eq!(partial["addresses"].as_array().unwrap().len(), 1);
    assert!(partial.get("default_billing").is_none());

    let (s, none) = api
        .put(
            &format!("/V1/customers/{id}"),
            &t,
            json!({"customer": {"addresses": []}}),
        )
        .await;
    assert_eq!(s, 200);
    assert_eq!(
        none["addresses"],
        json!([]),
        "an explicit [] deletes every address"
    );

    let (s, b) = api
        .put(
            &format!("/V1/customers/{id}"),
            &t,
            json!({"customer": {"default_billing": "12345"}}),
        )
        .await;
    assert_eq!(
        (s, b.to_string()),
        (400, r#"{"message":"The %fieldName value is invalid. Set the correct value and try again.","parameters":{"fieldName":"default_billing"}}"#.into())
    );
    let (s, b) = api
        .put(
            "/V1/customers/999999",
            &t,
            json!({"customer": {"middlename": "Q"}}),
        )
        .await;
    assert_eq!(
        (s, b["parameters"]["fieldValue"].as_u64()),
        (404, Some(999_999))
    );
    let (s, _) = api
        .put(
            &format!("/V1/customers/{id}"),
            &t,
            json!({"customer": {"id": id + 1, "middlename": "Q"}}),
        )
        .await;
    assert_eq!(s, 400, "a body id that differs from the path is refused");
}

#[tokio::test]
async fn replace_mode_demands_the_full_customer() {
    let api = Api::start(SimConfig {
        seed_customers: 3,
        put_mode: PutMode::Replace,
        ..Default::default()
    })
    .await;
    let t = api.admin_token().await;
    let (s, b) = api
        .put(
            "/V1/customers/1",
            &t,
            json!({"customer": {"middlename": "x"}}),
        )
        .await;
    assert_eq!(
        (s, b.to_string()),
        (
            400,
            r#"{"message":"The customer email is missing. Enter and try again."}"#.into()
        )
    );
    let (_, before) = api.get("/V1/customers/1", &t).await;
    let (s, b) = api
        .put(
            "/V1/customers/1",
            &t,
            json!({"customer": {"email": before["email"], "firstname": "F", "lastname": "L"}}),
        )
        .await;
    assert_eq!(
        (s, b.to_string()),
        (
            400,
            r#"{"message":"\"%1\" is a required value.","parameters":["Associate to Website"]}"#
                .into()
        )
    );
    let (s, after) = api
        .put("/V1/customers/1", &t, json!({"customer": {"email": before["email"], "firstname": "F", "lastname": "L", "website_id": before["website_id"]}}))
        .await;
    assert_eq!(s, 200, "{after}");
    assert!(
        after.get("gender").is_none(),
        "a full save clears what it was not given"
    );
    assert_eq!(
        after["addresses"], before["addresses"],
        "addresses were never wiped by omission"
    );
}

#[tokio::test]
async fn updated_at_moves_on_every_save() {
    let api = Api::default().await;
    let t = api.admin_token().await;
    let (_, before) = api.get("/V1/customers/3", &t).await;
    api.control(
        Method::POST,
        "/__sim/clock",
        Some(json!({"advance_secs": 90})),
    )
    .await;
    let (_, after) = api
        .put(
            "/V1/customers/3",
            &t,
            json!({"customer": {"lastname": "Moved"}}),
        )
        .await;
    assert!(
        after["updated_at"].as_str() > before["updated_at"].as_str(),
        "{} vs {}",
        after["updated_at"],
        before["updated_at"]
    );
    assert_eq!(after["created_at"], before["created_at"]);
}

#[tokio::test]
async fn delete_answers_true_and_the_customer_is_gone() {
    let api = Api::default().await;
    let t = api.admin_token().await;
    let (s, b) = api.delete("/V1/customers/4", &t).await;
    assert_eq!((s, b), (200, json!(true)));
    assert_eq!(api.get("/V1/customers/4", &t).await.0, 404);
}

#[tokio::test]
async fn me_reads_and_updates_the_token_owner_only() {
    let api = Api::start(SimConfig {
        customers: vec![("me@example.com".into(), "Str0ng!Pass".into())],
        ..Default::default()
    })
    .await;
    let (s, token) = api
        .post(
            "/V1/integration/customer/token",
            None,
            json!({"username": "me@example.com", "password": "Str0ng!Pass"}),
        )
        .await;
    assert_eq!(s, 200);
    let token = token.as_str().unwrap().to_owned();
    let (s, me) = api.get("/V1/customers/me", &token).await;
    assert_eq!((s, me["email"].as_str()), (200, Some("me@example.com")));
    let (s, me) = api
        .put(
            "/V1/customers/me",
            &token,
            json!({"customer": {"id": 999, "firstname": "Self"}}),
        )
        .await;
    assert_eq!(
        (s, me["firstname"].as_str(), me["id"].as_u64()),
        (200, Some("Self"), Some(1))
    );
    let admin = api.admin_token().await;
    assert_eq!(api.get("/V1/customers/me", &admin).await.0, 401);
}

#[tokio::test]
async fn is_email_available_follows_the_guest_checkout_setting() {
    let api = Api::default().await;
    let free = json!({"customerEmail": "nobody@example.com"});
    let (_, seeded) = api.get("/V1/customers/1", &api.admin_token().await).await;
    let body = json!({"customerEmail": seeded["email"], "websiteId": seeded["website_id"]});
    assert_eq!(
        api.post("/V1/customers/isEmailAvailable", None, body.clone())
            .await
            .1,
        json!(true),
        "2.4.7+: always true"
    );
    let strict = Api::start(SimConfig {
        seed_customers: 50,
        guest_checkout_login: magento_sim::config::Switch::On,
        ..Default::default()
    })
    .await;
    assert_eq!(
        strict
            .post("/V1/customers/isEmailAvailable", None, body)
            .await
            .1,
        json!(false)
    );
    assert_eq!(
        strict
            .post("/V1/customers/isEmailAvailable", None, free)
            .await
            .1,
        json!(true)
    );
}

#[tokio::test]
async fn seeding_is_deterministic() {
    let a = Api::default().await;
    let b = Api::default().await;
    let (ta, tb) = (a.admin_token().await, b.admin_token().await);
    let q = "/V1/customers/search?searchCriteria[pageSize]=50";
    let (pa, pb) = (a.get(q, &ta).await.1, b.get(q, &tb).await.1);
    assert_eq!(pa, pb);
    let websites: std::collections::BTreeSet<u64> = pa["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["website_id"].as_u64().unwrap())
        .collect();
    assert_eq!(
        websites.into_iter().collect::<Vec<_>>(),
        vec![1, 2],
        "seed covers both websites"
    );
}
