//! Streaming every match of a search, one page in memory at a time.
//!
//! Each page request carries an explicit `pageSize` of at most 300 (Magento's cap when input
//! limits are on; with them off, a search without `pageSize` returns everything at once) and a
//! stable sort ending in the entity id, so no record is skipped or repeated between pages.
//! The stream ends at `total_count`, at an empty page (2.4.x past the end), at a short page, or
//! when a page repeats the previous one (Magento before 2.4 answered the last page again for any
//! page past the end).

use std::collections::HashSet;
use std::marker::PhantomData;

use reqwest::Method;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::client::{MagentoClient, Repeat};
use crate::criteria::{Direction, SearchCriteria};
use crate::error::{Error, Result};

/// The largest page Magento accepts when input limits are on.
pub const MAX_PAGE_SIZE: u32 = 300;

/// A stream of records matching a search; call [`Pages::next_page`] until it returns `None`.
#[derive(Debug)]
pub struct Pages<'c, T> {
    client: &'c MagentoClient,
    path: String,
    id_field: &'static str,
    criteria: SearchCriteria,
    page: u32,
    seen: u64,
    total: Option<u64>,
    last_ids: HashSet<u64>,
    done: bool,
    item: PhantomData<T>,
}

impl<'c, T: DeserializeOwned> Pages<'c, T> {
    /// Pages through `path` (`/V1/customers/search`). `id_field` is the entity id attribute
    /// used as the final sort key (`entity_id` for customers).
    pub fn new(
        client: &'c MagentoClient,
        path: &str,
        id_field: &'static str,
        mut criteria: SearchCriteria,
    ) -> Self {
        let size = criteria
            .page_size
            .unwrap_or(MAX_PAGE_SIZE)
            .clamp(1, MAX_PAGE_SIZE);
        criteria.page_size = Some(size);
        let has_id_sort = criteria
            .sort
            .iter()
            .any(|(f, _)| f == id_field || f == "id");
        if !has_id_sort {
            criteria.sort.push((id_field.to_owned(), Direction::Asc));
        }
        let page = criteria.current_page.unwrap_or(1).max(1);
        Pages {
            client,
            path: path.to_owned(),
            id_field,
            criteria,
            page,
            seen: 0,
            total: None,
            last_ids: HashSet::new(),
            done: false,
            item: PhantomData,
        }
    }

    /// Matches across all pages, known after the first page.
    pub fn total(&self) -> Option<u64> {
        self.total
    }

    /// The next page of records, or `None` when every match has been read.
    pub async fn next_page(&mut self) -> Result<Option<Vec<T>>> {
        if self.done {
            return Ok(None);
        }
        let criteria = self.criteria.clone().current_page(self.page);
        let body = self
            .client
            .request(
                Method::GET,
                &self.path,
                &criteria.to_query(),
                None,
                Repeat::Safe,
            )
            .await?;
        let total = body.get("total_count").and_then(Value::as_u64).unwrap_or(0);
        self.total = Some(total);
        let items = match body.get("items") {
            Some(Value::Array(items)) => items,
            None | Some(Value::Null) => &Vec::new(),
            Some(_) => return Err(self.decode("items is not a list")),
        };
        let ids: HashSet<u64> = items
            .iter()
            .filter_map(|i| i.get("id").and_then(Value::as_u64))
            .collect();
        if items.is_empty() || (!self.last_ids.is_empty() && ids == self.last_ids) {
            // Past the end: empty (2.4.x) or the last page again (before 2.4).
            self.done = true;
            return Ok(None);
        }
        let size = u64::from(self.criteria.page_size.unwrap_or(MAX_PAGE_SIZE));
        self.seen += items.len() as u64;
        self.page += 1;
        self.done = self.seen >= total || (items.len() as u64) < size;
        self.last_ids = ids;
        let records = items
            .iter()
            .map(|i| {
                serde_json::from_value::<T>(i.clone())
                    .map_err(|e| self.decode(&format!("a record does not read: {e}")))
            })
            .collect::<Result<Vec<T>>>()?;
        Ok(Some(records))
    }

    /// Reads every remaining record into memory (for small results; prefer `next_page`).
    pub async fn collect(mut self) -> Result<Vec<T>> {
        let mut all = Vec::new();
        while let Some(page) = self.next_page().await? {
            all.extend(page);
        }
        Ok(all)
    }

    fn decode(&self, detail: &str) -> Error {
        Error::Decode {
            method: "GET".into(),
            path: format!("{} ({} sort)", self.path, self.id_field),
            detail: detail.to_owned(),
        }
    }
}
