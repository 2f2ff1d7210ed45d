//! Deterministic seed data: the same `--seed-customers N` always yields the same customers
//! (names, emails, groups, websites, addresses, timestamps), independent of the wall clock.

use crate::model::{Address, Customer, CustomerExtension, Region};
use crate::state::State;
use crate::time::format_ts;

/// 2023-01-01 00:00:00 UTC: seeded `created_at` values spread over the three years after it.
const SEED_START: i64 = 1_672_531_200;
const SEED_SPAN: i64 = 3 * 365 * 86_400;

const FIRST: &[&str] = &[
    "Jane", "John", "Maria", "Ahmed", "Wei", "Olga", "Carlos", "Aisha", "Liam", "Sofia", "Noah",
    "Yuki", "Emma", "Lucas", "Fatima", "Mateo", "Chloe", "Ivan", "Priya", "Ben",
];
const LAST: &[&str] = &[
    "Doe", "Smith", "Garcia", "Khan", "Zhang", "Ivanova", "Silva", "Okafor", "Murphy", "Rossi",
    "Muller", "Tanaka", "Brown", "Martin", "Haddad", "Lopez", "Dubois", "Petrov", "Patel", "Cohen",
];
const CITIES: &[(&str, &str, &str, u32, &str)] = &[
    ("Austin", "TX", "Texas", 57, "78701"),
    ("Los Angeles", "CA", "California", 12, "90001"),
    ("New York", "NY", "New York", 43, "10001"),
    ("Seattle", "WA", "Washington", 62, "98101"),
    ("Miami", "FL", "Florida", 18, "33101"),
];
const STREETS: &[&str] = &["Main St", "Oak Ave", "Pine Rd", "Maple Dr", "Cedar Ln"];

/// SplitMix64: tiny, fast, and the same on every machine.
#[derive(Debug)]
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    fn pick<'a>(&mut self, list: &[&'a str]) -> &'a str {
        list[self.below(list.len() as u64) as usize]
    }
}

/// The random choices for one seeded customer, made before any string is allocated.
#[derive(Debug)]
struct Plan {
    id: u64,
    first: &'static str,
    last: &'static str,
    website_id: u32,
    group_id: u32,
    created: i64,
    updated: i64,
    dob: Option<(u64, u64, u64)>,
    gender: i64,
    subscribed: bool,
}

/// Adds `n` deterministic customers after whatever the state holds.
///
/// Strings are allocated column by column (every email, then every last name, ...), so the
/// fields searches scan and sort by sit next to each other in memory: a filtered, sorted
/// search over 100,000 customers then reads a few megabytes in order instead of chasing
/// 100,000 scattered allocations.
pub fn seed_customers(state: &mut State, n: usize, now: i64) {
    let mut rng = Rng(0x6d61_6765_666c_6f77);
    let first_id = state.next_customer_id();
    let step = (SEED_SPAN / n.max(1) as i64).max(1);
    let plans: Vec<Plan> = (0..n)
        .map(|i| {
            let first = rng.pick(FIRST);
            let last = rng.pick(LAST);
            let created = SEED_START + i as i64 * step + rng.below(step as u64) as i64;
            let updated = (created + rng.below(400 * 86_400) as i64)
                .min(SEED_START + SEED_SPAN)
                .min(now);
            Plan {
                id: first_id + i as u64,
                first,
                last,
                // Every fifth customer belongs to the b2b website.
                website_id: if i % 5 == 4 { 2 } else { 1 },
                group_id: 1 + rng.below(3) as u32,
                created,
                updated,
                dob: (i % 3 == 0)
                    .then(|| (50 + rng.below(50), 1 + rng.below(12), 1 + rng.below(28))),
                gender: 1 + rng.below(3) as i64,
                subscribed: i % 7 == 0,
            }
        })
        .collect();
    let mut emails: Vec<String> = plans
        .iter()
        .map(|p| {
            format!(
                "{}.{}.{}@example.com",
                p.first.to_ascii_lowercase(),
                p.last.to_ascii_lowercase(),
                p.id
            )
        })
        .collect();
    let mut lasts: Vec<String> = plans.iter().map(|p| p.last.to_owned()).collect();
    let mut firsts: Vec<String> = plans.iter().map(|p| p.first.to_owned()).collect();
    let mut created: Vec<String> = plans.iter().map(|p| format_ts(p.created)).collect();
    let mut updated: Vec<String> = plans.iter().map(|p| format_ts(p.updated)).collect();
    state.customers.reserve(n);
    state.email_index.reserve(n);
    for (i, p) in plans.iter().enumerate() {
        let addresses = seed_addresses(&mut rng, &mut state.next_address_id, p.id, p.first, p.last);
        let default = addresses.first().map(|a| a.id.to_string());
        let customer = Customer {
            id: p.id,
            group_id: p.group_id,
            default_billing: default.clone(),
            default_shipping: default,
            confirmation: None,
            created_at: std::mem::take(&mut created[i]),
            updated_at: std::mem::take(&mut updated[i]),
            created_in: if p.website_id == 2 {
                "B2B English"
            } else {
                "Default Store View"
            }
            .into(),
            dob: p.dob.map(|(y, m, d)| format!("19{y:02}-{m:02}-{d:02}")),
            email: std::mem::take(&mut emails[i]),
            firstname: std::mem::take(&mut firsts[i]),
            lastname: std::mem::take(&mut lasts[i]),
            middlename: None,
            prefix: None,
            suffix: None,
            gender: Some(p.gender),
            store_id: p.website_id,
            taxvat: None,
            website_id: p.website_id,
            addresses,
            disable_auto_group_change: 0,
            extension_attributes: CustomerExtension {
                is_subscribed: p.subscribed,
            },
            custom_attributes: Vec::new(),
            password: None,
        };
        state.put_customer(customer);
    }
}

fn seed_addresses(
    rng: &mut Rng,
    next_id: &mut u64,
    customer_id: u64,
    first: &str,
    last: &str,
) -> Vec<Address> {
    // 1 in 10 customers has no address, 1 in 5 has two.
    let count = match rng.below(10) {
        0 => 0,
        1 | 2 => 2,
        _ => 1,
    };
    (0..count)
        .map(|k| {
            let (city, code, name, region_id, postcode) =
                CITIES[rng.below(CITIES.len() as u64) as usize];
            let id = *next_id;
            *next_id += 1;
            Address {
                id,
                customer_id,
                region: Region {
                    region_code: Some(code.into()),
                    region: Some(name.into()),
                    region_id,
                },
                region_id,
                country_id: "US".into(),
                street: vec![format!("{} {}", 1 + rng.below(9999), rng.pick(STREETS))],
                company: None,
                telephone: format!("555-{:04}", rng.below(10_000)),
                fax: None,
                postcode: postcode.into(),
                city: city.into(),
                firstname: first.into(),
                lastname: last.into(),
                middlename: None,
                prefix: None,
                suffix: None,
                vat_id: None,
                default_shipping: k == 0,
                default_billing: k == 0,
                custom_attributes: Vec::new(),
            }
        })
        .collect()
}

/// Adds the `--customer EMAIL:PASSWORD` accounts (website base) so they can log in.
pub fn add_login_customers(state: &mut State, list: &[(String, String)], now: i64) {
    for (email, password) in list {
        let id = state.next_customer_id();
        let local = email.split('@').next().unwrap_or(email);
        let mut c = crate::customers::blank(id, now);
        c.created_in = "Default Store View".into();
        c.email = email.clone();
        c.firstname = capitalise(local);
        c.lastname = "Customer".into();
        c.store_id = 1;
        c.website_id = 1;
        c.password = Some(password.clone());
        state.put_customer(c);
    }
}

fn capitalise(s: &str) -> String {
    let word: String = s.chars().filter(|c| c.is_alphanumeric()).collect();
    let mut c = word.chars();
    match c.next() {
        Some(f) => f.to_uppercase().collect::<String>() + c.as_str(),
        None => "Customer".into(),
    }
}
