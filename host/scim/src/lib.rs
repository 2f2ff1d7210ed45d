//! SCIM 2.0 as data. What the service provider needs of the protocol, independent of where
//! the resources live: the filter grammar of RFC 7644 §3.4.2.2 ([`filter`]), attribute paths
//! ([`path`]), PATCH operations applied to a JSON resource ([`patch`]), list queries and
//! attribute projection ([`query`]), the Error schema ([`error`]) and the discovery documents
//! with the attribute characteristics the rest consults ([`schema`]).
//!
//! Attribute names are case-insensitive everywhere (RFC 7643 §2.1); resources keep the names
//! the schema gives, and attributes the schema does not know are kept as sent.

pub mod error;
pub mod filter;
pub mod patch;
pub mod path;
pub mod query;
pub mod schema;

pub use error::{ScimError, ScimType};
pub use filter::Filter;
pub use path::AttrPath;
pub use schema::{Kind, Schema};

/// The media type of every SCIM answer.
pub const MEDIA_TYPE: &str = "application/scim+json";
/// The ListResponse message.
pub const LIST_RESPONSE: &str = "urn:ietf:params:scim:api:messages:2.0:ListResponse";
/// The PatchOp message.
pub const PATCH_OP: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";
/// The Error message.
pub const ERROR: &str = "urn:ietf:params:scim:api:messages:2.0:Error";
/// The core User schema.
pub const USER: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
/// The core Group schema.
pub const GROUP: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";
/// The enterprise User extension.
pub const ENTERPRISE_USER: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
/// The group schema URI Entra ID adds to the `schemas` of a group it creates.
pub const ENTRA_GROUP: &str =
    "http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/Group";
