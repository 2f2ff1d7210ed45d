//! `searchCriteria` as Magento reads it from a query string: PHP bracket syntax
//! (`searchCriteria[filter_groups][0][filters][0][field]=email`), snake_case or camelCase keys,
//! `search_criteria` as an alias of the parameter itself, and the input-limit rules.

use std::collections::BTreeMap;

use percent_encoding::percent_decode_str;
use serde_json::{Map, Value, json};

use crate::error::{MResult, MagentoError};
use crate::input::{snake_case, upper_camel};

/// One filter: `field condition_type value`.
#[derive(Debug, Clone, PartialEq)]
pub struct Filter {
    /// Attribute name.
    pub field: String,
    /// Raw value (comma-separated for `in`/`nin`).
    pub value: String,
    /// `eq` when the request gave none.
    pub condition: String,
}

/// A parsed `searchCriteria`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Criteria {
    /// Filter groups: OR inside a group, AND across groups.
    pub groups: Vec<Vec<Filter>>,
    /// `(field, descending)` in priority order.
    pub sort: Vec<(String, bool)>,
    /// Page size; `None` returns every match (input limits off).
    pub page_size: Option<u64>,
    /// 1-based page; `None` is page 1.
    pub current_page: Option<u64>,
    /// Answer a page past the end with the last page again (Magento before 2.4) instead of an
    /// empty page (2.4.x).
    pub repeat_last_page: bool,
}

/// Condition types Magento's SQL adapter understands for search filters.
pub const CONDITIONS: &[&str] = &[
    "eq", "neq", "like", "nlike", "in", "nin", "notnull", "null", "gt", "lt", "gteq", "lteq",
    "moreq", "from", "to", "finset", "nfinset",
];

/// The largest page Magento allows when input limits are on.
pub const MAX_PAGE_SIZE: u64 = 300;
/// The page size Magento applies when input limits are on and the request gives none.
pub const DEFAULT_PAGE_SIZE: u64 = 20;

/// Decodes `a=b&c=d` the way PHP does (`+` is a space).
pub fn query_pairs(raw: &str) -> Vec<(String, String)> {
    raw.split('&')
        .filter(|p| !p.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            (decode(k), decode(v))
        })
        .collect()
}

fn decode(s: &str) -> String {
    let spaced = s.replace('+', " ");
    percent_decode_str(&spaced).decode_utf8_lossy().into_owned()
}

/// Splits `base[a][b]` into `("base", ["a", "b"])`.
fn split_key(key: &str) -> (&str, Vec<&str>) {
    let Some(open) = key.find('[') else {
        return (key, Vec::new());
    };
    let base = &key[..open];
    let segs = key[open..]
        .split('[')
        .filter(|s| !s.is_empty())
        .map(|s| s.trim_end_matches(']'))
        .collect();
    (base, segs)
}

/// A query-string tree: the nested arrays PHP builds from bracket keys.
#[derive(Debug, Default)]
struct Tree {
    leaf: Option<String>,
    kids: BTreeMap<String, Tree>,
}

impl Tree {
    fn insert(&mut self, path: &[&str], value: String) {
        match path.split_first() {
            None => self.leaf = Some(value),
            Some((head, rest)) => self
                .kids
                .entry(snake_case(head))
                .or_default()
                .insert(rest, value),
        }
    }

    /// Children in index order (`0, 1, 2, 10` numerically, as PHP arrays keep insertion order).
    fn list(&self) -> Vec<&Tree> {
        let mut items: Vec<(&String, &Tree)> = self.kids.iter().collect();
        items.sort_by_key(|(k, _)| (k.parse::<u64>().unwrap_or(u64::MAX), (*k).clone()));
        items.into_iter().map(|(_, t)| t).collect()
    }

    fn text(&self, key: &str) -> Option<&str> {
        self.kids.get(key).and_then(|t| t.leaf.as_deref())
    }

    fn only(&self, allowed: &[&str]) -> MResult<()> {
        for k in self.kids.keys() {
            if !allowed.contains(&k.as_str()) {
                return Err(MagentoError::not_supported(&upper_camel(k)));
            }
        }
        Ok(())
    }
}

/// Reads `searchCriteria` from a raw query string. A request without it gets Magento's 400.
pub fn parse(raw_query: &str, input_limits: bool) -> MResult<Criteria> {
    let mut tree = Tree::default();
    let mut present = false;
    for (key, value) in query_pairs(raw_query) {
        let (base, segs) = split_key(&key);
        if base == "searchCriteria" || base == "search_criteria" {
            present = true;
            tree.insert(&segs, value);
        }
    }
    if !present {
        return Err(MagentoError::required("searchCriteria"));
    }
    tree.only(&["filter_groups", "sort_orders", "page_size", "current_page"])?;
    let mut criteria = Criteria::default();
    if let Some(groups) = tree.kids.get("filter_groups") {
        for group in groups.list() {
            group.only(&["filters"])?;
            let mut filters = Vec::new();
            if let Some(list) = group.kids.get("filters") {
                for f in list.list() {
                    f.only(&["field", "value", "condition_type"])?;
                    let field = f
                        .text("field")
                        .ok_or_else(|| MagentoError::required("field"))?;
                    let condition = f
                        .text("condition_type")
                        .unwrap_or("eq")
                        .to_ascii_lowercase();
                    if !CONDITIONS.contains(&condition.as_str()) {
                        return Err(MagentoError::bad_request("Invalid condition type: %1")
                            .with(json!([condition])));
                    }
                    filters.push(Filter {
                        field: field.to_owned(),
                        value: f.text("value").unwrap_or_default().to_owned(),
                        condition,
                    });
                }
            }
            criteria.groups.push(filters);
        }
    }
    if let Some(orders) = tree.kids.get("sort_orders") {
        for o in orders.list() {
            o.only(&["field", "direction"])?;
            let Some(field) = o.text("field") else {
                continue;
            };
            // Magento sorts descending when a sort order names no direction.
            let desc = !o
                .text("direction")
                .is_some_and(|d| d.eq_ignore_ascii_case("asc"));
            criteria.sort.push((field.to_owned(), desc));
        }
    }
    criteria.page_size = number(&tree, "page_size")?.filter(|n| *n > 0);
    criteria.current_page = number(&tree, "current_page")?;
    if input_limits {
        match criteria.page_size {
            Some(n) if n > MAX_PAGE_SIZE => {
                return Err(
                    MagentoError::bad_request("Maximum SearchCriteria pageSize is %max")
                        .with(json!({ "max": MAX_PAGE_SIZE })),
                );
            }
            None => criteria.page_size = Some(DEFAULT_PAGE_SIZE),
            _ => {}
        }
    }
    Ok(criteria)
}

fn number(tree: &Tree, key: &str) -> MResult<Option<u64>> {
    match tree.text(key) {
        None | Some("") => Ok(None),
        Some(s) => match s.trim().parse::<i64>() {
            Ok(n) => Ok(Some(n.max(0) as u64)),
            Err(_) => Err(crate::input::type_error(
                &Value::String(s.to_owned()),
                "int",
            )),
        },
    }
}

impl Criteria {
    /// The `search_criteria` Magento echoes back in search results.
    pub fn echo(&self) -> Value {
        let mut m = Map::new();
        let groups: Vec<Value> = self
            .groups
            .iter()
            .map(|g| {
                let filters: Vec<Value> = g
                    .iter()
                    .map(|f| json!({"field": f.field, "value": f.value, "condition_type": f.condition}))
                    .collect();
                json!({ "filters": filters })
            })
            .collect();
        m.insert("filter_groups".into(), Value::Array(groups));
        if !self.sort.is_empty() {
            let orders: Vec<Value> = self
                .sort
                .iter()
                .map(|(f, desc)| json!({"field": f, "direction": if *desc { "DESC" } else { "ASC" }}))
                .collect();
            m.insert("sort_orders".into(), Value::Array(orders));
        }
        if let Some(n) = self.page_size {
            m.insert("page_size".into(), json!(n));
        }
        if let Some(n) = self.current_page {
            m.insert("current_page".into(), json!(n));
        }
        Value::Object(m)
    }

    /// The 0-based range of matches the requested page covers (empty past the end).
    pub fn window(&self, total: usize) -> std::ops::Range<usize> {
        match self.page_size {
            None => 0..total,
            Some(size) => {
                let mut page = self.current_page.unwrap_or(1).max(1);
                let last = (total as u64).div_ceil(size).max(1);
                if self.repeat_last_page && page > last {
                    // Collection::getCurPage() before 2.4 clamped to the last page.
                    page = last;
                }
                let start = ((page - 1).saturating_mul(size)).min(total as u64) as usize;
                let end = (start as u64 + size).min(total as u64) as usize;
                start..end
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_search_criteria_is_refused() {
        let err = parse("fields=items", false).unwrap_err();
        assert_eq!(err.parameters, Some(json!({"fieldName": "searchCriteria"})));
        assert!(parse("searchCriteria=", false).is_ok());
    }

    #[test]
    fn reads_groups_sorts_and_paging_in_either_case() {
        let q = "searchCriteria[filterGroups][0][filters][0][field]=email&searchCriteria[filterGroups][0][filters][0][value]=%25example.com&searchCriteria[filterGroups][0][filters][0][conditionType]=like&searchCriteria[filter_groups][1][filters][0][field]=group_id&searchCriteria[filter_groups][1][filters][0][value]=2&searchCriteria[sortOrders][0][field]=lastname&searchCriteria[sortOrders][0][direction]=ASC&searchCriteria[pageSize]=50&searchCriteria[currentPage]=3";
        let c = parse(q, false).unwrap();
        assert_eq!(c.groups.len(), 2);
        assert_eq!(c.groups[0][0].condition, "like");
        assert_eq!(c.groups[0][0].value, "%example.com");
        assert_eq!(c.groups[1][0].condition, "eq");
        assert_eq!(c.sort, vec![("lastname".to_owned(), false)]);
        assert_eq!((c.page_size, c.current_page), (Some(50), Some(3)));
        assert_eq!(c.window(120), 100..120);
        assert_eq!(c.window(90), 90..90);
        let legacy = Criteria {
            repeat_last_page: true,
            ..c
        };
        assert_eq!(
            legacy.window(90),
            50..90,
            "before 2.4 a page past the end is the last page again"
        );
    }

    #[test]
    fn snake_case_parameter_name_is_accepted() {
        let c = parse("search_criteria[page_size]=10", false).unwrap();
        assert_eq!(c.page_size, Some(10));
    }

    #[test]
    fn input_limits_cap_and_default_the_page_size() {
        let err = parse("searchCriteria[pageSize]=301", true).unwrap_err();
        assert_eq!(
            err.body().to_string(),
            r#"{"message":"Maximum SearchCriteria pageSize is %max","parameters":{"max":300}}"#
        );
        assert_eq!(parse("searchCriteria=", true).unwrap().page_size, Some(20));
        assert_eq!(
            parse("searchCriteria[pageSize]=5000", false)
                .unwrap()
                .page_size,
            Some(5000)
        );
    }

    #[test]
    fn sort_without_direction_is_descending() {
        let c = parse("searchCriteria[sortOrders][0][field]=id", false).unwrap();
        assert_eq!(c.sort, vec![("id".to_owned(), true)]);
    }
}
