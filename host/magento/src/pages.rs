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
use serde::Deserialize;
use serde::de::DeserializeOwned;

use crate::client::{MagentoClient, Repeat};
use crate::criteria::{Direction, SearchCriteria};
use crate::error::Result;
use crate::types::Record;

/// A search answer decoded straight into records.
#[derive(Deserialize)]
struct RawPage<T> {
    #[serde(default = "Vec::new")]
    items: Vec<T>,
    #[serde(default)]
    total_count: u64,
}

/// The largest page Magento accepts when input limits are on.
pub const MAX_PAGE_SIZE: u32 = 300;

/// A stream of records matching a search; call [`Pages::next_page`] until it returns `None`.
#[derive(Debug)]
pub struct Pages<'c, T> {
    client: &'c MagentoClient,
    path: String,
    criteria: SearchCriteria,
    page: u32,
    seen: u64,
    total: Option<u64>,
    last_ids: HashSet<u64>,
    done: bool,
    item: PhantomData<T>,
}

impl<'c, T: DeserializeOwned + Record> Pages<'c, T> {
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
        let page: RawPage<T> = self
            .client
            .call(
                Method::GET,
                &self.path,
                &criteria.to_query(),
                None,
                Repeat::Safe,
            )
            .await?;
        self.total = Some(page.total_count);
        let ids: HashSet<u64> = page.items.iter().map(Record::record_id).collect();
        if page.items.is_empty() || (!self.last_ids.is_empty() && ids == self.last_ids) {
            // Past the end: empty (2.4.x) or the last page again (before 2.4).
            self.done = true;
            return Ok(None);
        }
        let size = u64::from(self.criteria.page_size.unwrap_or(MAX_PAGE_SIZE));
        let n = page.items.len() as u64;
        self.seen += n;
        self.page += 1;
        self.done = self.seen >= page.total_count || n < size;
        self.last_ids = ids;
        Ok(Some(page.items))
    }

    /// Reads every remaining record into memory (for small results; prefer `next_page`).
    pub async fn collect(mut self) -> Result<Vec<T>> {
        let mut all = Vec::new();
        while let Some(page) = self.next_page().await? {
            all.extend(page);
        }
        Ok(all)
    }
}
