//! onboard-customer: creates a storefront customer from a manual input or a webhook event and
//! puts them in the right group. A privileged group (config `privileged_groups`, default
//! `Wholesale`) needs an approval first. An email already registered in the website is left as
//! it is.
//!
//! Input (manual JSON, or a webhook body with a `customer` object):
//! `{"email": "...", "firstname": "...", "lastname": "...", "website_id": 1, "group": "Wholesale"}`

use mageflow_sdk::approvals::Decision;
use mageflow_sdk::{
    Guest, NewCustomer, Outcome, Trigger, customers, export_workflow, groups, info,
    request_approval, runtime,
};
use serde_json::Value;

/// The person to onboard.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    /// Email.
    pub email: String,
    /// First name.
    pub firstname: String,
    /// Last name.
    pub lastname: String,
    /// Website, if given.
    pub website_id: Option<u32>,
    /// Group name or id, if given.
    pub group: Option<String>,
}

/// Reads the request from a manual input or a webhook body.
pub fn parse_request(json: &str) -> Result<Request, String> {
    let v: Value = serde_json::from_str(json).map_err(|e| format!("input is not JSON: {e}"))?;
    let c = v
        .get("customer")
        .or_else(|| v.get("data").and_then(|d| d.get("customer")))
        .unwrap_or(&v);
    let field = |k: &str| c.get(k).and_then(Value::as_str).map(str::to_owned);
    let need = |k: &str| {
        field(k)
            .filter(|s| !s.is_empty())
            .ok_or_else(|| format!("input has no {k}"))
    };
    Ok(Request {
        email: need("email")?,
        firstname: need("firstname")?,
        lastname: need("lastname")?,
        website_id: c
            .get("website_id")
            .and_then(Value::as_u64)
            .map(|w| w as u32),
        group: c.get("group").map(|g| match g {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        }),
    })
}

/// Whether a group name is in the comma-separated privileged list (case-insensitive).
pub fn is_privileged(group: &str, privileged: &str) -> bool {
    privileged
        .split(',')
        .any(|p| p.trim().eq_ignore_ascii_case(group.trim()))
}

struct Onboard;

fn err(e: impl std::fmt::Debug) -> String {
    format!("{e:?}")
}

impl Guest for Onboard {
    fn run(trigger: Trigger) -> Result<Outcome, String> {
        let input = match trigger {
            Trigger::Manual(json) => json,
            Trigger::Webhook(event) => event.body_json,
            _ => return Err("onboard-customer runs on a manual input or a webhook".into()),
        };
        let req = parse_request(&input)?;
        if let Some(existing) = customers::find_by_email(&req.email, req.website_id).map_err(err)? {
            return Ok(Outcome {
                summary: format!("{} already exists as customer {}", req.email, existing.id),
                output_json: None,
            });
        }
        let all = groups::list().map_err(err)?;
        let group = match &req.group {
            None => None,
            Some(g) => Some(
                all.iter()
                    .find(|x| x.code.eq_ignore_ascii_case(g) || x.id.to_string() == *g)
                    .ok_or_else(|| {
                        format!(
                            "no customer group {g:?}; the groups are {}",
                            all.iter()
                                .map(|x| x.code.as_str())
                                .collect::<Vec<_>>()
                                .join(", ")
                        )
                    })?,
            ),
        };
        let privileged = runtime::config("privileged_groups").unwrap_or_else(|| "Wholesale".into());
        if let Some(g) = group.filter(|g| is_privileged(&g.code, &privileged)) {
            let decision = request_approval(
                &format!("Onboard {} into {}", req.email, g.code),
                &format!(
                    "{} {} <{}> asks for the privileged group {}",
                    req.firstname, req.lastname, req.email, g.code
                ),
                None,
            )
            .map_err(err)?;
            match decision {
                Decision::Approved(by) => info(&format!("approved by {by}")),
                Decision::Rejected((by, why)) => {
                    return Err(format!(
                        "onboarding {} was rejected by {by}: {why}",
                        req.email
                    ));
                }
                Decision::Expired => {
                    return Err(format!("the approval to onboard {} expired", req.email));
                }
            }
        }
        let created = customers::create(
            &NewCustomer {
                email: req.email.clone(),
                firstname: req.firstname,
                lastname: req.lastname,
                website_id: req.website_id,
                group_id: group.map(|g| g.id),
                extra_json: None,
            },
            None,
        )
        .map_err(err)?;
        Ok(Outcome {
            summary: format!(
                "created customer {} <{}> in group {}",
                created.id, created.email, created.group_id
            ),
            output_json: Some(format!("{{\"id\":{}}}", created.id)),
        })
    }
}

export_workflow!(Onboard);

#[cfg(test)]
mod tests {
    use super::*;
    use mageflow_sdk::testing::{Fake, customer};

    fn manual(json: &str) -> Trigger {
        Trigger::Manual(json.into())
    }

    #[test]
    fn creates_into_a_plain_group_without_asking() {
        let (out, fake) = Fake::new().run(|| {
            Onboard::run(manual(
                r#"{"email":"new@example.com","firstname":"N","lastname":"Ew","group":"Retailer"}"#,
            ))
        });
        assert_eq!(
            out.unwrap().summary,
            "created customer 1 <new@example.com> in group 3"
        );
        assert!(fake.approvals().is_empty());
        assert_eq!(fake.customer(1).unwrap().group_id, 3);
    }

    #[test]
    fn a_privileged_group_needs_approval_and_a_rejection_creates_nothing() {
        let input =
            r#"{"email":"vip@example.com","firstname":"V","lastname":"Ip","group":"Wholesale"}"#;
        let (out, fake) = Fake::new()
            .deciding(Decision::Rejected((
                "carol".into(),
                "not a reseller".into(),
            )))
            .run(|| Onboard::run(manual(input)));
        assert_eq!(
            out.unwrap_err(),
            "onboarding vip@example.com was rejected by carol: not a reseller"
        );
        assert_eq!(
            fake.approvals()[0].title,
            "Onboard vip@example.com into Wholesale"
        );
        assert_eq!(fake.customers().count(), 0);
        let (out, fake) = Fake::new()
            .deciding(Decision::Approved("carol".into()))
            .run(|| Onboard::run(manual(input)));
        assert!(out.is_ok());
        assert_eq!(fake.customer(1).unwrap().group_id, 2);
    }

    #[test]
    fn an_existing_customer_or_an_unknown_group_is_reported() {
        let fake = Fake::new().with_customer(customer(5, "old@example.com"));
        let (out, fake) = fake.run(|| {
            Onboard::run(manual(
                r#"{"email":"OLD@example.com","firstname":"O","lastname":"Ld"}"#,
            ))
        });
        assert_eq!(
            out.unwrap().summary,
            "OLD@example.com already exists as customer 5"
        );
        let (out, _) = fake.run(|| {
            Onboard::run(manual(
                r#"{"email":"x@example.com","firstname":"X","lastname":"Y","group":"Gold"}"#,
            ))
        });
        assert_eq!(
            out.unwrap_err(),
            "no customer group \"Gold\"; the groups are NOT LOGGED IN, General, Wholesale, Retailer"
        );
    }

    #[test]
    fn reads_manual_and_webhook_inputs() {
        let r = parse_request(
            r#"{"email":"a@b.co","firstname":"A","lastname":"B","group":"Wholesale"}"#,
        )
        .unwrap();
        assert_eq!(
            (r.email.as_str(), r.group.as_deref()),
            ("a@b.co", Some("Wholesale"))
        );
        let w = parse_request(r#"{"eventName":"customer_register_success","data":{"customer":{"email":"w@b.co","firstname":"W","lastname":"B","website_id":2}}}"#).unwrap();
        assert_eq!((w.email.as_str(), w.website_id), ("w@b.co", Some(2)));
        assert_eq!(
            parse_request(r#"{"email":"a@b.co"}"#).unwrap_err(),
            "input has no firstname"
        );
    }

    #[test]
    fn privileged_groups_match_by_name() {
        assert!(is_privileged("wholesale", "Wholesale, VIP"));
        assert!(!is_privileged("General", "Wholesale, VIP"));
    }
}
