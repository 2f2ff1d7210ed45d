//! The schemas a root serves (User with the enterprise extension, and Group), the attribute
//! characteristics the filters, PATCH and projection consult, and the discovery documents
//! (`/Schemas`, `/ResourceTypes`, `/ServiceProviderConfig`).

use serde_json::{Value, json};

use crate::path::AttrPath;

/// The resource types of a root.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// `/Users`.
    User,
    /// `/Groups`.
    Group,
}

impl Kind {
    /// `User` or `Group`.
    pub fn name(self) -> &'static str {
        match self {
            Kind::User => "User",
            Kind::Group => "Group",
        }
    }

    /// The attribute that names a resource uniquely: `userName`, or a group's `displayName`.
    pub fn unique_attribute(self) -> &'static str {
        match self {
            Kind::User => "userName",
            Kind::Group => "displayName",
        }
    }

    /// `/Users` or `/Groups`.
    pub fn endpoint(self) -> &'static str {
        match self {
            Kind::User => "/Users",
            Kind::Group => "/Groups",
        }
    }
}

/// `string`, `boolean`, `complex` or `reference`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Type {
    String,
    Boolean,
    Complex,
    Reference,
}

/// One attribute and its characteristics (RFC 7643 §2.2).
#[derive(Debug, Clone)]
struct Attr {
    name: &'static str,
    ty: Type,
    multi: bool,
    required: bool,
    case_exact: bool,
    mutability: &'static str,
    returned: &'static str,
    uniqueness: &'static str,
    subs: Vec<Attr>,
}

fn attr(name: &'static str, ty: Type) -> Attr {
    Attr {
        name,
        ty,
        multi: false,
        required: false,
        case_exact: false,
        mutability: "readWrite",
        returned: "default",
        uniqueness: "none",
        subs: Vec::new(),
    }
}

fn string(name: &'static str) -> Attr {
    attr(name, Type::String)
}

impl Attr {
    fn multi(mut self) -> Attr {
        self.multi = true;
        self
    }
    fn required(mut self) -> Attr {
        self.required = true;
        self
    }
    fn exact(mut self) -> Attr {
        self.case_exact = true;
        self
    }
    fn mutability(mut self, m: &'static str) -> Attr {
        self.mutability = m;
        self
    }
    fn returned(mut self, r: &'static str) -> Attr {
        self.returned = r;
        self
    }
    fn unique(mut self) -> Attr {
        self.uniqueness = "server";
        self
    }
    fn with(mut self, subs: Vec<Attr>) -> Attr {
        self.subs = subs;
        self
    }

    fn json(&self) -> Value {
        let mut a = json!({
            "name": self.name,
            "type": match self.ty {
                Type::String => "string",
                Type::Boolean => "boolean",
                Type::Complex => "complex",
                Type::Reference => "reference",
            },
            "multiValued": self.multi,
            "description": self.name,
            "required": self.required,
            "mutability": self.mutability,
            "returned": self.returned,
        });
        if matches!(self.ty, Type::String | Type::Reference) {
            a["caseExact"] = json!(self.case_exact);
            a["uniqueness"] = json!(self.uniqueness);
        }
        if self.ty == Type::Reference {
            a["referenceTypes"] = if self.name == "$ref" {
                json!(["User", "Group"])
            } else {
                json!(["external"])
            };
        }
        if !self.subs.is_empty() {
            a["subAttributes"] = Value::Array(self.subs.iter().map(Attr::json).collect());
        }
        a
    }
}

/// `value`, `display`, `type` and `primary`: the sub-attributes of emails, phone numbers
/// and roles.
fn plural(name: &'static str) -> Attr {
    attr(name, Type::Complex).multi().with(vec![
        string("value"),
        string("display"),
        string("type"),
        attr("primary", Type::Boolean),
    ])
}

fn user_attrs(email_required: bool) -> Vec<Attr> {
    let mut emails = plural("emails");
    if email_required {
        emails = emails.required();
        emails.subs[0] = string("value").required();
    }
    vec![
        string("userName").required().unique(),
        attr("name", Type::Complex).required().with(vec![
            string("formatted"),
            string("familyName").required(),
            string("givenName").required(),
            string("middleName"),
            string("honorificPrefix"),
            string("honorificSuffix"),
        ]),
        string("displayName"),
        string("nickName"),
        attr("profileUrl", Type::Reference),
        string("title"),
        string("userType"),
        string("preferredLanguage"),
        string("locale"),
        string("timezone"),
        attr("active", Type::Boolean),
        string("password")
            .exact()
            .mutability("writeOnly")
            .returned("never"),
        emails,
        plural("phoneNumbers"),
        attr("addresses", Type::Complex).multi().with(vec![
            string("formatted"),
            string("streetAddress"),
            string("locality"),
            string("region"),
            string("postalCode"),
            string("country"),
            string("type"),
            attr("primary", Type::Boolean),
        ]),
        attr("groups", Type::Complex)
            .multi()
            .mutability("readOnly")
            .with(vec![
                string("value").mutability("readOnly"),
                attr("$ref", Type::Reference).exact().mutability("readOnly"),
                string("display").mutability("readOnly"),
                string("type").mutability("readOnly"),
            ]),
        plural("roles"),
    ]
}

fn enterprise_attrs() -> Vec<Attr> {
    vec![
        string("employeeNumber"),
        string("costCenter"),
        string("organization"),
        string("division"),
        string("department"),
        attr("manager", Type::Complex).with(vec![
            string("value"),
            attr("$ref", Type::Reference).exact(),
            string("displayName").mutability("readOnly"),
        ]),
    ]
}

fn group_attrs() -> Vec<Attr> {
    vec![
        string("displayName").required().unique(),
        attr("members", Type::Complex).multi().with(vec![
            string("value").mutability("immutable"),
            attr("$ref", Type::Reference)
                .exact()
                .mutability("immutable"),
            string("display").mutability("immutable"),
            string("type").mutability("immutable"),
        ]),
    ]
}

/// One resource type's schema: its core attributes and its extension's.
#[derive(Debug, Clone)]
pub struct Schema {
    /// The resource type.
    pub kind: Kind,
    /// The core schema's URI.
    pub core: &'static str,
    attrs: Vec<Attr>,
    extension: Option<(&'static str, Vec<Attr>)>,
}

impl Schema {
    /// Users, with the enterprise extension; `emails` is required (both roots need one).
    pub fn user() -> Schema {
        Schema {
            kind: Kind::User,
            core: crate::USER,
            attrs: user_attrs(true),
            extension: Some((crate::ENTERPRISE_USER, enterprise_attrs())),
        }
    }

    /// Groups.
    pub fn group() -> Schema {
        Schema {
            kind: Kind::Group,
            core: crate::GROUP,
            attrs: group_attrs(),
            extension: None,
        }
    }

    /// The schema of `kind`.
    pub fn of(kind: Kind) -> Schema {
        match kind {
            Kind::User => Schema::user(),
            Kind::Group => Schema::group(),
        }
    }

    /// The extension's URI, if the resource type has one.
    pub fn extension_uri(&self) -> Option<&'static str> {
        self.extension.as_ref().map(|(u, _)| *u)
    }

    fn attrs_of(&self, uri: Option<&str>) -> Option<&[Attr]> {
        match (uri, &self.extension) {
            (None, _) => Some(&self.attrs),
            (Some(u), _) if u.eq_ignore_ascii_case(self.core) => Some(&self.attrs),
            (Some(u), Some((e, attrs))) if u.eq_ignore_ascii_case(e) => Some(attrs),
            _ => None,
        }
    }

    fn find(&self, within: Option<&str>, p: &AttrPath) -> Option<&Attr> {
        let attrs = self.attrs_of(p.uri.as_deref())?;
        let (top, sub) = match within {
            Some(w) => (w, Some(p.attr.as_str())),
            None => (p.attr.as_str(), p.sub.as_deref()),
        };
        let a = attrs.iter().find(|a| a.name.eq_ignore_ascii_case(top))?;
        match sub {
            None => Some(a),
            Some(s) => a.subs.iter().find(|x| x.name.eq_ignore_ascii_case(s)),
        }
    }

    /// Whether string comparisons on a path are case-sensitive: `id`, `externalId` and the
    /// attributes marked `caseExact`. `within` is the multi-valued attribute whose elements
    /// a value-path filter is testing.
    pub fn case_exact(&self, within: Option<&str>, p: &AttrPath) -> bool {
        if within.is_none()
            && p.sub.is_none()
            && ["id", "externalId"]
                .iter()
                .any(|n| n.eq_ignore_ascii_case(&p.attr))
        {
            return true;
        }
        self.find(within, p).is_some_and(|a| a.case_exact)
    }

    /// The schema's spelling of an attribute name (`USERNAME` is `userName`); a name it does
    /// not know is kept as given.
    pub fn canonical(&self, within: Option<&str>, uri: Option<&str>, name: &str) -> String {
        let p = AttrPath {
            uri: uri.map(str::to_owned),
            attr: name.to_owned(),
            sub: None,
        };
        for common in ["id", "externalId", "meta", "schemas"] {
            if within.is_none() && common.eq_ignore_ascii_case(name) {
                return common.into();
            }
        }
        self.find(within, &p)
            .map_or_else(|| name.to_owned(), |a| a.name.to_owned())
    }

    /// Whether the attribute is a boolean (so `"False"` from Entra reads as `false`).
    pub fn is_boolean(&self, within: Option<&str>, p: &AttrPath) -> bool {
        self.find(within, p).is_some_and(|a| a.ty == Type::Boolean)
    }

    /// Whether the attribute is multi-valued.
    pub fn is_multi(&self, p: &AttrPath) -> bool {
        self.find(None, &p.top()).is_some_and(|a| a.multi)
    }

    /// Whether a client may not set it (`id`, `meta`, `groups` of a user).
    pub fn is_read_only(&self, p: &AttrPath) -> bool {
        if p.uri.is_none()
            && ["id", "meta"]
                .iter()
                .any(|n| n.eq_ignore_ascii_case(&p.attr))
        {
            return true;
        }
        self.find(None, &p.top())
            .is_some_and(|a| a.mutability == "readOnly")
    }

    /// The top-level attributes never returned (`password`).
    pub fn never_returned(&self) -> Vec<&'static str> {
        self.attrs
            .iter()
            .filter(|a| a.returned == "never")
            .map(|a| a.name)
            .collect()
    }

    /// The `/Schemas` entries of this resource type (its core schema and its extension).
    pub fn documents(&self, base: &str) -> Vec<Value> {
        let doc = |id: &str, name: &str, attrs: &[Attr]| {
            json!({
                "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Schema"],
                "id": id,
                "name": name,
                "description": format!("{name} resources"),
                "attributes": attrs.iter().map(Attr::json).collect::<Vec<_>>(),
                "meta": {"resourceType": "Schema", "location": format!("{base}/Schemas/{id}")},
            })
        };
        let mut out = vec![doc(self.core, self.kind.name(), &self.attrs)];
        if let Some((uri, attrs)) = &self.extension {
            out.push(doc(uri, "EnterpriseUser", attrs));
        }
        out
    }

    /// The `/ResourceTypes` entry.
    pub fn resource_type(&self, base: &str) -> Value {
        let mut t = json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:ResourceType"],
            "id": self.kind.name(),
            "name": self.kind.name(),
            "endpoint": self.kind.endpoint(),
            "description": format!("{}s", self.kind.name()),
            "schema": self.core,
            "meta": {
                "resourceType": "ResourceType",
                "location": format!("{base}/ResourceTypes/{}", self.kind.name()),
            },
        });
        if let Some(uri) = self.extension_uri() {
            t["schemaExtensions"] = json!([{"schema": uri, "required": false}]);
        }
        t
    }
}

/// The `/ServiceProviderConfig` of a root: PATCH and filters, no bulk, sort, ETags or
/// password changes (mageflow never forwards passwords).
pub fn service_provider_config(base: &str, max_results: usize) -> Value {
    json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"],
        "documentationUri": "https://github.com/mageflow/mageflow#scim",
        "patch": {"supported": true},
        "bulk": {"supported": false, "maxOperations": 0, "maxPayloadSize": 0},
        "filter": {"supported": true, "maxResults": max_results},
        "changePassword": {"supported": false},
        "sort": {"supported": false},
        "etag": {"supported": false},
        "authenticationSchemes": [{
            "type": "oauthbearertoken",
            "name": "Bearer token",
            "description": "A mageflow token with the scim role for this root's workflow",
            "primary": true,
        }],
        "meta": {"resourceType": "ServiceProviderConfig", "location": format!("{base}/ServiceProviderConfig")},
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn characteristics_are_looked_up_ignoring_case() {
        let s = Schema::user();
        let p = |t: &str| AttrPath::parse(t).unwrap();
        assert!(s.case_exact(None, &p("externalID")));
        assert!(!s.case_exact(None, &p("userName")));
        assert!(s.is_boolean(None, &p("ACTIVE")));
        assert!(s.is_boolean(Some("emails"), &p("primary")));
        assert!(s.is_multi(&p("emails.value")));
        assert!(s.is_read_only(&p("groups")) && s.is_read_only(&p("meta")));
        assert_eq!(s.canonical(None, None, "USERNAME"), "userName");
        assert_eq!(s.canonical(Some("name"), None, "givenname"), "givenName");
        assert_eq!(s.canonical(None, None, "nonsense"), "nonsense");
        assert_eq!(s.never_returned(), ["password"]);
        let docs = s.documents("http://h/scim/v2/admin");
        assert_eq!(docs[1]["id"], crate::ENTERPRISE_USER);
        assert_eq!(docs[0]["attributes"][0]["uniqueness"], "server");
    }
}
