//! customer-watch: reacts to changed customers (the `updated_at` poller, or a manual list of
//! ids) and flags those with a disposable email domain by setting the custom attribute
//! `flagged_disposable` to `1`. Domains come from config `disposable_domains`.
//!
//! Manual input: `[3, 7, 12]` (customer ids).

use mageflow_sdk::{Customer, Guest, Outcome, Trigger, customers, export_workflow, info, runtime};

const DEFAULT_DOMAINS: &str = "mailinator.com,10minutemail.com,guerrillamail.com,trashmail.com";

/// Whether an email's domain is in the comma-separated list (case-insensitive).
pub fn is_disposable(email: &str, domains: &str) -> bool {
    let Some((_, domain)) = email.rsplit_once('@') else {
        return false;
    };
    domains
        .split(',')
        .any(|d| d.trim().eq_ignore_ascii_case(domain))
}

/// Whether a customer is already flagged.
pub fn already_flagged(c: &Customer) -> bool {
    c.custom_attributes
        .iter()
        .any(|a| a.code == "flagged_disposable" && a.value == "1")
}

struct Watch;

fn err(e: impl std::fmt::Debug) -> String {
    format!("{e:?}")
}

impl Guest for Watch {
    fn run(trigger: Trigger) -> Result<Outcome, String> {
        let changed: Vec<Customer> = match trigger {
            Trigger::Poll(list) => list,
            Trigger::Manual(json) => {
                let ids: Vec<u64> = serde_json::from_str(&json)
                    .map_err(|e| format!("input must be a JSON list of customer ids: {e}"))?;
                ids.into_iter()
                    .map(|id| customers::get(id).map_err(err))
                    .collect::<Result<_, _>>()?
            }
            _ => return Err("customer-watch runs on the poller or a manual list of ids".into()),
        };
        let domains =
            runtime::config("disposable_domains").unwrap_or_else(|| DEFAULT_DOMAINS.into());
        let mut flagged = 0;
        for c in &changed {
            if is_disposable(&c.email, &domains) && !already_flagged(c) {
                let flag = mageflow_sdk::patch().custom_attribute("flagged_disposable", "1");
                customers::update(c.id, &flag).map_err(err)?;
                info(&format!("flagged customer {} <{}>", c.id, c.email));
                flagged += 1;
            }
        }
        Ok(Outcome {
            summary: format!("flagged {flagged} of {} changed customers", changed.len()),
            output_json: None,
        })
    }
}

export_workflow!(Watch);

#[cfg(test)]
mod tests {
    use super::*;
    use mageflow_sdk::testing::{Fake, customer};

    #[test]
    fn flags_disposable_customers_once() {
        let fake = Fake::new()
            .with_customer(customer(1, "ok@example.com"))
            .with_customer(customer(2, "temp@mailinator.com"))
            .with_config("disposable_domains", "mailinator.com");
        let (out, fake) = fake.run(|| Watch::run(Trigger::Manual("[1, 2]".into())));
        assert_eq!(out.unwrap().summary, "flagged 1 of 2 changed customers");
        assert!(already_flagged(fake.customer(2).unwrap()));
        assert!(!already_flagged(fake.customer(1).unwrap()));
        // A poll delivering the flagged customer again changes nothing.
        let again = fake.customer(2).unwrap().clone();
        let (out, fake) = fake.run(|| Watch::run(Trigger::Poll(vec![again])));
        assert_eq!(out.unwrap().summary, "flagged 0 of 1 changed customers");
        assert_eq!(
            fake.calls(),
            ["customers.get", "customers.get", "customers.update"]
        );
    }

    #[test]
    fn disposable_domains_match_exactly() {
        assert!(is_disposable("x@Mailinator.com", DEFAULT_DOMAINS));
        assert!(!is_disposable(
            "x@mailinator.com.example.org",
            DEFAULT_DOMAINS
        ));
        assert!(!is_disposable("no-at-sign", DEFAULT_DOMAINS));
    }
}
