//! Customer search: the result page and the attributes `searchCriteria` can filter and sort by.

use std::borrow::Cow;

use serde::Serialize;
use serde_json::Value;

use crate::criteria::Criteria;
use crate::error::MResult;
use crate::filter::{Searchable, Val, search};
use crate::model::Customer;
use crate::state::State;

/// A search result page as Magento renders it.
#[derive(Debug, Serialize)]
pub struct Page<'a, T: Serialize> {
    /// The page's records.
    pub items: Vec<&'a T>,
    /// The criteria, echoed.
    pub search_criteria: Value,
    /// Matches across all pages.
    pub total_count: usize,
}

/// `GET /V1/customers/search`, rendered.
pub fn search_json(state: &State, criteria: &Criteria) -> MResult<Vec<u8>> {
    let (items, total_count) = search(&state.customers, criteria)?;
    let page = Page {
        items,
        search_criteria: criteria.echo(),
        total_count,
    };
    Ok(serde_json::to_vec(&page).expect("customers always serialise"))
}

/// Filterable customer attributes, in index order (`entity_id` is an alias of `id`).
const SEARCH_FIELDS: &[&str] = &[
    "id",
    "group_id",
    "website_id",
    "store_id",
    "gender",
    "disable_auto_group_change",
    "email",
    "firstname",
    "lastname",
    "middlename",
    "prefix",
    "suffix",
    "dob",
    "taxvat",
    "created_at",
    "updated_at",
    "created_in",
    "confirmation",
    "default_billing",
    "default_shipping",
    "name",
    "billing_postcode",
    "billing_city",
    "billing_telephone",
    "billing_region",
    "billing_country_id",
    "billing_company",
];

fn borrowed(s: &str) -> Val<'_> {
    Val::Text(Cow::Borrowed(s))
}

fn optional(s: Option<&str>) -> Val<'_> {
    s.map_or(Val::Null, borrowed)
}

impl Searchable for Customer {
    fn id(&self) -> u64 {
        self.id
    }

    fn field(name: &str) -> Option<u16> {
        let name = if name == "entity_id" { "id" } else { name };
        SEARCH_FIELDS
            .iter()
            .position(|f| *f == name)
            .map(|i| i as u16)
    }

    fn value(&self, field: u16) -> Val<'_> {
        let billing = || {
            self.default_billing
                .as_deref()
                .and_then(|id| self.addresses.iter().find(|a| a.id.to_string() == id))
        };
        match field {
            0 => Val::Int(self.id as i64),
            1 => Val::Int(self.group_id.into()),
            2 => Val::Int(self.website_id.into()),
            3 => Val::Int(self.store_id.into()),
            4 => self.gender.map_or(Val::Null, Val::Int),
            5 => Val::Int(self.disable_auto_group_change),
            6 => borrowed(&self.email),
            7 => borrowed(&self.firstname),
            8 => borrowed(&self.lastname),
            9 => optional(self.middlename.as_deref()),
            10 => optional(self.prefix.as_deref()),
            11 => optional(self.suffix.as_deref()),
            12 => optional(self.dob.as_deref()),
            13 => optional(self.taxvat.as_deref()),
            14 => borrowed(&self.created_at),
            15 => borrowed(&self.updated_at),
            16 => borrowed(&self.created_in),
            17 => optional(self.confirmation.as_deref()),
            18 => optional(self.default_billing.as_deref()),
            19 => optional(self.default_shipping.as_deref()),
            20 => Val::Text(Cow::Owned(format!("{} {}", self.firstname, self.lastname))),
            21 => optional(billing().map(|a| a.postcode.as_str())),
            22 => optional(billing().map(|a| a.city.as_str())),
            23 => optional(billing().map(|a| a.telephone.as_str())),
            24 => optional(billing().and_then(|a| a.region.region.as_deref())),
            25 => optional(billing().map(|a| a.country_id.as_str())),
            26 => optional(billing().and_then(|a| a.company.as_deref())),
            _ => Val::Null,
        }
    }
}
