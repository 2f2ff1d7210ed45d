//! Customers: search and stream, get, find by email, create (rules checked before sending, a
//! retry only after looking the customer up), PUT-merge update, delete, groups, websites, stores.

use reqwest::Method;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use crate::client::{MagentoClient, Repeat};
use crate::connection::{Auth, PasswordRules};
use crate::criteria::{Condition, SearchCriteria};
use crate::error::{Error, Result};
use crate::pages::Pages;
use crate::patch::Patch;
use crate::types::{Customer, Group, SearchPage, StoreView, Website};
use crate::write::{Write, Wrote};

/// A customer to create.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct NewCustomer {
    /// Email (required).
    pub email: String,
    /// First name (required).
    pub firstname: String,
    /// Last name (required).
    pub lastname: String,
    /// Website; the store's website when absent.
    pub website_id: Option<u32>,
    /// Group; Magento's default group (1, General) when absent.
    pub group_id: Option<u32>,
    /// Password; without one Magento mails a link to set it. Never serialized (journals and
    /// digests leave it out).
    #[serde(skip_serializing, default)]
    pub password: Option<String>,
    /// Any other customer fields (`dob`, `gender`, `addresses`, `custom_attributes`, ...).
    pub extra: Map<String, Value>,
}

impl NewCustomer {
    /// The `customer` object Magento expects.
    pub fn to_json(&self) -> Value {
        let mut c = self.extra.clone();
        c.insert("email".into(), json!(self.email));
        c.insert("firstname".into(), json!(self.firstname));
        c.insert("lastname".into(), json!(self.lastname));
        if let Some(w) = self.website_id {
            c.insert("website_id".into(), json!(w));
        }
        if let Some(g) = self.group_id {
            c.insert("group_id".into(), json!(g));
        }
        Value::Object(c)
    }

    /// The request body: `{"customer": {...}, "password": "..."}`.
    pub fn body(&self) -> Value {
        let mut b = json!({ "customer": self.to_json() });
        if let Some(p) = &self.password {
            b["password"] = json!(p);
        }
        b
    }
}

/// Checks a password against the store's customer rules, in Magento's order and words.
pub fn check_password(rules: &PasswordRules, password: &str, email: &str) -> Result<()> {
    let invalid = |message: String| {
        Err(Error::Invalid {
            field: "password".into(),
            message,
        })
    };
    let len = password.chars().count();
    if len > 256 {
        return invalid("Please enter a password with at most 256 characters.".into());
    }
    if len < rules.min_length {
        return invalid(format!(
            "The password needs at least {} characters. Create a new password and try again.",
            rules.min_length
        ));
    }
    if password.trim() != password {
        return invalid(
            "The password can't begin or end with a space. Verify the password and try again."
                .into(),
        );
    }
    let classes = [
        password.chars().any(|c| c.is_ascii_digit()),
        password.chars().any(|c| c.is_ascii_uppercase()),
        password.chars().any(|c| c.is_ascii_lowercase()),
        password.chars().any(|c| !c.is_ascii_alphanumeric()),
    ];
    if classes.iter().filter(|c| **c).count() < rules.required_classes {
        return invalid(format!(
            "Minimum of different classes of characters in password is {}. Classes of characters: Lower Case, Upper Case, Digits, Special Characters.",
            rules.required_classes
        ));
    }
    if password.eq_ignore_ascii_case(email) {
        return invalid("The password can't be the same as the email address. Create a new password and try again.".into());
    }
    Ok(())
}

/// Who the connection authenticates as, for `ping`.
#[derive(Debug, Clone)]
pub struct Whoami {
    /// Auth mode, e.g. `admin token`.
    pub mode: &'static str,
    /// Username, email or consumer key.
    pub principal: String,
    /// Store code in use.
    pub store: Option<String>,
    /// Customers visible to these credentials (not for customer tokens).
    pub customers: Option<u64>,
    /// The customer's own id (customer tokens only).
    pub customer_id: Option<u64>,
}

impl MagentoClient {
    /// Authenticates and reads one small thing, to show the connection works.
    pub async fn ping(&self) -> Result<Whoami> {
        let mut who = Whoami {
            mode: self.conn.auth.mode(),
            principal: self.conn.auth.principal(),
            store: self.conn.store.clone(),
            customers: None,
            customer_id: None,
        };
        if let Auth::Customer { .. } = self.conn.auth {
            let me: Customer = self.read(Method::GET, "/V1/customers/me", "", None).await?;
            who.customer_id = Some(me.id);
        } else {
            let page: SearchPage<Value> = self
                .read(
                    Method::GET,
                    "/V1/customers/search",
                    &SearchCriteria::new().page_size(1).to_query(),
                    None,
                )
                .await?;
            who.customers = Some(page.total_count);
        }
        Ok(who)
    }

    /// Sends a safe request and reads the answer as `T`.
    pub(crate) async fn read<T: serde::de::DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        query: &str,
        body: Option<&Value>,
    ) -> Result<T> {
        self.call(method, path, query, body, Repeat::Safe).await
    }

    /// One page of a customer search, exactly as `criteria` asks.
    pub async fn search_customers(
        &self,
        criteria: &SearchCriteria,
    ) -> Result<SearchPage<Customer>> {
        self.read(
            Method::GET,
            "/V1/customers/search",
            &criteria.to_query(),
            None,
        )
        .await
    }

    /// Every customer matching `criteria`, streamed page by page (at most 300 a page).
    pub fn customers(&self, criteria: SearchCriteria) -> Pages<'_, Customer> {
        Pages::new(self, "/V1/customers/search", "entity_id", criteria)
    }

    /// The customer with this id.
    pub async fn customer(&self, id: u64) -> Result<Customer> {
        self.read(Method::GET, &format!("/V1/customers/{id}"), "", None)
            .await
    }

    /// The customer with this email, in this website when given (emails are unique per website).
    pub async fn find_customer_by_email(
        &self,
        email: &str,
        website_id: Option<u32>,
    ) -> Result<Option<Customer>> {
        let mut criteria = SearchCriteria::new()
            .filter("email", Condition::Eq, email)
            .page_size(2);
        if let Some(w) = website_id {
            criteria = criteria.filter("website_id", Condition::Eq, w.to_string());
        }
        Ok(self
            .search_customers(&criteria)
            .await?
            .items
            .into_iter()
            .next())
    }

    /// Checks a new customer before anything is sent: the password against the store's rules
    /// and the website against the store's websites, so a refusal names the rule.
    pub(crate) async fn check_new_customer(&self, new: &NewCustomer) -> Result<()> {
        if let Some(p) = &new.password {
            check_password(&self.conn.password_rules, p, &new.email)?;
        }
        if let Some(w) = new.website_id {
            let sites = self.websites().await?;
            if !sites.iter().any(|s| s.id == w && s.id != 0) {
                let known: Vec<String> = sites
                    .iter()
                    .filter(|s| s.id != 0)
                    .map(|s| format!("{} ({})", s.id, s.code))
                    .collect();
                return Err(Error::Invalid {
                    field: "website_id".into(),
                    message: format!(
                        "website {w} does not exist on this Magento; its websites are {}",
                        known.join(", ")
                    ),
                });
            }
        }
        Ok(())
    }

    /// Creates a customer. The password and website are checked first, so a refusal names the
    /// rule; a create whose outcome is unknown (dropped connection, 5xx) is sent again only
    /// after looking the customer up by email, so it never lands twice.
    pub async fn create_customer(&self, new: &NewCustomer) -> Result<Customer> {
        match self
            .write(&Write::CreateCustomer(Box::new(new.clone())), false)
            .await?
            .wrote
        {
            Wrote::Customer(c) => Ok(c),
            other => unreachable!("a customer create answers a customer, not {other:?}"),
        }
    }

    /// PUT-merge: reads the stored customer, applies `patch`, and PUTs the whole object with its
    /// id. Fields the patch does not name (addresses, custom attributes, anything Magento sent)
    /// go back as they were, so this is right on Magento's merge PUT (2.4.1+) and on the older
    /// full-replace PUT alike. A PUT whose answer is lost is sent again only if the customer
    /// does not hold the patch. Returns the saved customer.
    pub async fn update_customer(&self, id: u64, patch: &Patch) -> Result<Customer> {
        match self
            .write(&Write::UpdateCustomer(id, patch.clone()), false)
            .await?
            .wrote
        {
            Wrote::Customer(c) => Ok(c),
            other => unreachable!("a customer update answers a customer, not {other:?}"),
        }
    }

    /// The customer with this id, as Magento sent it (every field, untyped).
    pub async fn customer_json(&self, id: u64) -> Result<Value> {
        self.read(Method::GET, &format!("/V1/customers/{id}"), "", None)
            .await
    }

    /// Deletes a customer; a delete whose answer is lost is not sent again once the customer
    /// is gone.
    pub async fn delete_customer(&self, id: u64) -> Result<()> {
        self.write(&Write::DeleteCustomer(id), false)
            .await
            .map(drop)
    }

    /// Every customer group.
    pub async fn customer_groups(&self) -> Result<Vec<Group>> {
        let page: SearchPage<Group> = self
            .read(
                Method::GET,
                "/V1/customerGroups/search",
                "searchCriteria=",
                None,
            )
            .await?;
        Ok(page.items)
    }

    /// Websites (cached for the life of the client), the admin website included as Magento lists it.
    pub async fn websites(&self) -> Result<Vec<Website>> {
        self.websites
            .get_or_try_init(|| self.read(Method::GET, "/V1/store/websites", "", None))
            .await
            .cloned()
    }

    /// Store views.
    pub async fn store_views(&self) -> Result<Vec<StoreView>> {
        self.read(Method::GET, "/V1/store/storeViews", "", None)
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn password_rules_speak_magentos_words() {
        let rules = PasswordRules::default();
        let msg = |p: &str| check_password(&rules, p, "a@b.c").unwrap_err().to_string();
        assert_eq!(
            msg("Ab1!"),
            "password: The password needs at least 8 characters. Create a new password and try again."
        );
        assert!(
            msg("abcdefgh")
                .contains("Minimum of different classes of characters in password is 3.")
        );
        assert!(msg(" Abcdef1!").contains("can't begin or end with a space"));
        assert!(check_password(&rules, "Str0ng!Pass", "a@b.c").is_ok());
    }
}
