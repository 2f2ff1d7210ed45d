//! Applies a [`Criteria`] to records the way MySQL would: case-insensitive text comparison,
//! numeric comparison for integer attributes, SQL `NULL` never matching a comparison,
//! `LIKE` wildcards, and a stable order (ties broken by id).

use std::borrow::Cow;
use std::cmp::Ordering;

use serde_json::json;

use crate::criteria::{Criteria, Filter};
use crate::error::{MResult, MagentoError};

/// One attribute value of a record.
#[derive(Debug, Clone, PartialEq)]
pub enum Val<'a> {
    /// SQL `NULL`.
    Null,
    /// An integer attribute.
    Int(i64),
    /// A text attribute.
    Text(Cow<'a, str>),
}

/// A record the search engine can filter and sort.
pub trait Searchable {
    /// The record's id (final tie-breaker of every sort).
    fn id(&self) -> u64;
    /// Whether the entity has this attribute at all.
    fn knows(field: &str) -> bool;
    /// The attribute's value (`None` when the entity has no such attribute).
    fn attr(&self, field: &str) -> Option<Val<'_>>;
}

/// Filters, sorts and pages `items`; returns the page and the total number of matches.
pub fn search<'a, T: Searchable + 'a>(
    items: impl Iterator<Item = &'a T>,
    criteria: &Criteria,
) -> MResult<(Vec<&'a T>, usize)> {
    // Unknown attributes are refused before any row is read, as the SQL layer would.
    for f in criteria.groups.iter().flatten() {
        known::<T>(&f.field)?;
    }
    for (field, _) in &criteria.sort {
        known::<T>(field)?;
    }
    let mut hits: Vec<&T> = items.filter(|item| matches(*item, criteria)).collect();
    let total = hits.len();
    let window = criteria.window(total);
    if window.is_empty() {
        return Ok((Vec::new(), total));
    }
    let cmp = |a: &&T, b: &&T| order(*a, *b, &criteria.sort);
    if window.end < total {
        // Only the first `end` rows matter: partition, then sort that prefix.
        hits.select_nth_unstable_by(window.end, cmp);
        hits.truncate(window.end);
    }
    hits.sort_unstable_by(cmp);
    Ok((hits[window].to_vec(), total))
}

fn known<T: Searchable>(field: &str) -> MResult<()> {
    if !T::knows(field) {
        return Err(MagentoError::bad_request("Invalid attribute name: %1").with(json!([field])));
    }
    Ok(())
}

fn matches<T: Searchable>(item: &T, criteria: &Criteria) -> bool {
    criteria
        .groups
        .iter()
        .all(|group| group.is_empty() || group.iter().any(|f| test(item, f)))
}

fn test<T: Searchable>(item: &T, f: &Filter) -> bool {
    let v = item.attr(&f.field).unwrap_or(Val::Null);
    match f.condition.as_str() {
        "null" => v == Val::Null,
        "notnull" => v != Val::Null,
        _ if v == Val::Null => false,
        "eq" => compare(&v, &f.value) == Ordering::Equal,
        "neq" => compare(&v, &f.value) != Ordering::Equal,
        "gt" => compare(&v, &f.value) == Ordering::Greater,
        "lt" => compare(&v, &f.value) == Ordering::Less,
        "gteq" | "moreq" | "from" => compare(&v, &f.value) != Ordering::Less,
        "lteq" | "to" => compare(&v, &f.value) != Ordering::Greater,
        "like" => like(&text(&v), &f.value),
        "nlike" => !like(&text(&v), &f.value),
        "in" => f
            .value
            .split(',')
            .any(|x| compare(&v, x.trim()) == Ordering::Equal),
        "nin" => !f
            .value
            .split(',')
            .any(|x| compare(&v, x.trim()) == Ordering::Equal),
        "finset" => text(&v)
            .split(',')
            .any(|x| x.eq_ignore_ascii_case(&f.value)),
        "nfinset" => !text(&v)
            .split(',')
            .any(|x| x.eq_ignore_ascii_case(&f.value)),
        _ => false,
    }
}

fn text<'a>(v: &'a Val<'a>) -> Cow<'a, str> {
    match v {
        Val::Null => Cow::Borrowed(""),
        Val::Int(n) => Cow::Owned(n.to_string()),
        Val::Text(s) => Cow::Borrowed(s.as_ref()),
    }
}

/// Compares a stored value with a filter value as MySQL does: numbers as numbers, text
/// case-insensitively.
fn compare(v: &Val<'_>, raw: &str) -> Ordering {
    match v {
        Val::Int(n) => {
            let other = raw.trim().parse::<f64>().unwrap_or(0.0);
            (*n as f64).partial_cmp(&other).unwrap_or(Ordering::Equal)
        }
        Val::Text(s) => cmp_ci(s, raw),
        Val::Null => Ordering::Less,
    }
}

fn cmp_ci(a: &str, b: &str) -> Ordering {
    a.bytes()
        .map(|c| c.to_ascii_lowercase())
        .cmp(b.bytes().map(|c| c.to_ascii_lowercase()))
}

fn order<T: Searchable>(a: &T, b: &T, sort: &[(String, bool)]) -> Ordering {
    for (field, desc) in sort {
        let (x, y) = (
            a.attr(field).unwrap_or(Val::Null),
            b.attr(field).unwrap_or(Val::Null),
        );
        let o = match (&x, &y) {
            (Val::Null, Val::Null) => Ordering::Equal,
            (Val::Null, _) => Ordering::Less,
            (_, Val::Null) => Ordering::Greater,
            (Val::Int(p), Val::Int(q)) => p.cmp(q),
            _ => cmp_ci(&text(&x), &text(&y)),
        };
        let o = if *desc { o.reverse() } else { o };
        if o != Ordering::Equal {
            return o;
        }
    }
    a.id().cmp(&b.id())
}

/// SQL `LIKE` with `%` and `_`, case-insensitive, without allocating.
pub fn like(s: &str, pattern: &str) -> bool {
    let (s, p) = (s.as_bytes(), pattern.as_bytes());
    let (mut i, mut j) = (0, 0);
    let (mut star, mut mark) = (None, 0);
    while i < s.len() {
        if j < p.len() && (p[j] == b'_' || p[j].eq_ignore_ascii_case(&s[i])) {
            i += 1;
            j += 1;
        } else if j < p.len() && p[j] == b'%' {
            star = Some(j);
            mark = i;
            j += 1;
        } else if let Some(st) = star {
            j = st + 1;
            mark += 1;
            i = mark;
        } else {
            return false;
        }
    }
    while j < p.len() && p[j] == b'%' {
        j += 1;
    }
    j == p.len()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::criteria::parse;

    struct Row(u64, Option<&'static str>, i64);

    impl Searchable for Row {
        fn id(&self) -> u64 {
            self.0
        }
        fn knows(field: &str) -> bool {
            matches!(field, "id" | "name" | "n")
        }
        fn attr(&self, field: &str) -> Option<Val<'_>> {
            match field {
                "id" => Some(Val::Int(self.0 as i64)),
                "name" => Some(self.1.map_or(Val::Null, |s| Val::Text(s.into()))),
                "n" => Some(Val::Int(self.2)),
                _ => None,
            }
        }
    }

    fn rows() -> Vec<Row> {
        vec![
            Row(1, Some("Alpha"), 10),
            Row(2, Some("beta"), 5),
            Row(3, None, 7),
            Row(4, Some("ALPHABET"), 5),
        ]
    }

    fn ids(q: &str) -> Vec<u64> {
        let rows = rows();
        let c = parse(q, false).unwrap();
        let (page, _) = search(rows.iter(), &c).unwrap();
        page.iter().map(|r| r.0).collect()
    }

    #[test]
    fn like_matches_sql_wildcards() {
        assert!(like("jane@example.com", "%@example.com"));
        assert!(like("Jane", "j_ne"));
        assert!(!like("Jane", "j_n"));
        assert!(like("abc", "%"));
        assert!(like("", "%"));
    }

    #[test]
    fn or_inside_and_across_groups() {
        let q = "searchCriteria[filter_groups][0][filters][0][field]=name&searchCriteria[filter_groups][0][filters][0][value]=alpha%25&searchCriteria[filter_groups][0][filters][0][condition_type]=like&searchCriteria[filter_groups][0][filters][1][field]=n&searchCriteria[filter_groups][0][filters][1][value]=7&searchCriteria[filter_groups][1][filters][0][field]=n&searchCriteria[filter_groups][1][filters][0][value]=6&searchCriteria[filter_groups][1][filters][0][condition_type]=gt";
        assert_eq!(ids(q), vec![1, 3]);
    }

    #[test]
    fn null_never_matches_a_comparison() {
        let q = "searchCriteria[filter_groups][0][filters][0][field]=name&searchCriteria[filter_groups][0][filters][0][value]=zzz&searchCriteria[filter_groups][0][filters][0][condition_type]=neq";
        assert_eq!(ids(q), vec![1, 2, 4]);
        let q = "searchCriteria[filter_groups][0][filters][0][field]=name&searchCriteria[filter_groups][0][filters][0][value]=&searchCriteria[filter_groups][0][filters][0][condition_type]=null";
        assert_eq!(ids(q), vec![3]);
    }

    #[test]
    fn sorts_with_ties_broken_by_id_and_pages() {
        assert_eq!(
            ids(
                "searchCriteria[sortOrders][0][field]=n&searchCriteria[sortOrders][0][direction]=ASC"
            ),
            vec![2, 4, 3, 1]
        );
        assert_eq!(
            ids(
                "searchCriteria[sortOrders][0][field]=n&searchCriteria[pageSize]=2&searchCriteria[currentPage]=1"
            ),
            vec![1, 3]
        );
        assert_eq!(
            ids(
                "searchCriteria[sortOrders][0][field]=n&searchCriteria[pageSize]=2&searchCriteria[currentPage]=2"
            ),
            vec![2, 4]
        );
        assert_eq!(
            ids("searchCriteria[pageSize]=2&searchCriteria[currentPage]=9"),
            Vec::<u64>::new()
        );
    }

    #[test]
    fn in_and_unknown_fields() {
        assert_eq!(
            ids(
                "searchCriteria[filter_groups][0][filters][0][field]=n&searchCriteria[filter_groups][0][filters][0][value]=5,10&searchCriteria[filter_groups][0][filters][0][condition_type]=in"
            ),
            vec![1, 2, 4]
        );
        let rows = rows();
        let c = parse("searchCriteria[filter_groups][0][filters][0][field]=nope&searchCriteria[filter_groups][0][filters][0][value]=1", false).unwrap();
        assert!(search(rows.iter(), &c).is_err());
    }
}
