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

/// A record the search engine can filter and sort. Attributes are addressed by a small index
/// resolved once per search, so the per-row work is an integer match, not a string compare.
pub trait Searchable {
    /// The record's id (final tie-breaker of every sort).
    fn id(&self) -> u64;
    /// The index of a named attribute, or `None` when the entity has no such attribute.
    fn field(name: &str) -> Option<u16>;
    /// The value of the attribute at `field` (an index from [`Searchable::field`]).
    fn value(&self, field: u16) -> Val<'_>;
}

/// A condition type, resolved once per search.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Cond {
    Eq,
    Neq,
    Gt,
    Lt,
    Gteq,
    Lteq,
    Like,
    Nlike,
    In,
    Nin,
    Null,
    NotNull,
    Finset,
    Nfinset,
}

impl Cond {
    fn parse(name: &str) -> Option<Cond> {
        Some(match name {
            "eq" => Cond::Eq,
            "neq" => Cond::Neq,
            "gt" => Cond::Gt,
            "lt" => Cond::Lt,
            "gteq" | "moreq" | "from" => Cond::Gteq,
            "lteq" | "to" => Cond::Lteq,
            "like" => Cond::Like,
            "nlike" => Cond::Nlike,
            "in" => Cond::In,
            "nin" => Cond::Nin,
            "null" => Cond::Null,
            "notnull" => Cond::NotNull,
            "finset" => Cond::Finset,
            "nfinset" => Cond::Nfinset,
            _ => return None,
        })
    }
}

/// A filter with its attribute resolved and its value pre-parsed.
#[derive(Debug)]
struct Compiled<'c> {
    field: u16,
    condition: Cond,
    raw: &'c str,
    num: f64,
    list: Vec<(&'c str, f64)>,
}

fn resolve<T: Searchable>(name: &str) -> MResult<u16> {
    T::field(name)
        .ok_or_else(|| MagentoError::bad_request("Invalid attribute name: %1").with(json!([name])))
}

fn number(raw: &str) -> f64 {
    raw.trim().parse::<f64>().unwrap_or(0.0)
}

fn compile<'c, T: Searchable>(f: &'c Filter) -> MResult<Compiled<'c>> {
    Ok(Compiled {
        field: resolve::<T>(&f.field)?,
        condition: Cond::parse(&f.condition).ok_or_else(|| {
            MagentoError::bad_request("Invalid condition type: %1").with(json!([f.condition]))
        })?,
        raw: f.value.as_str(),
        num: number(&f.value),
        list: match f.condition.as_str() {
            "in" | "nin" => f.value.split(',').map(|x| (x.trim(), number(x))).collect(),
            _ => Vec::new(),
        },
    })
}

/// A slot of a record table: `Option<T>` for tables with holes (deleted ids), `&T` for lists.
pub trait Row<T> {
    /// The record in this slot, if any.
    fn record(&self) -> Option<&T>;
}

impl<T> Row<T> for Option<T> {
    fn record(&self) -> Option<&T> {
        self.as_ref()
    }
}

impl<T> Row<T> for &T {
    fn record(&self) -> Option<&T> {
        Some(self)
    }
}

/// Tables at least this large are scanned on two threads.
const PARALLEL_ROWS: usize = 16_384;

/// Filters, sorts and pages `rows`; returns the page and the total number of matches.
pub fn search<'a, T, R>(rows: &'a [R], criteria: &Criteria) -> MResult<(Vec<&'a T>, usize)>
where
    T: Searchable + Sync + 'a,
    R: Row<T> + Sync,
{
    // Unknown attributes are refused before any row is read, as the SQL layer would.
    let groups: Vec<Vec<Compiled<'_>>> = criteria
        .groups
        .iter()
        .map(|g| g.iter().map(compile::<T>).collect::<MResult<Vec<_>>>())
        .collect::<MResult<_>>()?;
    let sort: Vec<(u16, bool)> = criteria
        .sort
        .iter()
        .map(|(name, desc)| Ok((resolve::<T>(name)?, *desc)))
        .collect::<MResult<_>>()?;
    // Rows are stored in id order, so a lone ascending id sort (what paging clients send for
    // stability) needs no sorting at all.
    let sort = match sort.as_slice() {
        [(field, false)] if Some(*field) == T::field("id") => Vec::new(),
        _ => sort,
    };
    let (hits, keys) = if rows.len() >= PARALLEL_ROWS {
        let (left, right) = rows.split_at(rows.len() / 2);
        let ((mut hits, mut keys), (more, tail)) = std::thread::scope(|s| {
            let other = s.spawn(|| scan(right, &groups, &sort));
            let mine = scan(left, &groups, &sort);
            (mine, other.join().expect("a search scan does not panic"))
        });
        hits.extend(more);
        keys.append(tail);
        (hits, keys)
    } else {
        scan(rows, &groups, &sort)
    };
    let total = hits.len();
    let window = criteria.window(total);
    if window.is_empty() {
        return Ok((Vec::new(), total));
    }
    if sort.is_empty() {
        // Without sort orders rows come in id order, which is the order they were read in.
        return Ok((hits[window].to_vec(), total));
    }
    let mut order: Vec<u32> = (0..total as u32).collect();
    let cmp = |a: &u32, b: &u32| {
        keys.compare(*a as usize, *b as usize, &sort)
            .then_with(|| hits[*a as usize].id().cmp(&hits[*b as usize].id()))
    };
    if window.end < total {
        // Only the first `end` rows matter: partition, then sort that prefix.
        order.select_nth_unstable_by(window.end, cmp);
        order.truncate(window.end);
    }
    order.sort_unstable_by(cmp);
    Ok((
        order[window].iter().map(|i| hits[*i as usize]).collect(),
        total,
    ))
}

/// One pass over `rows`: test each record and, while it is in cache, copy its sort keys into
/// a contiguous arena, so the sort compares packed bytes instead of chasing records.
fn scan<'a, T: Searchable + 'a, R: Row<T>>(
    rows: &'a [R],
    groups: &[Vec<Compiled<'_>>],
    sort: &[(u16, bool)],
) -> (Vec<&'a T>, SortKeys) {
    let mut keys = SortKeys::new(sort.len());
    let mut hits: Vec<&T> = Vec::with_capacity(4096);
    for item in rows.iter().filter_map(Row::record) {
        if groups
            .iter()
            .all(|g| g.is_empty() || g.iter().any(|f| test(item, f)))
        {
            keys.push(item, sort);
            hits.push(item);
        }
    }
    (hits, keys)
}

/// One sort key of one row: an integer, SQL `NULL`, or lowercased text in the arena.
#[derive(Debug, Clone, Copy)]
enum Key {
    Null,
    Int(i64),
    Text(u32, u32),
}

/// Every hit's sort keys, row-major, with text lowercased into one buffer.
#[derive(Debug)]
struct SortKeys {
    keys: Vec<Key>,
    arena: Vec<u8>,
    width: usize,
}

impl SortKeys {
    fn new(width: usize) -> SortKeys {
        SortKeys {
            keys: Vec::with_capacity(4096 * width),
            arena: Vec::with_capacity(65_536 * width),
            width,
        }
    }

    fn push<T: Searchable>(&mut self, item: &T, sort: &[(u16, bool)]) {
        for &(field, _) in sort {
            let key = match item.value(field) {
                Val::Null => Key::Null,
                Val::Int(n) => Key::Int(n),
                Val::Text(s) => {
                    let start = self.arena.len();
                    self.arena.extend_from_slice(s.as_bytes());
                    self.arena[start..].make_ascii_lowercase();
                    Key::Text(start as u32, (self.arena.len() - start) as u32)
                }
            };
            self.keys.push(key);
        }
    }

    /// Appends another scan's keys after these.
    fn append(&mut self, other: SortKeys) {
        let shift = self.arena.len() as u32;
        self.arena.extend_from_slice(&other.arena);
        self.keys.extend(other.keys.into_iter().map(|k| match k {
            Key::Text(start, len) => Key::Text(start + shift, len),
            k => k,
        }));
    }

    fn compare(&self, a: usize, b: usize, sort: &[(u16, bool)]) -> Ordering {
        for (i, &(_, desc)) in sort.iter().enumerate() {
            let (x, y) = (self.keys[a * self.width + i], self.keys[b * self.width + i]);
            let o = match (x, y) {
                (Key::Null, Key::Null) => Ordering::Equal,
                (Key::Null, _) => Ordering::Less,
                (_, Key::Null) => Ordering::Greater,
                (Key::Int(p), Key::Int(q)) => p.cmp(&q),
                (Key::Text(s1, l1), Key::Text(s2, l2)) => self.arena
                    [s1 as usize..(s1 + l1) as usize]
                    .cmp(&self.arena[s2 as usize..(s2 + l2) as usize]),
                // Mixed kinds do not occur for one attribute; order them stably anyway.
                (Key::Int(_), Key::Text(..)) => Ordering::Less,
                (Key::Text(..), Key::Int(_)) => Ordering::Greater,
            };
            let o = if desc { o.reverse() } else { o };
            if o != Ordering::Equal {
                return o;
            }
        }
        Ordering::Equal
    }
}

fn test<T: Searchable>(item: &T, f: &Compiled<'_>) -> bool {
    let v = item.value(f.field);
    let eq = |raw: &str, num: f64| compare(&v, raw, num) == Ordering::Equal;
    match f.condition {
        Cond::Null => v == Val::Null,
        Cond::NotNull => v != Val::Null,
        _ if v == Val::Null => false,
        Cond::Eq => eq(f.raw, f.num),
        Cond::Neq => !eq(f.raw, f.num),
        Cond::Gt => compare(&v, f.raw, f.num) == Ordering::Greater,
        Cond::Lt => compare(&v, f.raw, f.num) == Ordering::Less,
        Cond::Gteq => compare(&v, f.raw, f.num) != Ordering::Less,
        Cond::Lteq => compare(&v, f.raw, f.num) != Ordering::Greater,
        Cond::Like => like(&text(&v), f.raw),
        Cond::Nlike => !like(&text(&v), f.raw),
        Cond::In => f.list.iter().any(|(raw, num)| eq(raw, *num)),
        Cond::Nin => !f.list.iter().any(|(raw, num)| eq(raw, *num)),
        Cond::Finset => text(&v).split(',').any(|x| x.eq_ignore_ascii_case(f.raw)),
        Cond::Nfinset => !text(&v).split(',').any(|x| x.eq_ignore_ascii_case(f.raw)),
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
fn compare(v: &Val<'_>, raw: &str, num: f64) -> Ordering {
    match v {
        Val::Int(n) => (*n as f64).partial_cmp(&num).unwrap_or(Ordering::Equal),
        Val::Text(s) => cmp_ci(s, raw),
        Val::Null => Ordering::Less,
    }
}

fn cmp_ci(a: &str, b: &str) -> Ordering {
    a.bytes()
        .map(|c| c.to_ascii_lowercase())
        .cmp(b.bytes().map(|c| c.to_ascii_lowercase()))
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

    struct Rec(u64, Option<&'static str>, i64);

    impl Searchable for Rec {
        fn id(&self) -> u64 {
            self.0
        }
        fn field(name: &str) -> Option<u16> {
            ["id", "name", "n"]
                .iter()
                .position(|f| *f == name)
                .map(|i| i as u16)
        }
        fn value(&self, field: u16) -> Val<'_> {
            match field {
                0 => Val::Int(self.0 as i64),
                1 => self.1.map_or(Val::Null, |s| Val::Text(s.into())),
                _ => Val::Int(self.2),
            }
        }
    }

    fn rows() -> Vec<Rec> {
        vec![
            Rec(1, Some("Alpha"), 10),
            Rec(2, Some("beta"), 5),
            Rec(3, None, 7),
            Rec(4, Some("ALPHABET"), 5),
        ]
    }

    fn ids(q: &str) -> Vec<u64> {
        let rows = rows();
        let c = parse(q, false).unwrap();
        let refs: Vec<&Rec> = rows.iter().collect();
        let (page, _) = search(&refs, &c).unwrap();
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
        let refs: Vec<&Rec> = rows.iter().collect();
        assert!(search(&refs, &c).is_err());
    }
}
