//! `searchCriteria`, built the way Magento reads it: filter groups (OR inside a group, AND
//! across groups), every condition type, sort orders, page size and current page, written as
//! PHP bracket parameters with values percent-encoded.

use std::fmt::Write as _;

use serde::{Deserialize, Serialize};

use crate::oauth::percent;

/// A `condition_type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Condition {
    /// `=`.
    Eq,
    /// `!=`.
    Neq,
    /// `LIKE` with `%` and `_` wildcards.
    Like,
    /// `NOT LIKE`.
    Nlike,
    /// In a comma-separated list.
    In,
    /// Not in a comma-separated list.
    Nin,
    /// `IS NOT NULL`.
    Notnull,
    /// `IS NULL`.
    Null,
    /// `>`.
    Gt,
    /// `<`.
    Lt,
    /// `>=`.
    Gteq,
    /// `<=`.
    Lteq,
    /// `>=` (Magento's alias).
    Moreq,
    /// `>=`, the start of a range.
    From,
    /// `<=`, the end of a range.
    To,
    /// `FIND_IN_SET`.
    Finset,
    /// `NOT FIND_IN_SET`.
    Nfinset,
}

const NAMES: &[(Condition, &str, &str)] = &[
    (Condition::Eq, "eq", "="),
    (Condition::Neq, "neq", "!="),
    (Condition::Like, "like", "~"),
    (Condition::Nlike, "nlike", "!~"),
    (Condition::In, "in", ""),
    (Condition::Nin, "nin", ""),
    (Condition::Notnull, "notnull", ""),
    (Condition::Null, "null", ""),
    (Condition::Gt, "gt", ">"),
    (Condition::Lt, "lt", "<"),
    (Condition::Gteq, "gteq", ">="),
    (Condition::Lteq, "lteq", "<="),
    (Condition::Moreq, "moreq", ""),
    (Condition::From, "from", ""),
    (Condition::To, "to", ""),
    (Condition::Finset, "finset", ""),
    (Condition::Nfinset, "nfinset", ""),
];

impl Condition {
    /// Magento's name for it.
    pub fn name(self) -> &'static str {
        NAMES
            .iter()
            .find(|(c, _, _)| *c == self)
            .map(|(_, n, _)| *n)
            .expect("every condition is named")
    }

    /// Reads a Magento name (`gteq`) or an operator (`>=`, `~` for like).
    pub fn parse(s: &str) -> Option<Condition> {
        let s = s.trim().to_ascii_lowercase();
        NAMES
            .iter()
            .find(|(_, n, op)| *n == s || (!op.is_empty() && *op == s))
            .map(|(c, _, _)| *c)
    }

    /// Every condition, for help texts.
    pub fn all() -> impl Iterator<Item = &'static str> {
        NAMES.iter().map(|(_, n, _)| *n)
    }
}

/// One filter.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Filter {
    /// Attribute name (`email`, `group_id`, `updated_at`, ...).
    pub field: String,
    /// How to compare.
    pub condition: Condition,
    /// The value (comma-separated for `in` and `nin`; ignored by `null` and `notnull`).
    pub value: String,
}

impl Filter {
    /// A filter.
    pub fn new(field: impl Into<String>, condition: Condition, value: impl Into<String>) -> Filter {
        Filter {
            field: field.into(),
            condition,
            value: value.into(),
        }
    }

    /// Parses `FIELD OP VALUE` (`group_id eq 2`, `email like %@example.com`, `dob notnull`).
    pub fn parse(text: &str) -> Result<Filter, String> {
        let mut parts = text.trim().splitn(3, char::is_whitespace);
        let field = parts
            .next()
            .filter(|f| !f.is_empty())
            .ok_or_else(|| format!("empty filter {text:?}"))?;
        let op = parts.next().ok_or_else(|| {
            format!("filter {text:?} has no operator: write FIELD OP VALUE, e.g. 'group_id eq 2'")
        })?;
        let condition = Condition::parse(op).ok_or_else(|| {
            format!(
                "unknown operator {op:?} in {text:?}; use one of {} (or =, !=, >, <, >=, <=, ~)",
                Condition::all().collect::<Vec<_>>().join(", ")
            )
        })?;
        let value = parts.next().unwrap_or("").trim();
        if value.is_empty() && !matches!(condition, Condition::Null | Condition::Notnull) {
            return Err(format!("filter {text:?} has no value"));
        }
        Ok(Filter::new(field, condition, value))
    }
}

/// Sort direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Direction {
    /// Ascending.
    Asc,
    /// Descending.
    Desc,
}

/// A search, as Magento's `searchCriteria`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SearchCriteria {
    /// Filter groups: OR inside a group, AND across groups.
    pub groups: Vec<Vec<Filter>>,
    /// Sort orders in priority order.
    pub sort: Vec<(String, Direction)>,
    /// Page size (`None` lets Magento decide: everything, or 20 with input limits on).
    pub page_size: Option<u32>,
    /// 1-based page.
    pub current_page: Option<u32>,
}

impl SearchCriteria {
    /// An empty search (every record).
    pub fn new() -> SearchCriteria {
        SearchCriteria::default()
    }

    /// ANDs one filter (a group of its own).
    pub fn filter(mut self, field: &str, condition: Condition, value: impl Into<String>) -> Self {
        self.groups.push(vec![Filter::new(field, condition, value)]);
        self
    }

    /// ANDs a group whose filters are ORed.
    pub fn any(mut self, filters: Vec<Filter>) -> Self {
        if !filters.is_empty() {
            self.groups.push(filters);
        }
        self
    }

    /// Adds a sort order.
    pub fn sort(mut self, field: &str, direction: Direction) -> Self {
        self.sort.push((field.to_owned(), direction));
        self
    }

    /// Sets the page size.
    pub fn page_size(mut self, n: u32) -> Self {
        self.page_size = Some(n);
        self
    }

    /// Sets the 1-based page.
    pub fn current_page(mut self, n: u32) -> Self {
        self.current_page = Some(n);
        self
    }

    /// The query string, always carrying `searchCriteria` (Magento answers 400 without it).
    pub fn to_query(&self) -> String {
        let mut q = String::new();
        let mut put = |key: &str, value: &str| {
            if !q.is_empty() {
                q.push('&');
            }
            let _ = write!(q, "searchCriteria{key}={}", percent(value));
        };
        for (g, group) in self.groups.iter().enumerate() {
            for (i, f) in group.iter().enumerate() {
                let at = format!("[filter_groups][{g}][filters][{i}]");
                put(&format!("{at}[field]"), &f.field);
                put(&format!("{at}[value]"), &f.value);
                put(&format!("{at}[condition_type]"), f.condition.name());
            }
        }
        for (i, (field, dir)) in self.sort.iter().enumerate() {
            put(&format!("[sortOrders][{i}][field]"), field);
            put(
                &format!("[sortOrders][{i}][direction]"),
                if *dir == Direction::Asc {
                    "ASC"
                } else {
                    "DESC"
                },
            );
        }
        if let Some(n) = self.page_size {
            put("[pageSize]", &n.to_string());
        }
        if let Some(n) = self.current_page {
            put("[currentPage]", &n.to_string());
        }
        if q.is_empty() {
            q.push_str("searchCriteria=");
        }
        q
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_magentos_bracket_query_exactly() {
        let c = SearchCriteria::new()
            .any(vec![
                Filter::new("email", Condition::Like, "%@example.com"),
                Filter::new("firstname", Condition::Eq, "Jane Doe"),
            ])
            .filter("group_id", Condition::In, "1,2")
            .sort("lastname", Direction::Asc)
            .page_size(300)
            .current_page(2);
        assert_eq!(
            c.to_query(),
            "searchCriteria[filter_groups][0][filters][0][field]=email&searchCriteria[filter_groups][0][filters][0][value]=%25%40example.com\
&searchCriteria[filter_groups][0][filters][0][condition_type]=like&searchCriteria[filter_groups][0][filters][1][field]=firstname\
&searchCriteria[filter_groups][0][filters][1][value]=Jane%20Doe&searchCriteria[filter_groups][0][filters][1][condition_type]=eq\
&searchCriteria[filter_groups][1][filters][0][field]=group_id&searchCriteria[filter_groups][1][filters][0][value]=1%2C2\
&searchCriteria[filter_groups][1][filters][0][condition_type]=in&searchCriteria[sortOrders][0][field]=lastname\
&searchCriteria[sortOrders][0][direction]=ASC&searchCriteria[pageSize]=300&searchCriteria[currentPage]=2"
        );
        assert_eq!(SearchCriteria::new().to_query(), "searchCriteria=");
    }

    #[test]
    fn every_condition_round_trips_its_name() {
        for name in Condition::all() {
            assert_eq!(Condition::parse(name).unwrap().name(), name);
        }
        assert_eq!(Condition::parse(">="), Some(Condition::Gteq));
        assert_eq!(Condition::parse("~"), Some(Condition::Like));
    }

    #[test]
    fn parses_filter_text() {
        assert_eq!(
            Filter::parse("group_id eq 2").unwrap(),
            Filter::new("group_id", Condition::Eq, "2")
        );
        assert_eq!(
            Filter::parse("email like %@x.com").unwrap().condition,
            Condition::Like
        );
        assert_eq!(Filter::parse("dob notnull").unwrap().value, "");
        assert!(
            Filter::parse("group_id")
                .unwrap_err()
                .contains("no operator")
        );
        assert!(
            Filter::parse("group_id is 2")
                .unwrap_err()
                .contains("unknown operator")
        );
        assert!(
            Filter::parse("group_id eq")
                .unwrap_err()
                .contains("no value")
        );
    }
}
