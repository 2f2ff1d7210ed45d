//! Magento's data objects as the REST API renders them: field names, order and types follow
//! `admin-schema-2.4.8.json`; `null` properties are omitted as Magento's DataObjectProcessor does.

use serde::Serialize;

/// `customer-data-customer-interface`.
#[derive(Debug, Clone, Serialize)]
pub struct Customer {
    pub id: u64,
    pub group_id: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub default_billing: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub default_shipping: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub confirmation: Option<String>,
    pub created_at: String,
    pub updated_at: String,
    pub created_in: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dob: Option<String>,
    pub email: String,
    pub firstname: String,
    pub lastname: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub middlename: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub prefix: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub suffix: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gender: Option<i64>,
    pub store_id: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub taxvat: Option<String>,
    pub website_id: u32,
    pub addresses: Vec<Address>,
    pub disable_auto_group_change: i64,
    pub extension_attributes: CustomerExtension,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub custom_attributes: Vec<CustomAttribute>,
    /// Never rendered: the stored password (the sim keeps it plain; it is a simulator).
    #[serde(skip)]
    pub password: Option<String>,
}

/// `customer-data-customer-extension-interface` (the parts core Magento fills).
#[derive(Debug, Clone, Default, Serialize)]
pub struct CustomerExtension {
    pub is_subscribed: bool,
}

/// `framework-attribute-interface`.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct CustomAttribute {
    pub attribute_code: String,
    pub value: String,
}

/// `customer-data-address-interface`.
#[derive(Debug, Clone, Serialize)]
pub struct Address {
    pub id: u64,
    pub customer_id: u64,
    pub region: Region,
    pub region_id: u32,
    pub country_id: String,
    pub street: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub company: Option<String>,
    pub telephone: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fax: Option<String>,
    pub postcode: String,
    pub city: String,
    pub firstname: String,
    pub lastname: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub middlename: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub prefix: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub suffix: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vat_id: Option<String>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub default_shipping: bool,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub default_billing: bool,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub custom_attributes: Vec<CustomAttribute>,
}

/// `customer-data-region-interface`: all three keys are always present.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Region {
    pub region_code: Option<String>,
    pub region: Option<String>,
    pub region_id: u32,
}

/// `customer-data-group-interface`.
#[derive(Debug, Clone, Serialize)]
pub struct Group {
    pub id: u32,
    pub code: String,
    pub tax_class_id: u32,
    pub tax_class_name: String,
}

/// `store-data-website-interface`.
#[derive(Debug, Clone, Serialize)]
pub struct Website {
    pub id: u32,
    pub code: &'static str,
    pub name: &'static str,
    pub default_group_id: u32,
}

/// `store-data-store-interface` (a store view).
#[derive(Debug, Clone, Serialize)]
pub struct StoreView {
    pub id: u32,
    pub code: &'static str,
    pub name: &'static str,
    pub website_id: u32,
    pub store_group_id: u32,
    pub is_active: u32,
}

/// An admin user as the `/V1/users` extension renders it.
#[derive(Debug, Clone, Serialize)]
pub struct AdminUser {
    pub id: u64,
    pub username: String,
    pub firstname: String,
    pub lastname: String,
    pub email: String,
    pub is_active: bool,
    pub role_id: u32,
    pub created: String,
    pub modified: String,
    #[serde(skip)]
    pub password: String,
}

/// An admin role as `/V1/roles` renders it.
#[derive(Debug, Clone, Serialize)]
pub struct Role {
    pub id: u32,
    pub role_name: String,
    pub resources: Vec<String>,
}

/// An integration (System > Integrations) with its OAuth credentials and ACL.
#[derive(Debug, Clone)]
pub struct Integration {
    pub id: u64,
    pub name: String,
    pub consumer_key: String,
    pub consumer_secret: String,
    pub access_token: String,
    pub access_token_secret: String,
    pub resources: Vec<String>,
}

/// The ACL resources `--integration` grants: every customer and admin-user resource.
pub const FULL_INTEGRATION_ACL: &[&str] = &[
    "Magento_Customer::customer",
    "Magento_Customer::manage",
    "Magento_Customer::delete",
    "Magento_Customer::group",
    "Magento_Backend::stores",
    "Magento_User::acl_users",
    "Magento_User::acl_roles",
    "Magento_Logging::system_magento_logging_bulk_operations",
];

/// Websites of the simulated installation, admin website included (as Magento lists it).
pub fn websites() -> Vec<Website> {
    vec![
        Website {
            id: 0,
            code: "admin",
            name: "Admin",
            default_group_id: 0,
        },
        Website {
            id: 1,
            code: "base",
            name: "Main Website",
            default_group_id: 1,
        },
        Website {
            id: 2,
            code: "b2b",
            name: "B2B Website",
            default_group_id: 2,
        },
    ]
}

/// Store views, admin store included.
pub fn store_views() -> Vec<StoreView> {
    vec![
        StoreView {
            id: 0,
            code: "admin",
            name: "Admin",
            website_id: 0,
            store_group_id: 0,
            is_active: 1,
        },
        StoreView {
            id: 1,
            code: "default",
            name: "Default Store View",
            website_id: 1,
            store_group_id: 1,
            is_active: 1,
        },
        StoreView {
            id: 2,
            code: "b2b_en",
            name: "B2B English",
            website_id: 2,
            store_group_id: 2,
            is_active: 1,
        },
    ]
}

/// The store view a website's customers are created in by default.
pub fn default_store_of(website_id: u32) -> Option<u32> {
    match website_id {
        1 => Some(1),
        2 => Some(2),
        _ => None,
    }
}

/// Magento's default customer groups.
pub fn default_groups() -> Vec<Group> {
    let g = |id, code: &str| Group {
        id,
        code: code.into(),
        tax_class_id: 3,
        tax_class_name: "Retail Customer".into(),
    };
    vec![
        g(0, "NOT LOGGED IN"),
        g(1, "General"),
        g(2, "Wholesale"),
        g(3, "Retailer"),
    ]
}

/// The roles the installation starts with.
pub fn default_roles() -> Vec<Role> {
    vec![
        Role {
            id: 1,
            role_name: "Administrators".into(),
            resources: vec!["Magento_Backend::all".into()],
        },
        Role {
            id: 2,
            role_name: "Customer Support".into(),
            resources: vec![
                "Magento_Customer::customer".into(),
                "Magento_Customer::group".into(),
            ],
        },
    ]
}
