//! The customer service: create (AccountManagement::createAccount), save (the 2.4.1+ merge or
//! the older full save), delete, get and search, with Magento's validation messages.

mod rules;
mod search;

pub use rules::{MIN_PASSWORD_LENGTH, REQUIRED_CLASSES, check_password};
pub use search::{Page, search_json};

use serde_json::{Map, Value, json};

use crate::address::{custom_attributes, reconcile};
use crate::config::PutMode;
use crate::error::{MResult, MagentoError};
use crate::input::{check_markup, int, normalize, string, type_error};
use crate::model::{Customer, CustomerExtension, default_store_of, store_views};
use crate::state::{Email, State};
use crate::time::format_ts;
use crate::webhooks::Event;
use rules::validate;

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
    if let Some(list) = m.get("addresses").filter(|v| !v.is_null() && !v.is_array()) {
        return Err(type_error(list, "array"));
    }
    Ok(())
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

/// A customer with nothing set but its id and timestamps (group General).
pub(crate) fn blank(id: u64, now: i64) -> Customer {
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
