//! A small validator for the Swagger 2.0 definitions in `fixtures/admin-schema-definitions.json`
//! (extracted from Magento's own admin-schema-2.4.8.json): every property a body carries must
//! be declared with the declared type, and required properties must be present unless Magento
//! omits them as null (FACTS.md §1.3: output objects omit `null` properties).

use serde_json::Value;

/// The definitions, loaded once per test.
pub(crate) struct Schema {
    defs: Value,
}

impl Schema {
    pub(crate) fn load() -> Schema {
        let text = include_str!("../fixtures/admin-schema-definitions.json");
        let doc: Value = serde_json::from_str(text).expect("fixture is JSON");
        Schema {
            defs: doc["definitions"].clone(),
        }
    }

    /// Checks `value` against definition `name`; `omittable` lists required keys Magento
    /// leaves out when their value is null.
    pub(crate) fn check(&self, name: &str, value: &Value, omittable: &[&str]) -> Vec<String> {
        let mut errors = Vec::new();
        self.walk(&self.defs[name], value, name, omittable, &mut errors);
        errors
    }

    fn walk(
        &self,
        schema: &Value,
        value: &Value,
        at: &str,
        omittable: &[&str],
        errors: &mut Vec<String>,
    ) {
        if let Some(r) = schema.get("$ref").and_then(Value::as_str) {
            let name = r.rsplit('/').next().expect("refs have a name");
            let def = &self.defs[name];
            assert!(!def.is_null(), "definition {name} missing from fixture");
            return self.walk(def, value, at, omittable, errors);
        }
        let ty = schema
            .get("type")
            .and_then(Value::as_str)
            .unwrap_or("object");
        let ok = match ty {
            "object" => value.is_object(),
            "array" => value.is_array(),
            "string" => value.is_string(),
            "integer" => value.is_i64() || value.is_u64(),
            "number" => value.is_number(),
            "boolean" => value.is_boolean(),
            _ => true,
        };
        if !ok {
            errors.push(format!("{at}: expected {ty}, got {value}"));
            return;
        }
        match ty {
            "object" => {
                let props = schema.get("properties").and_then(Value::as_object);
                let obj = value.as_object().expect("checked above");
                if let Some(props) = props {
                    for (k, v) in obj {
                        match props.get(k) {
                            Some(s) => self.walk(s, v, &format!("{at}.{k}"), omittable, errors),
                            None => errors.push(format!("{at}.{k}: not declared in the schema")),
                        }
                    }
                }
                for req in schema
                    .get("required")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                {
                    let req = req.as_str().expect("required lists names");
                    if !obj.contains_key(req) && !omittable.contains(&req) {
                        errors.push(format!("{at}: required {req} missing"));
                    }
                }
            }
            "array" => {
                if let Some(items) = schema.get("items") {
                    for (i, v) in value.as_array().expect("checked above").iter().enumerate() {
                        self.walk(items, v, &format!("{at}[{i}]"), omittable, errors);
                    }
                }
            }
            _ => {}
        }
    }
}
