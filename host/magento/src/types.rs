//! Magento's data objects as the client reads them. Fields the client does not name are kept in
//! `other`, so an object read and written back loses nothing Magento sent.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// A storefront customer (`customer-data-customer-interface`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Customer {
    /// Entity id.
    pub id: u64,
    /// Email (unique per website).
    pub email: String,
    /// First name.
    pub firstname: String,
    /// Last name.
    pub lastname: String,
    /// Customer group.
    #[serde(default)]
    pub group_id: u32,
    /// Website.
    #[serde(default)]
    pub website_id: u32,
    /// Store view.
    #[serde(default)]
    pub store_id: u32,
    /// `YYYY-MM-DD HH:MM:SS`, UTC.
    #[serde(default)]
    pub created_at: String,
    /// `YYYY-MM-DD HH:MM:SS`, UTC; moves on every save.
    #[serde(default)]
    pub updated_at: String,
    /// Addresses, as Magento sent them.
    #[serde(default)]
    pub addresses: Vec<Value>,
    /// `{attribute_code, value}` pairs.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub custom_attributes: Vec<CustomAttribute>,
    /// Every other field Magento sent.
    #[serde(flatten)]
    pub other: Map<String, Value>,
}

/// A custom attribute value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CustomAttribute {
    /// Attribute code.
    pub attribute_code: String,
    /// Value (Magento types it as a string).
    pub value: Value,
}

/// A customer group.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Group {
    /// Group id.
    pub id: u32,
    /// Name (`General`, `Wholesale`, ...).
    pub code: String,
    /// Tax class.
    #[serde(default)]
    pub tax_class_id: u32,
}

/// A website.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Website {
    /// Website id.
    pub id: u32,
    /// Code (`base`).
    pub code: String,
    /// Name.
    pub name: String,
}

/// A store view.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoreView {
    /// Store id.
    pub id: u32,
    /// Code used in `/rest/<code>/V1`.
    pub code: String,
    /// Name.
    pub name: String,
    /// Website it belongs to.
    pub website_id: u32,
}

/// An admin user (the `/V1/users` extension).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AdminUser {
    /// User id.
    pub id: u64,
    /// Login name.
    pub username: String,
    /// First name.
    #[serde(default)]
    pub firstname: String,
    /// Last name.
    #[serde(default)]
    pub lastname: String,
    /// Email.
    #[serde(default)]
    pub email: String,
    /// Active accounts can log in.
    #[serde(default)]
    pub is_active: bool,
    /// Role.
    #[serde(default)]
    pub role_id: u32,
    /// Every other field sent.
    #[serde(flatten)]
    pub other: Map<String, Value>,
}

/// An admin role.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Role {
    /// Role id.
    pub id: u32,
    /// Name.
    pub role_name: String,
}

/// One page of search results.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SearchPage<T> {
    /// The page's records.
    pub items: Vec<T>,
    /// Matches across all pages.
    pub total_count: u64,
}

/// A record with an entity id, as search pages hold them.
pub trait Record {
    /// The entity id (0 when the record has none).
    fn record_id(&self) -> u64;
}

impl Record for Customer {
    fn record_id(&self) -> u64 {
        self.id
    }
}

impl Record for AdminUser {
    fn record_id(&self) -> u64 {
        self.id
    }
}

impl Record for Value {
    fn record_id(&self) -> u64 {
        self.get("id").and_then(Value::as_u64).unwrap_or(0)
    }
}
