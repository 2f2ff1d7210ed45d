//! Asynchronous and bulk web API: `POST /async/bulk/V1/customers`,
//! `PUT /async/bulk/V1/customers/byCustomerId` (and the single `/async/V1/...` forms) answer
//! 202 with a `bulk_uuid`; the `async.operations.all` consumer applies the operations in the
//! background; `/V1/bulk/{uuid}/status` and friends report them with status codes 1 to 5.
//!
//! Bulk saves run outside the `webapi_rest` area, so they are full saves: no PUT merge.

use std::borrow::Cow;

use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::auth::{Principal, allowed};
use crate::config::PutMode;
use crate::criteria::Criteria;
use crate::customers::{self, Ctx};
use crate::error::{MResult, MagentoError};
use crate::filter::{Searchable, Val, search};
use crate::input::type_error;
use crate::state::State;
use crate::time::format_ts;
use crate::webhooks::Event;

/// Operation status codes (`Magento\Framework\Bulk\OperationInterface`).
pub mod status {
    /// Applied.
    pub const COMPLETE: u8 = 1;
    /// Failed, may be retried.
    pub const RETRIABLY_FAILED: u8 = 2;
    /// Failed for good (validation).
    pub const NOT_RETRIABLY_FAILED: u8 = 3;
    /// Waiting for the consumer.
    pub const OPEN: u8 = 4;
    /// Refused when scheduled.
    pub const REJECTED: u8 = 5;
}

const TOPIC_CREATE: &str =
    "async.magento.customer.api.accountmanagementinterface.createaccount.post";
const TOPIC_SAVE: &str = "async.magento.customer.api.customerrepositoryinterface.save.put";

/// Which service a bulk request targets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// `AccountManagementInterface::createAccount`.
    Create,
    /// `CustomerRepositoryInterface::save`.
    Save,
}

/// One queued operation.
#[derive(Debug, Clone)]
pub struct Operation {
    /// Position in the bulk request (0-based), as `request_items[].id`.
    pub key: usize,
    /// Topic name.
    pub topic: &'static str,
    /// What Magento stores in `serialized_data`.
    pub serialized_data: String,
    /// The request item.
    pub body: Value,
    /// Status code.
    pub status: u8,
    /// Outcome text once processed.
    pub result_message: Option<String>,
    /// Error code once failed.
    pub error_code: Option<i64>,
    /// The saved entity once complete.
    pub result_serialized_data: Option<String>,
    /// Store view of the request.
    pub store_id: u32,
}

/// One bulk submission.
#[derive(Debug, Clone)]
pub struct Bulk {
    /// `bulk_uuid`.
    pub uuid: String,
    /// Who submitted it.
    pub who: Principal,
    /// `Topic <topic>`.
    pub description: String,
    /// Scheduled time.
    pub start_time: String,
    /// Its operations.
    pub operations: Vec<Operation>,
    /// Submission order, so the operation log lists bulks as they came.
    pub seq: u64,
}

fn uuid_v4() -> String {
    let b: [u8; 16] = rand::random();
    let h = |r: std::ops::Range<usize>| b[r].iter().map(|x| format!("{x:02x}")).collect::<String>();
    let version = format!("{:x}{}", 4, &h(6..8)[1..]);
    let variant = format!("{:x}{}", 8 | (b[8] >> 4 & 0x3), &h(8..10)[1..]);
    format!(
        "{}-{}-{}-{}-{}",
        h(0..4),
        h(4..6),
        version,
        variant,
        h(10..16)
    )
}

/// Schedules a bulk (or single async) request; the 202 body.
pub fn submit(
    state: &mut State,
    ctx: &Ctx,
    who: Principal,
    kind: Kind,
    body: &Value,
    is_bulk: bool,
) -> MResult<Value> {
    let items: Vec<Value> = if is_bulk {
        match body {
            Value::Array(list) => list.clone(),
            other => return Err(type_error(other, "array")),
        }
    } else {
        vec![body.clone()]
    };
    // Input-level checks fail the whole request before anything is scheduled.
    for item in &items {
        let obj = item.as_object().ok_or_else(|| type_error(item, "object"))?;
        let customer = obj
            .get("customer")
            .filter(|c| !c.is_null())
            .ok_or_else(|| MagentoError::required("customer"))?;
        let fields = crate::input::normalize(customer, customers::CUSTOMER_FIELDS)?;
        customers::check_input(&fields)?;
        // ValidateAsyncCustomer: setting a group on an async create needs Magento_Customer::manage.
        if kind == Kind::Create
            && fields.contains_key("group_id")
            && !allowed(state, who, "Magento_Customer::manage")
        {
            return Err(MagentoError::unauthorized("Magento_Customer::manage"));
        }
    }
    let topic = match kind {
        Kind::Create => TOPIC_CREATE,
        Kind::Save => TOPIC_SAVE,
    };
    let uuid = uuid_v4();
    let mut request_items = Vec::with_capacity(items.len());
    let mut operations = Vec::with_capacity(items.len());
    for (key, item) in items.into_iter().enumerate() {
        let serialized_data =
            json!({"entity_id": null, "entity_link": "", "meta_information": item.to_string()})
                .to_string();
        let data_hash = format!("{:x}", Sha256::digest(serialized_data.as_bytes()));
        request_items.push(json!({"id": key, "data_hash": data_hash, "status": "accepted"}));
        operations.push(Operation {
            key,
            topic,
            serialized_data,
            body: item,
            status: status::OPEN,
            result_message: None,
            error_code: None,
            result_serialized_data: None,
            store_id: ctx.store_id,
        });
        state.open_ops.push_back((uuid.clone(), key));
    }
    state.bulks.insert(
        uuid.clone(),
        Bulk {
            uuid: uuid.clone(),
            who,
            description: format!("Topic {topic}"),
            start_time: format_ts(ctx.now),
            operations,
            seq: state.bulks.len() as u64,
        },
    );
    Ok(json!({"bulk_uuid": uuid, "request_items": request_items, "errors": false}))
}

/// Runs the consumer over every open operation; returns the webhook events the saves raised.
pub fn consume(state: &mut State, now: i64) -> Vec<Event> {
    let mut events = Vec::new();
    while state.consumer_running {
        let Some((uuid, key)) = state.open_ops.pop_front() else {
            break;
        };
        let Some(op) = state
            .bulks
            .get(&uuid)
            .and_then(|b| b.operations.get(key))
            .cloned()
        else {
            continue;
        };
        let ctx = Ctx {
            now,
            store_id: op.store_id,
            via: "bulk",
        };
        let outcome = match op.topic {
            TOPIC_CREATE => customers::create(state, &ctx, &op.body)
                .map(|r| (r, "Magento\\Customer\\Model\\AccountManagement\\Interceptor::createAccount")),
            _ => save(state, &ctx, &op.body).map(|r| (r, "Magento\\Customer\\Model\\ResourceModel\\CustomerRepository\\Interceptor::save")),
        };
        let slot = &mut state
            .bulks
            .get_mut(&uuid)
            .expect("bulk exists while its operation is open")
            .operations[key];
        match outcome {
            Ok(((customer, evs), method)) => {
                slot.status = status::COMPLETE;
                slot.result_message = Some(format!("Service execution success {method}"));
                slot.result_serialized_data =
                    Some(serde_json::to_string(&customer).expect("customers serialise"));
                events.extend(evs);
            }
            Err(e) => {
                slot.status = status::NOT_RETRIABLY_FAILED;
                slot.result_message = Some(e.rendered());
                slot.error_code = Some(0);
            }
        }
    }
    events
}

/// A repository save from the consumer: with `customer.id` a full save of that customer,
/// without it a new customer (as `CustomerRepository::save` does).
fn save(
    state: &mut State,
    ctx: &Ctx,
    body: &Value,
) -> MResult<(crate::model::Customer, Vec<Event>)> {
    let id = body
        .get("customer")
        .and_then(|c| c.get("id"))
        .map(crate::input::parse_int)
        .transpose()?;
    match id {
        Some(id) => customers::update(state, ctx, id as u64, body, PutMode::Replace),
        None => customers::create(state, ctx, body),
    }
}

fn find<'a>(state: &'a State, uuid: &str) -> MResult<&'a Bulk> {
    state.bulks.get(uuid).ok_or_else(|| {
        MagentoError::new(
            axum::http::StatusCode::NOT_FOUND,
            "Bulk uuid %bulkUuid not exist",
        )
        .with(json!({ "bulkUuid": uuid }))
    })
}

fn summary(b: &Bulk, operations: &[Value]) -> Value {
    json!({
        "operations_list": operations,
        "user_type": b.who.user_type(),
        "bulk_id": b.uuid,
        "description": b.description,
        "start_time": b.start_time,
        "user_id": b.who.user_id(),
        "operation_count": b.operations.len(),
    })
}

fn put_outcome(m: &mut serde_json::Map<String, Value>, op: &Operation) {
    m.insert("status".into(), json!(op.status));
    if let Some(r) = &op.result_message {
        m.insert("result_message".into(), json!(r));
    }
    if let Some(c) = op.error_code {
        m.insert("error_code".into(), json!(c));
    }
}

/// `GET /V1/bulk/{uuid}/status`.
pub fn short_status(state: &State, uuid: &str) -> MResult<Value> {
    let b = find(state, uuid)?;
    let ops: Vec<Value> = b
        .operations
        .iter()
        .map(|op| {
            let mut m = serde_json::Map::new();
            m.insert("id".into(), json!(op.key));
            put_outcome(&mut m, op);
            Value::Object(m)
        })
        .collect();
    Ok(summary(b, &ops))
}

/// `GET /V1/bulk/{uuid}/detailed-status`.
pub fn detailed_status(state: &State, uuid: &str) -> MResult<Value> {
    let b = find(state, uuid)?;
    let ops: Vec<Value> = b
        .operations
        .iter()
        .map(|op| {
            let mut m = serde_json::Map::new();
            m.insert("id".into(), json!(op.key));
            m.insert("bulk_uuid".into(), json!(b.uuid));
            m.insert("topic_name".into(), json!(op.topic));
            m.insert("serialized_data".into(), json!(op.serialized_data));
            if let Some(r) = &op.result_serialized_data {
                m.insert("result_serialized_data".into(), json!(r));
            }
            put_outcome(&mut m, op);
            Value::Object(m)
        })
        .collect();
    Ok(summary(b, &ops))
}

/// `GET /V1/bulk/{uuid}/operation-status/{status}`: a bare integer.
pub fn count_with_status(state: &State, uuid: &str, wanted: u8) -> MResult<Value> {
    let b = find(state, uuid)?;
    Ok(json!(
        b.operations.iter().filter(|op| op.status == wanted).count()
    ))
}

/// One row of Magento's operation log, as `GET /V1/bulk?searchCriteria` lists it
/// (`OperationRepositoryInterface::getList`).
#[derive(Debug, serde::Serialize)]
struct LoggedOperation<'a> {
    id: u64,
    bulk_uuid: &'a str,
    topic_name: &'a str,
    serialized_data: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    result_serialized_data: Option<&'a str>,
    status: u8,
    #[serde(skip_serializing_if = "Option::is_none")]
    result_message: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error_code: Option<i64>,
    extension_attributes: Value,
    #[serde(skip)]
    start_time: &'a str,
}

const LOG_FIELDS: &[&str] = &["id", "bulk_uuid", "topic_name", "status", "start_time"];

impl Searchable for LoggedOperation<'_> {
    fn id(&self) -> u64 {
        self.id
    }

    fn field(name: &str) -> Option<u16> {
        LOG_FIELDS.iter().position(|f| *f == name).map(|i| i as u16)
    }

    fn value(&self, field: u16) -> Val<'_> {
        let text = |s: &str| Val::Text(Cow::Owned(s.to_owned()));
        match field {
            0 => Val::Int(self.id as i64),
            1 => text(self.bulk_uuid),
            2 => text(self.topic_name),
            3 => Val::Int(self.status.into()),
            4 => text(self.start_time),
            _ => Val::Null,
        }
    }
}

/// `GET /V1/bulk?searchCriteria...`: every logged operation of every bulk, filterable on
/// `bulk_uuid`, `topic_name`, `status` and `start_time`.
pub fn search_log(state: &State, criteria: &Criteria) -> MResult<Value> {
    let mut bulks: Vec<&Bulk> = state.bulks.values().collect();
    bulks.sort_by_key(|b| b.seq);
    let mut rows = Vec::new();
    for b in bulks {
        for op in &b.operations {
            rows.push(LoggedOperation {
                id: rows.len() as u64 + 1,
                bulk_uuid: &b.uuid,
                topic_name: op.topic,
                serialized_data: &op.serialized_data,
                result_serialized_data: op.result_serialized_data.as_deref(),
                status: op.status,
                result_message: op.result_message.as_deref(),
                error_code: op.error_code,
                extension_attributes: json!({ "start_time": b.start_time }),
                start_time: &b.start_time,
            });
        }
    }
    let refs: Vec<&LoggedOperation<'_>> = rows.iter().collect();
    let (items, total_count) = search(&refs, criteria)?;
    Ok(json!({
        "items": items,
        "search_criteria": criteria.echo(),
        "total_count": total_count,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uuids_are_version_4() {
        let u = uuid_v4();
        assert_eq!(u.len(), 36);
        assert_eq!(&u[14..15], "4");
        assert!(matches!(&u[19..20], "8" | "9" | "a" | "b"));
    }
}
