//! group-reassign: finds every customer in one group (optionally on one website), asks for
//! approval with the count and a sample, and moves them to another group through the bulk API.
//!
//! Input (manual JSON): `{"from_group": 1, "to_group": 2, "website_id": 1}`

use mageflow_sdk::approvals::Decision;
use mageflow_sdk::bindings::mageflow::workflow::types::OperationStatus;
use mageflow_sdk::{
    Condition, Guest, Outcome, Trigger, bulk, customer_pages, export_workflow, info, patch,
    request_approval, search,
};
use serde_json::Value;

/// What to move.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Move {
    /// Source group.
    pub from: u32,
    /// Target group.
    pub to: u32,
    /// Only this website, when given.
    pub website: Option<u32>,
}

/// Reads the move from the input.
pub fn parse_move(json: &str) -> Result<Move, String> {
    let v: Value = serde_json::from_str(json).map_err(|e| format!("input is not JSON: {e}"))?;
    let num = |k: &str| v.get(k).and_then(Value::as_u64).map(|n| n as u32);
    let m = Move {
        from: num("from_group").ok_or("input has no from_group")?,
        to: num("to_group").ok_or("input has no to_group")?,
        website: num("website_id"),
    };
    if m.from == m.to {
        return Err(format!("from_group and to_group are both {}", m.from));
    }
    Ok(m)
}

/// The first few emails, for the approver.
pub fn sample(emails: &[String], n: usize) -> String {
    let shown: Vec<&str> = emails.iter().take(n).map(String::as_str).collect();
    let more = emails.len().saturating_sub(n);
    if more > 0 {
        format!("{} and {more} more", shown.join(", "))
    } else {
        shown.join(", ")
    }
}

struct Reassign;

fn err(e: impl std::fmt::Debug) -> String {
    format!("{e:?}")
}

impl Guest for Reassign {
    fn run(trigger: Trigger) -> Result<Outcome, String> {
        let Trigger::Manual(input) = trigger else {
            return Err("group-reassign runs on a manual input".into());
        };
        let m = parse_move(&input)?;
        let mut criteria = search().filter("group_id", Condition::Eq, &m.from.to_string());
        if let Some(w) = m.website {
            criteria = criteria.filter("website_id", Condition::Eq, &w.to_string());
        }
        let mut found: Vec<(u64, String)> = Vec::new();
        for page in customer_pages(&criteria) {
            found.extend(page.map_err(err)?.into_iter().map(|c| (c.id, c.email)));
        }
        if found.is_empty() {
            return Ok(Outcome {
                summary: format!("no customer is in group {}", m.from),
                output_json: None,
            });
        }
        let emails: Vec<String> = found.iter().map(|(_, e)| e.clone()).collect();
        let decision = request_approval(
            &format!(
                "Move {} customers from group {} to group {}",
                found.len(),
                m.from,
                m.to
            ),
            &sample(&emails, 5),
            Some(format!(
                "{{\"count\":{},\"from\":{},\"to\":{}}}",
                found.len(),
                m.from,
                m.to
            )),
        )
        .map_err(err)?;
        if let Decision::Rejected((by, why)) = decision {
            return Ok(Outcome {
                summary: format!("not moved: rejected by {by} ({why})"),
                output_json: None,
            });
        }
        if matches!(decision, Decision::Expired) {
            return Err("the approval expired".into());
        }
        let updates: Vec<(u64, mageflow_sdk::Patch)> = found
            .iter()
            .map(|(id, _)| (*id, patch().set("group_id", &m.to.to_string())))
            .collect();
        let receipts = bulk::submit_updates(&updates).map_err(err)?;
        let uuids: Vec<String> = receipts.into_iter().map(|r| r.bulk_uuid).collect();
        let statuses = bulk::wait(&uuids, 120).map_err(err)?;
        let failed = statuses
            .iter()
            .flat_map(|s| &s.operations)
            .filter(|o| !matches!(o.status, OperationStatus::Complete))
            .count();
        info(&format!("{} bulk operations, {failed} failed", found.len()));
        if failed > 0 {
            return Err(format!(
                "{failed} of {} customers were not moved",
                found.len()
            ));
        }
        Ok(Outcome {
            summary: format!(
                "moved {} customers from group {} to group {}",
                found.len(),
                m.from,
                m.to
            ),
            output_json: None,
        })
    }
}

export_workflow!(Reassign);

#[cfg(test)]
mod tests {
    use super::*;
    use mageflow_sdk::testing::{Fake, customer};

    fn shop(n: u64) -> Fake {
        (1..=n).fold(Fake::new(), |f, i| {
            let mut c = customer(i, &format!("c{i}@example.com"));
            c.group_id = if i % 3 == 0 { 3 } else { 1 };
            f.with_customer(c)
        })
    }

    #[test]
    fn moves_every_match_in_bulk_after_approval() {
        // 600 customers: 400 in group 1 over two search pages (300 + 100), two bulks of 200.
        let fake = shop(600).deciding(Decision::Approved("dave".into()));
        let (out, fake) =
            fake.run(|| Reassign::run(Trigger::Manual(r#"{"from_group":1,"to_group":2}"#.into())));
        assert_eq!(
            out.unwrap().summary,
            "moved 400 customers from group 1 to group 2"
        );
        assert!(fake.customers().all(|c| c.group_id != 1));
        assert_eq!(fake.customers().filter(|c| c.group_id == 3).count(), 200);
        let approval = &fake.approvals()[0];
        assert_eq!(approval.title, "Move 400 customers from group 1 to group 2");
        assert!(
            approval.summary.ends_with("and 395 more"),
            "{}",
            approval.summary
        );
        assert_eq!(
            fake.calls(),
            [
                "customers.search",
                "customers.search",
                "approvals.request",
                "bulk.submit-updates",
                "bulk.wait"
            ]
        );
    }

    #[test]
    fn a_rejection_moves_nobody() {
        let fake = shop(6).deciding(Decision::Rejected(("erin".into(), "wrong group".into())));
        let (out, fake) =
            fake.run(|| Reassign::run(Trigger::Manual(r#"{"from_group":1,"to_group":2}"#.into())));
        assert_eq!(
            out.unwrap().summary,
            "not moved: rejected by erin (wrong group)"
        );
        assert_eq!(fake.customers().filter(|c| c.group_id == 1).count(), 4);
    }

    #[test]
    fn reads_the_move() {
        assert_eq!(
            parse_move(r#"{"from_group":1,"to_group":2}"#).unwrap(),
            Move {
                from: 1,
                to: 2,
                website: None
            }
        );
        assert!(
            parse_move(r#"{"from_group":1,"to_group":1}"#)
                .unwrap_err()
                .contains("both 1")
        );
    }

    #[test]
    fn samples_name_the_rest() {
        let e: Vec<String> = (0..7).map(|i| format!("c{i}@x.co")).collect();
        assert_eq!(sample(&e, 2), "c0@x.co, c1@x.co and 5 more");
        assert_eq!(sample(&e[..1], 2), "c0@x.co");
    }
}
