//! Customer addresses inside a customer save: Magento's rules for a PUT or create that carries
//! `addresses` (listed ones are saved, a listed one without `id` is created, stored ones left
//! out are deleted, `[]` deletes all) and the required-field validation of each address.

use serde_json::{Map, Value};

use crate::error::{MResult, MagentoError};
use crate::input::{boolean, check_markup, int, normalize, string, type_error};
use crate::model::{Address, CustomAttribute, Region};

const ADDRESS_FIELDS: &[&str] = &[
    "id",
    "customer_id",
    "region",
    "region_id",
    "country_id",
    "street",
    "company",
    "telephone",
    "fax",
    "postcode",
    "city",
    "firstname",
    "lastname",
    "middlename",
    "prefix",
    "suffix",
    "vat_id",
    "default_shipping",
    "default_billing",
    "extension_attributes",
    "custom_attributes",
];

/// What reconciling a submitted address list did, for the write log.
#[derive(Debug, Default)]
pub struct AddressChanges {
    /// Ids of addresses created.
    pub created: Vec<u64>,
    /// Ids of stored addresses deleted because the list left them out.
    pub deleted: Vec<u64>,
}

/// Applies a submitted `addresses` list to the stored ones.
pub fn reconcile(
    next_id: &mut u64,
    customer_id: u64,
    stored: &[Address],
    submitted: &Value,
) -> MResult<(Vec<Address>, AddressChanges)> {
    let Value::Array(list) = submitted else {
        return Err(type_error(submitted, "array"));
    };
    let mut changes = AddressChanges::default();
    let mut out: Vec<Address> = Vec::with_capacity(list.len());
    for item in list {
        let m = normalize(item, ADDRESS_FIELDS)?;
        let mut addr = match int(&m, "id")? {
            Some(id) => stored
                .iter()
                .find(|a| a.id == id as u64)
                .cloned()
                .ok_or_else(|| MagentoError::no_such_entity("addressId", id))?,
            None => {
                let id = *next_id;
                *next_id += 1;
                changes.created.push(id);
                blank(id, customer_id)
            }
        };
        apply(&mut addr, &m)?;
        validate(&addr)?;
        out.push(addr);
    }
    for a in stored {
        if !out.iter().any(|o| o.id == a.id) {
            changes.deleted.push(a.id);
        }
    }
    Ok((out, changes))
}

fn blank(id: u64, customer_id: u64) -> Address {
    Address {
        id,
        customer_id,
        region: Region::default(),
        region_id: 0,
        country_id: String::new(),
        street: Vec::new(),
        company: None,
        telephone: String::new(),
        fax: None,
        postcode: String::new(),
        city: String::new(),
        firstname: String::new(),
        lastname: String::new(),
        middlename: None,
        prefix: None,
        suffix: None,
        vat_id: None,
        default_shipping: false,
        default_billing: false,
        custom_attributes: Vec::new(),
    }
}

fn apply(a: &mut Address, m: &Map<String, Value>) -> MResult<()> {
    for (key, slot) in [
        ("country_id", &mut a.country_id),
        ("telephone", &mut a.telephone),
        ("postcode", &mut a.postcode),
        ("city", &mut a.city),
        ("firstname", &mut a.firstname),
        ("lastname", &mut a.lastname),
    ] {
        if let Some(v) = string(m, key)? {
            check_markup(key, &v)?;
            *slot = v;
        }
    }
    for (key, slot) in [
        ("company", &mut a.company),
        ("fax", &mut a.fax),
        ("middlename", &mut a.middlename),
        ("prefix", &mut a.prefix),
        ("suffix", &mut a.suffix),
        ("vat_id", &mut a.vat_id),
    ] {
        if m.contains_key(key) {
            *slot = string(m, key)?;
        }
    }
    match m.get("street") {
        None | Some(Value::Null) => {}
        Some(Value::Array(lines)) => {
            a.street = lines
                .iter()
                .map(|l| match l {
                    Value::String(s) => Ok(s.clone()),
                    other => Err(type_error(other, "string")),
                })
                .collect::<MResult<_>>()?;
        }
        Some(Value::String(s)) => a.street = s.lines().map(str::to_owned).collect(),
        Some(other) => return Err(type_error(other, "string[]")),
    }
    if let Some(id) = int(m, "region_id")? {
        a.region_id = id as u32;
        a.region.region_id = id as u32;
    }
    if let Some(r) = m.get("region").filter(|r| !r.is_null()) {
        let rm = normalize(
            r,
            &["region_code", "region", "region_id", "extension_attributes"],
        )?;
        a.region.region_code = string(&rm, "region_code")?;
        a.region.region = string(&rm, "region")?;
        if let Some(id) = int(&rm, "region_id")? {
            a.region.region_id = id as u32;
            a.region_id = id as u32;
        }
    }
    if let Some(b) = boolean(m, "default_billing")? {
        a.default_billing = b;
    }
    if let Some(b) = boolean(m, "default_shipping")? {
        a.default_shipping = b;
    }
    if let Some(list) = m.get("custom_attributes") {
        a.custom_attributes = custom_attributes(list)?;
    }
    Ok(())
}

/// Magento's address validator: every missing required field, aggregated.
fn validate(a: &Address) -> MResult<()> {
    let mut errors = Vec::new();
    let required = [
        ("firstname", a.firstname.is_empty()),
        ("lastname", a.lastname.is_empty()),
        ("street", a.street.iter().all(|s| s.trim().is_empty())),
        ("city", a.city.is_empty()),
        ("telephone", a.telephone.is_empty()),
        ("postcode", a.postcode.is_empty()),
        ("countryId", a.country_id.is_empty()),
    ];
    for (field, missing) in required {
        if missing {
            errors.push(MagentoError::required(field));
        }
    }
    match MagentoError::aggregate(errors) {
        Some(e) => Err(e),
        None => Ok(()),
    }
}

/// Reads `custom_attributes: [{attribute_code, value}]`.
pub fn custom_attributes(list: &Value) -> MResult<Vec<CustomAttribute>> {
    let Value::Array(items) = list else {
        return Err(type_error(list, "array"));
    };
    items
        .iter()
        .map(|item| {
            let m = normalize(item, &["attribute_code", "value"])?;
            Ok(CustomAttribute {
                attribute_code: string(&m, "attribute_code")?
                    .ok_or_else(|| MagentoError::required("attribute_code"))?,
                value: string(&m, "value")?.unwrap_or_default(),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn full(id: Option<u64>) -> Value {
        let mut v = json!({"firstname":"A","lastname":"B","street":["1 Main"],"city":"X","telephone":"1","postcode":"2","country_id":"US"});
        if let Some(id) = id {
            v["id"] = json!(id);
        }
        v
    }

    #[test]
    fn a_partial_list_deletes_the_rest_and_an_empty_list_deletes_all() {
        let mut next = 1;
        let (two, _) = reconcile(&mut next, 9, &[], &json!([full(None), full(None)])).unwrap();
        let (one, changes) =
            reconcile(&mut next, 9, &two, &json!([full(Some(two[0].id))])).unwrap();
        assert_eq!(one.len(), 1);
        assert_eq!(changes.deleted, vec![two[1].id]);
        let (none, changes) = reconcile(&mut next, 9, &one, &json!([])).unwrap();
        assert!(none.is_empty());
        assert_eq!(changes.deleted, vec![one[0].id]);
    }

    #[test]
    fn missing_required_fields_are_all_named() {
        let mut next = 1;
        let err = reconcile(&mut next, 9, &[], &json!([{"city": "X"}])).unwrap_err();
        assert_eq!(err.message, "One or more input exceptions have occurred.");
        assert_eq!(err.errors.len(), 6);
        let err = reconcile(&mut next, 9, &[], &json!([{"lastname":"B","street":["1"],"city":"X","telephone":"1","postcode":"2","country_id":"US"}])).unwrap_err();
        assert_eq!(err.parameters, Some(json!({"fieldName": "firstname"})));
    }
}
