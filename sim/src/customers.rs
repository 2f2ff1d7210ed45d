//! The customer service: create (AccountManagement::createAccount), save (the 2.4.1+ merge or
//! the older full save), delete, get and search, with Magento's validation messages.

use std::borrow::Cow;

use serde::Serialize;
use serde_json::{Map, Value, json};

use crate::address::{custom_attributes, reconcile};
use crate::config::PutMode;
use crate::criteria::Criteria;
use crate::error::{MResult, MagentoError};
use crate::filter::{Searchable, Val, search};
use crate::input::{check_markup, int, normalize, string, type_error};
use crate::model::{Customer, CustomerExtension, default_store_of, store_views};
use crate::state::{Email, State};
use crate::time::format_ts;
use crate::webhooks::Event;

pub(crate) const CUSTOMER_FIELDS: &[&str] = &[
    "id",
    "group_id",
    "default_billing",
    "default_shipping",
    "confirmation",
    "created_at",
    "updated_at",
    "created_in",
    "dob",
    "email",
    "firstname",
    "lastname",
    "middlename",
    "prefix",
    "suffix",
    "gender",
    "store_id",
    "taxvat",
    "website_id",
    "addresses",
    "disable_auto_group_change",
    "extension_attributes",
    "custom_attributes",
];

/// `customer/password/minimum_password_length` default.
pub const MIN_PASSWORD_LENGTH: usize = 8;
/// `customer/password/required_character_classes_number` default.
pub const REQUIRED_CLASSES: usize = 3;
const MAX_PASSWORD_LENGTH: usize = 256;

/// Who writes and how: the simulated time, the current store, and the write-log channel.
#[derive(Debug, Clone, Copy)]
pub struct Ctx {
    /// Simulated now.
    pub now: i64,
    /// Store view of the request (`/rest/<code>/...`); 0 for `all`.
    pub store_id: u32,
    /// `rest` or `bulk`.
    pub via: &'static str,
}

/// Reads `{"customer": {...}}` out of a request body.
fn customer_object(body: &Value) -> MResult<Map<String, Value>> {
    let top = body.as_object().ok_or_else(|| type_error(body, "object"))?;
    let inner = top
        .get("customer")
        .filter(|v| !v.is_null())
        .ok_or_else(|| MagentoError::required("customer"))?;
    normalize(inner, CUSTOMER_FIELDS)
}

/// Magento's `checkPasswordStrength` plus the password-equals-email rule.
pub fn check_password(password: &str, email: &str) -> MResult<()> {
    let len = password.chars().count();
    if len > MAX_PASSWORD_LENGTH {
        return Err(MagentoError::bad_request(
            "Please enter a password with at most %1 characters.",
        )
        .with(json!([MAX_PASSWORD_LENGTH])));
    }
    if len < MIN_PASSWORD_LENGTH {
        return Err(MagentoError::bad_request(
            "The password needs at least %1 characters. Create a new password and try again.",
        )
        .with(json!([MIN_PASSWORD_LENGTH])));
    }
    if password.trim() != password {
        return Err(MagentoError::bad_request(
            "The password can't begin or end with a space. Verify the password and try again.",
        ));
    }
    let classes = [
        password.chars().any(|c| c.is_ascii_digit()),
        password.chars().any(|c| c.is_ascii_uppercase()),
        password.chars().any(|c| c.is_ascii_lowercase()),
        password.chars().any(|c| !c.is_ascii_alphanumeric()),
    ];
    if classes.iter().filter(|x| **x).count() < REQUIRED_CLASSES {
        return Err(MagentoError::bad_request(
            "Minimum of different classes of characters in password is %1. Classes of characters: Lower Case, Upper Case, Digits, Special Characters.",
        )
        .with(json!([REQUIRED_CLASSES])));
    }
    if password.eq_ignore_ascii_case(email) {
        return Err(MagentoError::bad_request(
            "The password can't be the same as the email address. Create a new password and try again.",
        ));
    }
    Ok(())
}

fn valid_name(s: &str) -> bool {
    s.chars()
        .all(|c| c.is_alphanumeric() || c.is_whitespace() || ",-_.'’`&".contains(c))
}

fn valid_email(s: &str) -> bool {
    match s.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty()
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
                && !s.contains(char::is_whitespace)
        }
        None => false,
    }
}

/// Applies the scalar fields present in `m` onto `c`.
fn apply(c: &mut Customer, m: &Map<String, Value>) -> MResult<()> {
    for (key, slot) in [
        ("email", &mut c.email),
        ("firstname", &mut c.firstname),
        ("lastname", &mut c.lastname),
    ] {
        if m.contains_key(key) {
            *slot = string(m, key)?.unwrap_or_default();
            check_markup(key, slot)?;
        }
    }
    for (key, slot) in [
        ("middlename", &mut c.middlename),
        ("prefix", &mut c.prefix),
        ("suffix", &mut c.suffix),
        ("dob", &mut c.dob),
        ("taxvat", &mut c.taxvat),
        ("confirmation", &mut c.confirmation),
        ("default_billing", &mut c.default_billing),
        ("default_shipping", &mut c.default_shipping),
    ] {
        if m.contains_key(key) {
            *slot = string(m, key)?;
            if let Some(v) = slot {
                check_markup(key, v)?;
            }
        }
    }
    if m.contains_key("gender") {
        c.gender = int(m, "gender")?;
    }
    if let Some(g) = int(m, "group_id")? {
        c.group_id = g as u32;
    }
    if let Some(w) = int(m, "website_id")? {
        c.website_id = w as u32;
    }
    if let Some(s) = int(m, "store_id")? {
        c.store_id = s as u32;
    }
    if let Some(d) = int(m, "disable_auto_group_change")? {
        c.disable_auto_group_change = d;
    }
    if let Some(ext) = m.get("extension_attributes").filter(|v| !v.is_null()) {
        let e = normalize(
            ext,
            &["is_subscribed", "assistance_allowed", "company_attributes"],
        )?;
        if let Some(b) = crate::input::boolean(&e, "is_subscribed")? {
            c.extension_attributes.is_subscribed = b;
        }
    }
    if let Some(list) = m.get("custom_attributes").filter(|v| !v.is_null()) {
        for attr in custom_attributes(list)? {
            match c
                .custom_attributes
                .iter_mut()
                .find(|a| a.attribute_code == attr.attribute_code)
            {
                Some(slot) => *slot = attr,
                None => c.custom_attributes.push(attr),
            }
        }
    }
    Ok(())
}

/// Casts every field of a customer object as the input processor does, without saving: what
/// the bulk endpoints check before they schedule anything.
pub(crate) fn check_input(m: &Map<String, Value>) -> MResult<()> {
    if let Some(id) = m.get("id").filter(|v| !v.is_null()) {
        crate::input::parse_int(id)?;
    }
    apply(&mut blank(0, 0), m)?;
    if let Some(list) = m.get("addresses").filter(|v| !v.is_null()) {
        if !list.is_array() {
            return Err(type_error(list, "array"));
        }
    }
    Ok(())
}

/// The EAV checks of a customer save: required names and website, valid names and email.
fn validate(c: &Customer, need_website: bool) -> MResult<()> {
    let mut errors = Vec::new();
    let required =
        |label: &str| MagentoError::bad_request("\"%1\" is a required value.").with(json!([label]));
    if c.firstname.trim().is_empty() {
        errors.push(required("First Name"));
    } else if !valid_name(&c.firstname) {
        errors.push(MagentoError::bad_request("First Name is not valid!"));
    }
    if c.lastname.trim().is_empty() {
        errors.push(required("Last Name"));
    } else if !valid_name(&c.lastname) {
        errors.push(MagentoError::bad_request("Last Name is not valid!"));
    }
    if c.middlename.as_deref().is_some_and(|m| !valid_name(m)) {
        errors.push(MagentoError::bad_request("Middle Name is not valid!"));
    }
    if need_website && c.website_id == 0 {
        errors.push(required("Associate to Website"));
    }
    if !c.email.is_empty() && !valid_email(&c.email) {
        errors.push(
            MagentoError::bad_request("\"%1\" is not a valid email address.")
                .with(json!(["Email"])),
        );
    }
    match MagentoError::aggregate(errors) {
        Some(e) => Err(e),
        None => Ok(()),
    }
}

fn check_group(state: &State, group_id: u32) -> MResult<()> {
    if !state.groups.contains_key(&group_id) {
        return Err(MagentoError::bad_request(
            "The specified customer group id does not exist.",
        ));
    }
    Ok(())
}

fn check_unique_email(state: &State, c: &Customer) -> MResult<()> {
    match state
        .email_index
        .get(&(c.website_id, c.email.to_ascii_lowercase()))
    {
        Some(id) if *id != c.id => Err(MagentoError::bad_request(
            "A customer with the same email address already exists in an associated website.",
        )),
        _ => Ok(()),
    }
}

/// Fills `website_id`/`store_id` from each other or from the request's store, and checks them.
fn place(c: &mut Customer, m: &Map<String, Value>, ctx: &Ctx) -> MResult<()> {
    let stores = store_views();
    let has_site = m.contains_key("website_id");
    let has_store = m.contains_key("store_id");
    if has_site && !matches!(c.website_id, 1 | 2) {
        return Err(MagentoError::new(
            axum::http::StatusCode::NOT_FOUND,
            "The website with id %1 that was requested wasn't found. Verify the website and try again.",
        )
        .with(json!([c.website_id])));
    }
    let request_store = if ctx.store_id == 0 { 1 } else { ctx.store_id };
    match (has_site, has_store) {
        (true, true) => {}
        (true, false) => c.store_id = default_store_of(c.website_id).unwrap_or(1),
        (false, true) => {
            c.website_id = stores
                .iter()
                .find(|s| s.id == c.store_id)
                .map_or(0, |s| s.website_id);
        }
        (false, false) => {
            c.store_id = request_store;
            c.website_id = stores
                .iter()
                .find(|s| s.id == request_store)
                .map_or(1, |s| s.website_id);
        }
    }
    match stores.iter().find(|s| s.id == c.store_id && s.id != 0) {
        Some(s) if s.website_id == c.website_id => {
            c.created_in = s.name.to_owned();
            Ok(())
        }
        _ => Err(MagentoError::bad_request(
            "The store view is not in the associated website.",
        )),
    }
}

/// Defaults that name an address must name one of the customer's own.
fn check_defaults(c: &mut Customer) -> MResult<()> {
    for a in &c.addresses {
        if a.default_billing {
            c.default_billing = Some(a.id.to_string());
        }
        if a.default_shipping {
            c.default_shipping = Some(a.id.to_string());
        }
    }
    for (field, value) in [
        ("default_billing", &c.default_billing),
        ("default_shipping", &c.default_shipping),
    ] {
        if let Some(v) = value
            && !c.addresses.iter().any(|a| a.id.to_string() == *v)
        {
            return Err(MagentoError::bad_request(
                "The %fieldName value is invalid. Set the correct value and try again.",
            )
            .with(json!({ "fieldName": field })));
        }
    }
    let (billing, shipping) = (c.default_billing.clone(), c.default_shipping.clone());
    for a in &mut c.addresses {
        a.default_billing = billing.as_deref() == Some(a.id.to_string().as_str());
        a.default_shipping = shipping.as_deref() == Some(a.id.to_string().as_str());
    }
    Ok(())
}

fn blank(id: u64, now: i64) -> Customer {
    let ts = format_ts(now);
    Customer {
        id,
        group_id: 1,
        default_billing: None,
        default_shipping: None,
        confirmation: None,
        created_at: ts.clone(),
        updated_at: ts,
        created_in: String::new(),
        dob: None,
        email: String::new(),
        firstname: String::new(),
        lastname: String::new(),
        middlename: None,
        prefix: None,
        suffix: None,
        gender: None,
        store_id: 0,
        taxvat: None,
        website_id: 0,
        addresses: Vec::new(),
        disable_auto_group_change: 0,
        extension_attributes: CustomerExtension::default(),
        custom_attributes: Vec::new(),
        password: None,
    }
}

/// `POST /V1/customers`: `{"customer": {...}, "password": "..."}`.
pub fn create(state: &mut State, ctx: &Ctx, body: &Value) -> MResult<(Customer, Vec<Event>)> {
    let m = customer_object(body)?;
    let top = body.as_object().cloned().unwrap_or_default();
    let password = string(&top, "password")?;
    let email = string(&m, "email")?.unwrap_or_default();
    if email.is_empty() {
        return Err(MagentoError::bad_request(
            "The email address is required to create a customer account.",
        ));
    }
    if let Some(p) = &password {
        check_password(p, &email)?;
    }
    if let Some(id) = int(&m, "id")?
        && state.customer(id as u64).is_some()
    {
        return Err(MagentoError::bad_request(
            "This customer already exists in this store.",
        ));
    }
    let id = state.next_customer_id();
    let mut c = blank(id, ctx.now);
    apply(&mut c, &m)?;
    c.password = password.clone();
    validate(&c, false)?;
    place(&mut c, &m, ctx)?;
    check_group(state, c.group_id)?;
    check_unique_email(state, &c)?;
    let mut next = state.next_address_id;
    if let Some(list) = m.get("addresses").filter(|v| !v.is_null()) {
        let (addresses, _) = reconcile(&mut next, id, &[], list)?;
        c.addresses = addresses;
    }
    check_defaults(&mut c)?;
    state.next_address_id = next;
    for a in &c.addresses {
        state.log_write(ctx.now, "create", "address", a.id, ctx.via);
    }
    state.log_write(ctx.now, "create", "customer", id, ctx.via);
    state.outbox.push(Email {
        to: c.email.clone(),
        template: if password.is_some() {
            "registered"
        } else {
            "registered_no_password"
        },
        customer_id: id,
        at: format_ts(ctx.now),
    });
    state.put_customer(c.clone());
    let events = vec![Event::register(&c), Event::save(&c, None)];
    Ok((c, events))
}

/// `PUT /V1/customers/{customerId}` (and the bulk consumer's full save).
pub fn update(
    state: &mut State,
    ctx: &Ctx,
    path_id: u64,
    body: &Value,
    mode: PutMode,
) -> MResult<(Customer, Vec<Event>)> {
    let m = customer_object(body)?;
    let stored = state
        .customer(path_id)
        .cloned()
        .ok_or_else(|| MagentoError::no_such_entity("customerId", path_id))?;
    if let Some(body_id) = int(&m, "id")?
        && body_id as u64 != path_id
    {
        // Real Magento leaves this undefined (it may save onto the other customer); the
        // simulator refuses it so a client bug shows up in tests.
        return Err(MagentoError::bad_request(
            "The customer id in the request body (%1) does not match the id in the URL (%2).",
        )
        .with(json!([body_id, path_id])));
    }
    let mut c = match mode {
        PutMode::Merge => stored.clone(),
        PutMode::Replace => {
            let mut fresh = blank(path_id, ctx.now);
            fresh.created_at = stored.created_at.clone();
            fresh.created_in = stored.created_in.clone();
            fresh.password = stored.password.clone();
            fresh.addresses = stored.addresses.clone();
            fresh.group_id = stored.group_id;
            fresh.store_id = stored.store_id;
            fresh
        }
    };
    apply(&mut c, &m)?;
    if c.email.is_empty() {
        return Err(MagentoError::bad_request(
            "The customer email is missing. Enter and try again.",
        ));
    }
    validate(&c, mode == PutMode::Replace)?;
    if m.contains_key("website_id") || m.contains_key("store_id") {
        place(&mut c, &m, ctx)?;
    }
    check_group(state, c.group_id)?;
    check_unique_email(state, &c)?;
    let mut next = state.next_address_id;
    let mut changes = None;
    if let Some(list) = m.get("addresses").filter(|v| !v.is_null()) {
        let (addresses, ch) = reconcile(&mut next, path_id, &stored.addresses, list)?;
        c.addresses = addresses;
        // A default that pointed at a deleted address lapses unless the request sets it.
        let gone = |v: &Option<String>| {
            v.as_ref()
                .is_some_and(|v| ch.deleted.iter().any(|d| d.to_string() == *v))
        };
        if !m.contains_key("default_billing") && gone(&c.default_billing) {
            c.default_billing = None;
        }
        if !m.contains_key("default_shipping") && gone(&c.default_shipping) {
            c.default_shipping = None;
        }
        changes = Some(ch);
    }
    check_defaults(&mut c)?;
    state.next_address_id = next;
    if let Some(ch) = changes {
        for id in ch.created {
            state.log_write(ctx.now, "create", "address", id, ctx.via);
        }
        for id in ch.deleted {
            state.log_write(ctx.now, "delete", "address", id, ctx.via);
        }
    }
    c.updated_at = format_ts(ctx.now);
    state.log_write(ctx.now, "update", "customer", path_id, ctx.via);
    state.put_customer(c.clone());
    let events = vec![Event::save(&c, Some(&stored))];
    Ok((c, events))
}

/// `DELETE /V1/customers/{customerId}`.
pub fn delete(state: &mut State, ctx: &Ctx, id: u64) -> MResult<Event> {
    let c = state
        .customer(id)
        .cloned()
        .ok_or_else(|| MagentoError::no_such_entity("customerId", id))?;
    state
        .email_index
        .remove(&(c.website_id, c.email.to_ascii_lowercase()));
    state.customers[id as usize] = None;
    state.revoke_tokens(crate::auth::Principal::Customer(id));
    state.log_write(ctx.now, "delete", "customer", id, ctx.via);
    Ok(Event::delete(&c))
}

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn password_rules_in_magentos_order() {
        let msg = |p: &str| check_password(p, "a@b.c").unwrap_err().message;
        assert!(msg("Ab1!").starts_with("The password needs at least %1"));
        assert!(msg(" Abcdef1! ").starts_with("The password can't begin or end with a space"));
        assert!(msg("abcdefgh").starts_with("Minimum of different classes"));
        assert!(msg(&"Ab1!".repeat(70)).starts_with("Please enter a password with at most"));
        assert!(check_password("Str0ng!Pass", "a@b.c").is_ok());
        assert!(
            check_password("Abc@Def.gh1", "abc@def.gh1")
                .unwrap_err()
                .message
                .contains("same as the email")
        );
    }

    #[test]
    fn names_with_markup_characters_are_invalid() {
        assert!(valid_name("Jean-Luc O'Neil"));
        assert!(!valid_name("Robert{}"));
    }
}
