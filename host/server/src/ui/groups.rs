//! Customer group names for the pages: a plan or a write that moves `group_id` 1 -> 3 reads
//! "1 (General) -> 3 (Wholesale)". Names come from the workflow's Magento connection
//! (`/V1/customerGroups/search`) and are kept five minutes; when Magento does not answer in
//! two seconds the ids are shown alone.

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;
use std::time::Duration;

use serde_json::Value;

use crate::api::Api;

const KEEP_SECS: u64 = 300;

/// Group names by id, with when they were read.
type Read = (u64, BTreeMap<u64, String>);

/// Group names, per workflow.
#[derive(Debug, Default)]
pub(crate) struct GroupNames(Mutex<HashMap<String, Read>>);

/// The names of `workflow`'s Magento customer groups, by id (empty when unknown).
pub(super) async fn names(api: &Api, workflow: &str) -> BTreeMap<u64, String> {
    let now = mageflow_model::now_secs();
    if let Some((at, names)) = api.group_names.0.lock().unwrap().get(workflow)
        && now < at + KEEP_SECS
    {
        return names.clone();
    }
    let Ok(loaded) = api.engine().workflow(workflow) else {
        return BTreeMap::new();
    };
    let read = tokio::time::timeout(Duration::from_secs(2), loaded.client.customer_groups()).await;
    let names: BTreeMap<u64, String> = match read {
        Ok(Ok(groups)) => groups
            .into_iter()
            .map(|g| (u64::from(g.id), g.code))
            .collect(),
        _ => return BTreeMap::new(),
    };
    api.group_names
        .0
        .lock()
        .unwrap()
        .insert(workflow.to_owned(), (now, names.clone()));
    names
}

/// A field's value as shown: a group id with its name.
pub(super) fn shown(field: &str, value: &Value, names: &BTreeMap<u64, String>) -> String {
    let id = match value {
        Value::Number(n) => n.as_u64(),
        Value::String(s) => s.parse().ok(),
        _ => None,
    };
    match (field, id.and_then(|i| names.get(&i))) {
        ("group_id", Some(name)) => format!("{value} ({name})"),
        _ => value.to_string(),
    }
}
