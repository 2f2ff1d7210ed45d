//! searchCriteria: the missing-parameter 400, filter groups, every condition type, sorting,
//! paging past the end, input limits, store scoping, and the result body against the schema.

use magento_sim::SimConfig;
use magento_sim::config::Switch;
use serde_json::{Value, json};

use crate::schema::Schema;
use crate::support::Api;

fn filter(group: usize, idx: usize, field: &str, value: &str, cond: &str) -> String {
    let p = format!("searchCriteria[filter_groups][{group}][filters][{idx}]");
    format!("{p}[field]={field}&{p}[value]={value}&{p}[condition_type]={cond}")
}

fn ids(body: &Value) -> Vec<u64> {
    body["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|c| c["id"].as_u64().unwrap())
        .collect()
}

#[tokio::test]
async fn search_without_search_criteria_is_refused_exactly() {
    let api = Api::default().await;
    let t = api.admin_token().await;
    let (status, body) = api.get("/V1/customers/search", &t).await;
    assert_eq!(status, 400);
    assert_eq!(
        body.to_string(),
        r#"{"message":"\"%fieldName\" is required. Enter and try again.","parameters":{"fieldName":"searchCriteria"}}"#
    );
    let (status, body) = api.get("/V1/customers/search?searchCriteria=", &t).await;
    assert_eq!(
        (status, body["total_count"].as_u64()),
        (200, Some(50)),
        "an empty searchCriteria returns every match"
    );
}

#[tokio::test]
async fn filters_or_inside_a_group_and_across_groups() {
    let api = Api::default().await;
    let t = api.admin_token().await;
    let q = format!(
        "/V1/customers/search?{}&{}&{}&searchCriteria[pageSize]=100",
        filter(0, 0, "id", "3", "eq"),
        filter(0, 1, "id", "7", "eq"),
        filter(1, 0, "website_id", "1", "eq")
    );
    let (_, body) = api.get(&q, &t).await;
    // Seeded customer 5 (every fifth) is on website 2; 3 and 7 are on website 1.
    assert_eq!(ids(&body), vec![3, 7]);
    let q = format!(
        "/V1/customers/search?{}&{}",
        filter(0, 0, "id", "5", "eq"),
        filter(1, 0, "website_id", "1", "eq")
    );
    assert_eq!(ids(&api.get(&q, &t).await.1), Vec::<u64>::new());
}

#[tokio::test]
async fn every_condition_type_filters_as_sql_would() {
    let api = Api::default().await;
    let t = api.admin_token().await;
    let one = |field: &str, value: &str, cond: &str| {
        format!(
            "/V1/customers/search?{}&searchCriteria[pageSize]=100",
            filter(0, 0, field, value, cond)
        )
    };
    let count = |body: &Value| body["total_count"].as_u64().unwrap();
    type Check = Box<dyn Fn(&Value) -> bool>;
    let cases: Vec<(&str, &str, &str, Check)> = vec![
        ("id", "10", "eq", Box::new(|b| ids(b) == vec![10])),
        ("id", "10", "neq", Box::new(move |b| count(b) == 49)),
        ("id", "10", "gt", Box::new(move |b| count(b) == 40)),
        ("id", "10", "gteq", Box::new(move |b| count(b) == 41)),
        ("id", "10", "lt", Box::new(move |b| count(b) == 9)),
        ("id", "10", "lteq", Box::new(move |b| count(b) == 10)),
        ("id", "10", "moreq", Box::new(move |b| count(b) == 41)),
        ("id", "10", "from", Box::new(move |b| count(b) == 41)),
        ("id", "10", "to", Box::new(move |b| count(b) == 10)),
        ("id", "1,2,3", "in", Box::new(|b| ids(b) == vec![1, 2, 3])),
        ("id", "1,2,3", "nin", Box::new(move |b| count(b) == 47)),
        (
            "email",
            "%25.1%40example.com",
            "like",
            Box::new(|b| ids(b) == vec![1]),
        ),
        (
            "email",
            "%25example.com",
            "nlike",
            Box::new(move |b| count(b) == 0),
        ),
        ("middlename", "", "null", Box::new(move |b| count(b) == 50)),
        ("dob", "", "notnull", Box::new(move |b| count(b) == 17)),
        ("email", "x", "finset", Box::new(move |b| count(b) == 0)),
        ("email", "x", "nfinset", Box::new(move |b| count(b) == 50)),
    ];
    for (field, value, cond, check) in cases {
        let (status, body) = api.get(&one(field, value, cond), &t).await;
        assert_eq!(status, 200, "{cond}: {body}");
        assert!(
            check(&body),
            "{field} {cond} {value}: total {} ids {:?}",
            body["total_count"],
            ids(&body)
        );
    }
    let (status, body) = api.get(&one("nonsense", "1", "eq"), &t).await;
    assert_eq!(
        (status, body.to_string()),
        (
            400,
            r#"{"message":"Invalid attribute name: %1","parameters":["nonsense"]}"#.into()
        )
    );
}

#[tokio::test]
async fn sorts_pages_and_reports_past_the_end_as_empty() {
    let api = Api::default().await;
    let t = api.admin_token().await;
    let base = "/V1/customers/search?searchCriteria[sortOrders][0][field]=lastname&searchCriteria[sortOrders][0][direction]=ASC&searchCriteria[pageSize]=20";
    let mut seen = Vec::new();
    for page in 1..=3 {
        let (_, body) = api
            .get(&format!("{base}&searchCriteria[currentPage]={page}"), &t)
            .await;
        assert_eq!(body["total_count"], 50);
        seen.extend(body["items"].as_array().unwrap().iter().map(|c| {
            (
                c["lastname"].as_str().unwrap().to_ascii_lowercase(),
                c["id"].as_u64().unwrap(),
            )
        }));
    }
    assert_eq!(seen.len(), 50);
    let mut sorted = seen.clone();
    sorted.sort();
    assert_eq!(
        seen, sorted,
        "pages follow one stable order (lastname, then id)"
    );
    let (status, body) = api
        .get(&format!("{base}&searchCriteria[currentPage]=4"), &t)
        .await;
    assert_eq!(status, 200);
    assert_eq!(
        (body["items"].clone(), body["total_count"].as_u64()),
        (json!([]), Some(50)),
        "2.4.x: past the end is empty"
    );
    assert_eq!(body["search_criteria"]["current_page"], 4);
    let (_, desc) = api.get("/V1/customers/search?searchCriteria[sortOrders][0][field]=id&searchCriteria[pageSize]=1", &t).await;
    assert_eq!(
        ids(&desc),
        vec![50],
        "a sort order without direction is descending"
    );
}

#[tokio::test]
async fn input_limits_cap_the_page_at_300_and_default_to_20() {
    let limited = Api::start(SimConfig {
        seed_customers: 400,
        input_limits: Switch::On,
        ..Default::default()
    })
    .await;
    let t = limited.admin_token().await;
    let (status, body) = limited
        .get("/V1/customers/search?searchCriteria[pageSize]=301", &t)
        .await;
    assert_eq!(
        (status, body.to_string()),
        (
            400,
            r#"{"message":"Maximum SearchCriteria pageSize is %max","parameters":{"max":300}}"#
                .into()
        )
    );
    let (_, body) = limited
        .get("/V1/customers/search?searchCriteria=", &t)
        .await;
    assert_eq!(
        (
            body["items"].as_array().unwrap().len(),
            body["search_criteria"]["page_size"].as_u64()
        ),
        (20, Some(20))
    );
    let open = Api::start(SimConfig {
        seed_customers: 400,
        ..Default::default()
    })
    .await;
    let t = open.admin_token().await;
    let (_, body) = open.get("/V1/customers/search?searchCriteria=", &t).await;
    assert_eq!(
        body["items"].as_array().unwrap().len(),
        400,
        "limits off and no pageSize: every match"
    );
}

#[tokio::test]
async fn store_codes_scope_and_an_unknown_one_does_not_route() {
    let api = Api::default().await;
    let t = api.admin_token().await;
    let (status, body) = api.get("/nosuchstore/V1/customers/1", &t).await;
    assert_eq!(
        (status, body.to_string()),
        (
            404,
            r#"{"message":"Request does not match any route."}"#.into()
        )
    );
    let (status, _) = api.get("/all/V1/customers/1", &t).await;
    assert_eq!(status, 200);
    let (status, c) = api
        .post(
            "/b2b_en/V1/customers",
            Some(&t),
            json!({"customer": {"email": "b2b@example.com", "firstname": "B", "lastname": "Two"}}),
        )
        .await;
    assert_eq!(
        (status, c["website_id"].as_u64(), c["store_id"].as_u64()),
        (200, Some(2), Some(2)),
        "{c}"
    );
    let (status, sites) = api.get("/V1/store/websites", &t).await;
    assert_eq!(status, 200);
    let codes: Vec<&str> = sites
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["code"].as_str().unwrap())
        .collect();
    assert_eq!(codes, vec!["admin", "base", "b2b"]);
    let schema = Schema::load();
    for w in sites.as_array().unwrap() {
        assert!(
            schema
                .check("store-data-website-interface", w, &[])
                .is_empty()
        );
    }
    let (_, views) = api.get("/V1/store/storeViews", &t).await;
    for v in views.as_array().unwrap() {
        let errors = schema.check("store-data-store-interface", v, &[]);
        assert!(errors.is_empty(), "{errors:?}");
    }
}

#[tokio::test]
async fn search_bodies_match_the_magento_schema() {
    let api = Api::default().await;
    let t = api.admin_token().await;
    let q = format!(
        "/V1/customers/search?{}&searchCriteria[sortOrders][0][field]=email&searchCriteria[sortOrders][0][direction]=DESC&searchCriteria[pageSize]=25&searchCriteria[currentPage]=1",
        filter(0, 0, "email", "%25example.com", "like")
    );
    let (status, body) = api.get(&q, &t).await;
    assert_eq!(status, 200);
    let schema = Schema::load();
    let errors = schema.check(
        "customer-data-customer-search-results-interface",
        &body,
        &[],
    );
    assert!(errors.is_empty(), "{errors:#?}");
    assert_eq!(
        body["search_criteria"],
        json!({"filter_groups": [{"filters": [{"field": "email", "value": "%example.com", "condition_type": "like"}]}],
               "sort_orders": [{"field": "email", "direction": "DESC"}], "page_size": 25, "current_page": 1})
    );
    let (status, groups) = api
        .get("/V1/customerGroups/search?searchCriteria=", &t)
        .await;
    assert_eq!(status, 200);
    assert!(
        schema
            .check("customer-data-group-search-results-interface", &groups, &[])
            .is_empty()
    );
    assert_eq!(groups["total_count"], 4);
    let (status, g) = api.get("/V1/customerGroups/2", &t).await;
    assert_eq!((status, g["code"].as_str()), (200, Some("Wholesale")));
}

#[tokio::test]
async fn snake_case_search_criteria_is_accepted() {
    let api = Api::default().await;
    let t = api.admin_token().await;
    let (status, body) = api
        .get("/V1/customers/search?search_criteria[page_size]=7", &t)
        .await;
    assert_eq!(
        (status, body["items"].as_array().map(Vec::len)),
        (200, Some(7))
    );
}
