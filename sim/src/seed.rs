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

/// Adds `n` deterministic customers after whatever the state holds.
pub fn seed_customers(state: &mut State, n: usize, now: i64) {
    let mut rng = Rng(0x6d61_6765_666c_6f77);
    state.customers.reserve(n);
    state.email_index.reserve(n);
    let step = (SEED_SPAN / n.max(1) as i64).max(1);
    for i in 0..n {
        let id = state.next_customer_id();
        let first = rng.pick(FIRST);
        let last = rng.pick(LAST);
        // Every fifth customer belongs to the b2b website.
        let website_id = if i % 5 == 4 { 2 } else { 1 };
        let group_id = 1 + rng.below(3) as u32;
        let created = SEED_START + i as i64 * step + rng.below(step as u64) as i64;
        let updated = (created + rng.below(400 * 86_400) as i64)
            .min(SEED_START + SEED_SPAN)
            .min(now);
        let addresses = seed_addresses(&mut rng, &mut state.next_address_id, id, first, last);
        let default = addresses.first().map(|a| a.id.to_string());
        let customer = Customer {
            id,
            group_id,
            default_billing: default.clone(),
            default_shipping: default,
            confirmation: None,
            created_at: format_ts(created),
            updated_at: format_ts(updated),
            created_in: if website_id == 2 {
                "B2B English"
            } else {
                "Default Store View"
            }
            .into(),
            dob: (i % 3 == 0).then(|| {
                format!(
                    "19{:02}-{:02}-{:02}",
                    50 + rng.below(50),
                    1 + rng.below(12),
                    1 + rng.below(28)
                )
            }),
            email: format!(
                "{}.{}.{}@example.com",
                first.to_ascii_lowercase(),
                last.to_ascii_lowercase(),
                id
            ),
            firstname: first.into(),
            lastname: last.into(),
            middlename: None,
            prefix: None,
            suffix: None,
            gender: Some(1 + rng.below(3) as i64),
            store_id: website_id,
            taxvat: None,
            website_id,
            addresses,
            disable_auto_group_change: 0,
            extension_attributes: CustomerExtension {
                is_subscribed: i % 7 == 0,
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
        let ts = format_ts(now);
        state.put_customer(Customer {
            id,
            group_id: 1,
            default_billing: None,
            default_shipping: None,
            confirmation: None,
            created_at: ts.clone(),
            updated_at: ts,
            created_in: "Default Store View".into(),
            dob: None,
            email: email.clone(),
            firstname: capitalise(local),
            lastname: "Customer".into(),
            middlename: None,
            prefix: None,
            suffix: None,
            gender: None,
            store_id: 1,
            taxvat: None,
            website_id: 1,
            addresses: Vec::new(),
            disable_auto_group_change: 0,
            extension_attributes: CustomerExtension::default(),
            custom_attributes: Vec::new(),
            password: Some(password.clone()),
        });
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
