//! The filter grammar of RFC 7644 §3.4.2.2 and its evaluation on a JSON resource.
//!
//! Precedence is `not`, then `and`, then `or`; parentheses group; `attr[filter]` tests the
//! elements of a multi-valued attribute. Attribute names and operators are case-insensitive;
//! string comparisons are too, except for the attributes the schema marks `caseExact`.

use serde_json::{Map, Value};

use crate::error::{ScimError, ScimType};
use crate::path::{self, AttrPath};
use crate::schema::Schema;

/// A comparison operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    /// equal
    Eq,
    /// not equal
    Ne,
    /// contains
    Co,
    /// starts with
    Sw,
    /// ends with
    Ew,
    /// greater than
    Gt,
    /// greater than or equal
    Ge,
    /// less than
    Lt,
    /// less than or equal
    Le,
}

impl Op {
    fn parse(word: &str) -> Option<Op> {
        Some(match word.to_ascii_lowercase().as_str() {
            "eq" => Op::Eq,
            "ne" => Op::Ne,
            "co" => Op::Co,
            "sw" => Op::Sw,
            "ew" => Op::Ew,
            "gt" => Op::Gt,
            "ge" => Op::Ge,
            "lt" => Op::Lt,
            "le" => Op::Le,
            _ => return None,
        })
    }
}

/// A parsed filter.
#[derive(Debug, Clone, PartialEq)]
pub enum Filter {
    /// `attrPath op value`.
    Compare(AttrPath, Op, Value),
    /// `attrPath pr`.
    Present(AttrPath),
    /// `a and b`.
    And(Box<Filter>, Box<Filter>),
    /// `a or b`.
    Or(Box<Filter>, Box<Filter>),
    /// `not (a)`.
    Not(Box<Filter>),
    /// `attr[filter]`: some element of a multi-valued attribute matches the inner filter.
    Elements(AttrPath, Box<Filter>),
}

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Word(String),
    Literal(Value),
    Open,
    Close,
    OpenBracket,
    CloseBracket,
}

fn invalid(detail: String) -> ScimError {
    ScimError::bad(ScimType::InvalidFilter, detail)
}

fn tokens(text: &str) -> Result<Vec<Token>, ScimError> {
    let mut out = Vec::new();
    let chars: Vec<char> = text.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        match c {
            ' ' | '\t' | '\n' | '\r' => i += 1,
            '(' => (out.push(Token::Open), i += 1).1,
            ')' => (out.push(Token::Close), i += 1).1,
            '[' => (out.push(Token::OpenBracket), i += 1).1,
            ']' => (out.push(Token::CloseBracket), i += 1).1,
            '"' => {
                let start = i;
                i += 1;
                while i < chars.len() && chars[i] != '"' {
                    i += if chars[i] == '\\' { 2 } else { 1 };
                }
                if i >= chars.len() {
                    return Err(invalid(format!(
                        "the string that starts at character {} is never closed with \"",
                        start + 1
                    )));
                }
                let quoted: String = chars[start..=i].iter().collect();
                let v: Value = serde_json::from_str(&quoted)
                    .map_err(|e| invalid(format!("the string {quoted} is not valid: {e}")))?;
                out.push(Token::Literal(v));
                i += 1;
            }
            _ => {
                let start = i;
                while i < chars.len() && !matches!(chars[i], ' ' | '(' | ')' | '[' | ']' | '"') {
                    i += 1;
                }
                let word: String = chars[start..i].iter().collect();
                out.push(Token::Word(word));
            }
        }
    }
    Ok(out)
}

struct Parser {
    tokens: Vec<Token>,
    at: usize,
}

impl Parser {
    fn peek_word(&self, word: &str) -> bool {
        matches!(self.tokens.get(self.at), Some(Token::Word(w)) if w.eq_ignore_ascii_case(word))
    }

    fn next(&mut self) -> Option<Token> {
        let t = self.tokens.get(self.at).cloned();
        self.at += 1;
        t
    }

    fn or(&mut self) -> Result<Filter, ScimError> {
        let mut left = self.and()?;
        while self.peek_word("or") {
            self.at += 1;
            left = Filter::Or(Box::new(left), Box::new(self.and()?));
        }
        Ok(left)
    }

    fn and(&mut self) -> Result<Filter, ScimError> {
        let mut left = self.unary()?;
        while self.peek_word("and") {
            self.at += 1;
            left = Filter::And(Box::new(left), Box::new(self.unary()?));
        }
        Ok(left)
    }

    fn unary(&mut self) -> Result<Filter, ScimError> {
        match self.next() {
            Some(Token::Word(w)) if w.eq_ignore_ascii_case("not") => {
                if self.next() != Some(Token::Open) {
                    return Err(invalid(
                        "\"not\" must be followed by a filter in ( )".into(),
                    ));
                }
                let inner = self.or()?;
                self.close(&Token::Close, ")")?;
                Ok(Filter::Not(Box::new(inner)))
            }
            Some(Token::Open) => {
                let inner = self.or()?;
                self.close(&Token::Close, ")")?;
                Ok(inner)
            }
            Some(Token::Word(w)) => self.attr_expression(&w),
            Some(t) => Err(invalid(format!(
                "expected an attribute name, found {}",
                describe(&t)
            ))),
            None => Err(invalid(
                "the filter ends where an attribute name was expected".into(),
            )),
        }
    }

    fn close(&mut self, want: &Token, text: &str) -> Result<(), ScimError> {
        match self.next() {
            Some(t) if &t == want => Ok(()),
            Some(t) => Err(invalid(format!("expected {text}, found {}", describe(&t)))),
            None => Err(invalid(format!(
                "the filter ends where {text} was expected"
            ))),
        }
    }

    fn attr_expression(&mut self, word: &str) -> Result<Filter, ScimError> {
        let attr = AttrPath::parse(word)
            .map_err(|_| invalid(format!("{word:?} is not an attribute name")))?;
        if self.tokens.get(self.at) == Some(&Token::OpenBracket) {
            self.at += 1;
            let inner = self.or()?;
            self.close(&Token::CloseBracket, "]")?;
            return Ok(Filter::Elements(attr, Box::new(inner)));
        }
        let op = match self.next() {
            Some(Token::Word(w)) if w.eq_ignore_ascii_case("pr") => return Ok(Filter::Present(attr)),
            Some(Token::Word(w)) => Op::parse(&w).ok_or_else(|| {
                invalid(format!(
                    "{w:?} after {word} is not an operator: use eq, ne, co, sw, ew, gt, ge, lt, le or pr"
                ))
            })?,
            Some(t) => {
                return Err(invalid(format!(
                    "expected an operator after {word}, found {}",
                    describe(&t)
                )));
            }
            None => return Err(invalid(format!("{word} has no operator"))),
        };
        let value = match self.next() {
            Some(Token::Literal(v)) => v,
            Some(Token::Word(w)) => literal(&w).ok_or_else(|| {
                invalid(format!(
                    "{w} is not a value: strings are quoted (\"{w}\"), or use true, false, null or a number"
                ))
            })?,
            Some(t) => {
                return Err(invalid(format!(
                    "expected a value after {word}, found {}",
                    describe(&t)
                )));
            }
            None => return Err(invalid(format!("{word} has an operator but no value"))),
        };
        Ok(Filter::Compare(attr, op, value))
    }
}

fn literal(word: &str) -> Option<Value> {
    match word.to_ascii_lowercase().as_str() {
        "true" => Some(Value::Bool(true)),
        "false" => Some(Value::Bool(false)),
        "null" => Some(Value::Null),
        _ => serde_json::from_str::<serde_json::Number>(word)
            .ok()
            .map(Value::Number),
    }
}

fn describe(t: &Token) -> String {
    match t {
        Token::Word(w) => format!("{w:?}"),
        Token::Literal(v) => v.to_string(),
        Token::Open => "(".into(),
        Token::Close => ")".into(),
        Token::OpenBracket => "[".into(),
        Token::CloseBracket => "]".into(),
    }
}

impl Filter {
    /// Reads a filter; what does not parse is a 400 `invalidFilter` saying where.
    pub fn parse(text: &str) -> Result<Filter, ScimError> {
        let mut p = Parser {
            tokens: tokens(text)?,
            at: 0,
        };
        if p.tokens.is_empty() {
            return Err(invalid("the filter is empty".into()));
        }
        let f = p.or()?;
        if let Some(t) = p.tokens.get(p.at) {
            return Err(invalid(format!(
                "unexpected {} after a complete filter (join filters with and / or)",
                describe(t)
            )));
        }
        Ok(f)
    }

    /// Whether a resource matches.
    pub fn matches(&self, doc: &Map<String, Value>, schema: &Schema) -> bool {
        self.test(doc, schema, None)
    }

    /// `within`: the multi-valued attribute whose elements are being tested.
    fn test(&self, doc: &Map<String, Value>, schema: &Schema, within: Option<&str>) -> bool {
        match self {
            Filter::And(a, b) => a.test(doc, schema, within) && b.test(doc, schema, within),
            Filter::Or(a, b) => a.test(doc, schema, within) || b.test(doc, schema, within),
            Filter::Not(a) => !a.test(doc, schema, within),
            Filter::Present(p) => resolve(doc, p, schema).iter().any(|v| {
                !matches!(v, Value::Null)
                    && v != &&Value::Array(Vec::new())
                    && v != &&Value::String(String::new())
            }),
            Filter::Elements(p, inner) => {
                let items =
                    path::container(doc, p, schema.core).and_then(|c| path::get_ci(c, &p.attr));
                let items: Vec<&Value> = match items {
                    Some(Value::Array(a)) => a.iter().collect(),
                    Some(v @ Value::Object(_)) => vec![v],
                    _ => Vec::new(),
                };
                items
                    .into_iter()
                    .filter_map(Value::as_object)
                    .any(|e| inner.test(e, schema, Some(&p.attr)))
            }
            Filter::Compare(p, op, want) => {
                let exact = schema.case_exact(within, p);
                let got = resolve(doc, p, schema);
                if matches!(want, Value::Null) {
                    let absent = got.iter().all(|v| v.is_null());
                    return match op {
                        Op::Eq => absent,
                        Op::Ne => !absent,
                        _ => false,
                    };
                }
                if *op == Op::Ne {
                    return !got.iter().any(|v| compare(v, Op::Eq, want, exact));
                }
                got.iter().any(|v| compare(v, *op, want, exact))
            }
        }
    }
}

/// The values a path names; a complex multi-valued attribute named without a sub-attribute
/// is compared by its elements' `value` (RFC 7644 §3.4.2.2).
fn resolve<'a>(doc: &'a Map<String, Value>, p: &AttrPath, schema: &Schema) -> Vec<&'a Value> {
    let got = path::values(doc, p, schema.core);
    let multi = path::container(doc, p, schema.core)
        .and_then(|c| path::get_ci(c, &p.attr))
        .is_some_and(Value::is_array);
    if p.sub.is_none() && multi {
        return got
            .into_iter()
            .filter_map(|v| v.as_object().and_then(|o| path::get_ci(o, "value")))
            .collect();
    }
    got
}

fn compare(got: &Value, op: Op, want: &Value, exact: bool) -> bool {
    match (got, want) {
        (Value::String(g), Value::String(w)) => {
            let (g, w) = if exact {
                (g.clone(), w.clone())
            } else {
                (g.to_lowercase(), w.to_lowercase())
            };
            match op {
                Op::Eq => g == w,
                Op::Ne => g != w,
                Op::Co => g.contains(&w),
                Op::Sw => g.starts_with(&w),
                Op::Ew => g.ends_with(&w),
                Op::Gt => g > w,
                Op::Ge => g >= w,
                Op::Lt => g < w,
                Op::Le => g <= w,
            }
        }
        (Value::Number(g), Value::Number(w)) => {
            let (g, w) = (
                g.as_f64().unwrap_or(f64::NAN),
                w.as_f64().unwrap_or(f64::NAN),
            );
            match op {
                Op::Eq => g == w,
                Op::Ne => g != w,
                Op::Gt => g > w,
                Op::Ge => g >= w,
                Op::Lt => g < w,
                Op::Le => g <= w,
                Op::Co | Op::Sw | Op::Ew => false,
            }
        }
        (Value::Bool(g), Value::Bool(w)) => match op {
            Op::Eq => g == w,
            Op::Ne => g != w,
            _ => false,
        },
        // A boolean kept as a string by an older client, compared with a boolean.
        (Value::String(g), Value::Bool(w)) => match op {
            Op::Eq => g.eq_ignore_ascii_case(&w.to_string()),
            Op::Ne => !g.eq_ignore_ascii_case(&w.to_string()),
            _ => false,
        },
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn user() -> Map<String, Value> {
        json!({
            "schemas": [crate::USER],
            "id": "2819c223",
            "externalId": "Bjensen-EXT",
            "userName": "bjensen@example.com",
            "name": {"givenName": "Barbara", "familyName": "Jensen"},
            "active": true,
            "emails": [
                {"value": "bjensen@example.com", "type": "work", "primary": true},
                {"value": "babs@jensen.org", "type": "home"}
            ],
            "meta": {"lastModified": "2026-11-30T10:00:00Z"},
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"department": "Tour Operations"}
        })
        .as_object()
        .unwrap()
        .clone()
    }

    fn hit(text: &str) -> bool {
        Filter::parse(text)
            .unwrap()
            .matches(&user(), &Schema::user())
    }

    #[test]
    fn names_operators_and_strings_are_case_insensitive_but_case_exact_attributes_are_not() {
        assert!(hit(r#"userName eq "BJENSEN@example.com""#));
        assert!(hit(r#"USERNAME EQ "bjensen@example.com""#));
        assert!(hit(r#"externalId eq "Bjensen-EXT""#));
        assert!(!hit(r#"externalId eq "bjensen-ext""#));
        assert!(hit(r#"name.givenName sw "barb""#));
        assert!(hit(
            r#"urn:ietf:params:scim:schemas:core:2.0:User:userName ew ".COM""#
        ));
        assert!(hit(
            r#"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department co "tour""#
        ));
    }

    #[test]
    fn logic_grouping_value_paths_and_presence() {
        assert!(hit(
            r#"userName eq "x" or active eq true and name.familyName eq "Jensen""#
        ));
        assert!(!hit(
            r#"(userName eq "x" or active eq true) and name.familyName eq "Smith""#
        ));
        assert!(hit(r#"not (userName eq "x")"#));
        assert!(hit(r#"emails[type eq "work" and value co "@example.com"]"#));
        assert!(!hit(r#"emails[type eq "work" and value co "@jensen.org"]"#));
        assert!(hit(r#"emails co "jensen.org""#));
        assert!(hit(r#"emails.type eq "home""#));
        assert!(!hit("title pr") && hit("name pr"));
        assert!(hit(r#"meta.lastModified gt "2026-01-01T00:00:00Z""#));
        assert!(hit("active eq True") && !hit("active ne true"));
        assert!(hit("title eq null") && !hit("userName eq null"));
        assert!(hit(r#"title ne "x""#));
    }

    #[test]
    fn a_filter_that_does_not_parse_says_where() {
        for (text, says) in [
            ("", "empty"),
            ("userName", "no operator"),
            ("userName eq", "no value"),
            (r#"userName eq "x"#, "never closed"),
            (r#"userName equals "x""#, "not an operator"),
            (r#"userName eq x"#, "strings are quoted"),
            (r#"userName eq "x" "y""#, "after a complete filter"),
            (r#"(userName eq "x""#, ") was expected"),
            (r#"emails[type eq "work""#, "] was expected"),
            (r#"not userName eq "x""#, "followed by a filter"),
        ] {
            let e = Filter::parse(text).unwrap_err();
            assert_eq!(e.scim_type, Some(ScimType::InvalidFilter), "{text}");
            assert!(e.detail.contains(says), "{text}: {}", e.detail);
        }
    }
}
