//! Customers: search, stream, create checks, PUT-merge under both PUT readings, admin users.

use mageflow_magento::{
    Condition, Direction, Error, Filter, NewAdminUser, NewCustomer, Patch, SearchCriteria,
};
use magento_sim::SimConfig;
use magento_sim::config::{PastEnd, PutMode, Switch};
use serde_json::{Value, json};

use crate::support::Sim;

fn new_customer(email: &str) -> NewCustomer {
    NewCustomer {
        email: email.into(),
        firstname: "New".into(),
        lastname: "Person".into(),
        website_id: Some(1),
        password: Some("Str0ng!Pass".into()),
        ..Default::default()
    }
}

#[tokio::test]
async fn search_pages_or_inside_and_across_groups_and_sorts() {
    let sim = Sim::seeded(60).await;
    let client = sim.admin();
    let c = SearchCriteria::new()
        .any(vec![
            Filter::new("id", Condition::Lteq, "10"),
            Filter::new("id", Condition::Gteq, "55"),
        ])
        .filter("website_id", Condition::Eq, "1")
        .sort("id", Direction::Desc)
        .page_size(4);
    let page = client.search_customers(&c).await.unwrap();
    let ids: Vec<u64> = page.items.iter().map(|c| c.id).collect();
    assert_eq!(ids, vec![59, 58, 57, 56]);
    assert_eq!(
        page.total_count, 12,
        "ids 1-10 and 55-60 on website 1, less every fifth (b2b)"
    );
}

#[tokio::test]
async fn streaming_reads_every_match_once_with_pages_of_at_most_300() {
    let sim = Sim::seeded(1234).await;
    let client = sim.admin();
    // Asking for 1000 a page still sends 300: Magento's cap when input limits are on.
    let mut pages = client.customers(
        SearchCriteria::new()
            .page_size(1000)
            .sort("lastname", Direction::Asc),
    );
    let mut seen = std::collections::HashSet::new();
    let mut biggest = 0;
    while let Some(page) = pages.next_page().await.unwrap() {
        biggest = biggest.max(page.len());
        for c in page {
            assert!(seen.insert(c.id), "customer {} twice", c.id);
        }
    }
    assert_eq!(
        (seen.len(), biggest, pages.total()),
        (1234, 300, Some(1234))
    );
}

#[tokio::test]
async fn streaming_works_with_input_limits_on() {
    let sim = Sim::start(SimConfig {
        seed_customers: 650,
        input_limits: Switch::On,
        ..Default::default()
    })
    .await;
    let all = sim
        .admin()
        .customers(SearchCriteria::new())
        .collect()
        .await
        .unwrap();
    assert_eq!(all.len(), 650);
}

#[tokio::test]
async fn a_pre_2_4_repeated_last_page_ends_the_stream_instead_of_looping() {
    let sim = Sim::start(SimConfig {
        seed_customers: 70,
        past_end: PastEnd::LastPage,
        ..Default::default()
    })
    .await;
    let client = sim.admin();
    // A filter that matches more rows than the page loop expects would never end on count
    // alone if pages repeated; total_count here is 70 but we also ask past it.
    let mut pages = client.customers(SearchCriteria::new().page_size(30));
    let mut n = 0;
    let mut rounds = 0;
    while let Some(page) = pages.next_page().await.unwrap() {
        n += page.len();
        rounds += 1;
        assert!(rounds < 10, "the stream loops");
    }
    assert_eq!(n, 70);
    // Starting mid-way, the count never reaches total_count; the last page then comes back for
    // page 8 and the stream must notice instead of looping.
    let late = client
        .customers(SearchCriteria::new().page_size(10).current_page(5))
        .collect()
        .await
        .unwrap();
    let ids: Vec<u64> = late.iter().map(|c| c.id).collect();
    assert_eq!(ids, (41..=70).collect::<Vec<u64>>());
}

#[tokio::test]
async fn create_checks_password_and_website_before_sending() {
    let sim = Sim::seeded(0).await;
    let client = sim.admin();
    let mut weak = new_customer("weak@example.com");
    weak.password = Some("password".into());
    let err = client.create_customer(&weak).await.unwrap_err();
    assert!(
        err.to_string()
            .starts_with("password: Minimum of different classes of characters in password is 3."),
        "{err}"
    );
    let mut lost = new_customer("lost@example.com");
    lost.website_id = Some(9);
    let err = client.create_customer(&lost).await.unwrap_err();
    assert_eq!(
        err.to_string(),
        "website_id: website 9 does not exist on this Magento; its websites are 1 (base), 2 (b2b)"
    );
    assert!(sim.writes().await.is_empty(), "nothing was sent");
    client
        .create_customer(&new_customer("dup@example.com"))
        .await
        .unwrap();
    let err = client
        .create_customer(&new_customer("dup@example.com"))
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(400));
    assert!(err.to_string().contains(
        "A customer with the same email address already exists in an associated website."
    ));
    let found = client
        .find_customer_by_email("DUP@example.com", Some(1))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(found.email, "dup@example.com");
    assert!(
        client
            .find_customer_by_email("dup@example.com", Some(2))
            .await
            .unwrap()
            .is_none()
    );
}

async fn put_merge_keeps_everything(mode: PutMode) {
    let sim = Sim::start(SimConfig {
        seed_customers: 0,
        put_mode: mode,
        ..Default::default()
    })
    .await;
    let client = sim.admin();
    let mut new = new_customer("keep@example.com");
    new.extra.insert("dob".into(), json!("1980-02-03"));
    new.extra.insert("gender".into(), json!(2));
    new.extra.insert(
        "addresses".into(),
        json!([{"firstname": "K", "lastname": "P", "street": ["1 Main"], "city": "Austin", "telephone": "1", "postcode": "78701", "country_id": "US", "default_billing": true},
               {"firstname": "K", "lastname": "P", "street": ["2 Side"], "city": "Austin", "telephone": "1", "postcode": "78701", "country_id": "US"}]),
    );
    new.extra.insert(
        "custom_attributes".into(),
        json!([{"attribute_code": "crm_id", "value": "A7"}]),
    );
    let created = client.create_customer(&new).await.unwrap();
    let before: Value = serde_json::to_value(client.customer(created.id).await.unwrap()).unwrap();
    let after = client
        .update_customer(
            created.id,
            &Patch::new()
                .set("group_id", 3)
                .custom_attribute("tier", "gold"),
        )
        .await
        .unwrap();
    let after: Value = serde_json::to_value(after).unwrap();
    for (k, v) in before.as_object().unwrap() {
        match k.as_str() {
            "group_id" | "updated_at" | "custom_attributes" => {}
            _ => assert_eq!(&after[k], v, "{mode:?}: field {k} changed"),
        }
    }
    assert_eq!(after["group_id"], 3);
    assert_eq!(
        after["custom_attributes"],
        json!([{"attribute_code": "crm_id", "value": "A7"}, {"attribute_code": "tier", "value": "gold"}])
    );
    assert_eq!(
        after["addresses"].as_array().unwrap().len(),
        2,
        "addresses survive"
    );
}

#[tokio::test]
async fn put_merge_keeps_every_field_on_a_merging_magento() {
    put_merge_keeps_everything(PutMode::Merge).await;
}

#[tokio::test]
async fn put_merge_keeps_every_field_on_a_replacing_magento() {
    put_merge_keeps_everything(PutMode::Replace).await;
}

#[tokio::test]
async fn addresses_change_only_when_the_patch_says_so() {
    let sim = Sim::seeded(5).await;
    let client = sim.admin();
    let stored = client.customer(2).await.unwrap();
    assert!(!stored.addresses.is_empty());
    let err = client
        .update_customer(2, &Patch::new().set("addresses", json!([])))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("replace_addresses"), "{err}");
    let cleared = client
        .update_customer(2, &Patch::new().replace_addresses(vec![]))
        .await
        .unwrap();
    assert!(cleared.addresses.is_empty());
}

#[tokio::test]
async fn a_refusal_names_field_and_template() {
    let sim = Sim::seeded(2).await;
    let err = sim
        .admin()
        .update_customer(1, &Patch::new().set("group_id", 99))
        .await
        .unwrap_err();
    let r = err.refusal().expect("Magento refused");
    assert_eq!(
        (r.status, r.template.as_str()),
        (400, "The specified customer group id does not exist.")
    );
    let err = sim.admin().customer(4242).await.unwrap_err();
    assert_eq!(
        err.to_string(),
        "GET /V1/customers/4242 answered 404: No such entity with customerId = 4242"
    );
}

#[tokio::test]
async fn groups_websites_and_stores_are_listed() {
    let sim = Sim::seeded(0).await;
    let client = sim.admin();
    assert_eq!(client.customer_groups().await.unwrap().len(), 4);
    assert_eq!(client.websites().await.unwrap().len(), 3);
    assert!(
        client
            .store_views()
            .await
            .unwrap()
            .iter()
            .any(|s| s.code == "b2b_en")
    );
}

#[tokio::test]
async fn delete_removes_the_customer() {
    let sim = Sim::seeded(3).await;
    let client = sim.admin();
    client.delete_customer(3).await.unwrap();
    assert_eq!(client.customer(3).await.unwrap_err().status(), Some(404));
}

#[tokio::test]
async fn admin_users_are_managed_with_rules_checked_first() {
    let sim = Sim::seeded(0).await;
    let client = sim.admin();
    let mut new = NewAdminUser {
        username: "ops".into(),
        firstname: "O".into(),
        lastname: "Ps".into(),
        email: "ops@example.com".into(),
        password: "short".into(),
        role_id: 2,
        is_active: true,
    };
    let err = client.create_admin_user(&new).await.unwrap_err();
    assert_eq!(
        err.to_string(),
        "password: Your password must be at least 7 characters. Your password must include both numeric and alphabetic characters."
    );
    new.password = "longer1pass".into();
    new.role_id = 7;
    let err = client.create_admin_user(&new).await.unwrap_err();
    assert_eq!(
        err.to_string(),
        "role_id: role 7 does not exist; the roles are 1 (Administrators), 2 (Customer Support)"
    );
    new.role_id = 2;
    let user = client.create_admin_user(&new).await.unwrap();
    let renamed = client
        .update_admin_user(user.id, &Patch::new().set("lastname", "Team"))
        .await
        .unwrap();
    assert_eq!(
        (
            renamed.lastname.as_str(),
            renamed.email.as_str(),
            renamed.role_id
        ),
        ("Team", "ops@example.com", 2)
    );
    let off = client.deactivate_admin_user(user.id).await.unwrap();
    assert!(!off.is_active);
    let found = client
        .admin_users(SearchCriteria::new().filter("email", Condition::Eq, "ops@example.com"))
        .collect()
        .await
        .unwrap();
    assert_eq!(found.len(), 1);
    client.delete_admin_user(user.id).await.unwrap();
    assert_eq!(
        client.admin_user(user.id).await.unwrap_err().status(),
        Some(404)
    );
}

#[tokio::test]
async fn without_the_extension_admin_user_calls_say_what_is_missing() {
    let sim = Sim::start(SimConfig {
        admin_users_api: Switch::Off,
        ..Default::default()
    })
    .await;
    let err = sim.admin().roles().await.unwrap_err();
    assert!(matches!(err, Error::AdminUsersApiMissing));
    assert_eq!(
        err.to_string(),
        "the admin-user REST endpoints are not installed on this Magento (they come from an extension)"
    );
}
