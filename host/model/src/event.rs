//! What started a run, as stored with it.

use serde::{Deserialize, Serialize};

/// A run's trigger event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Event {
    /// `mageflow run`, with its input JSON.
    Manual {
        /// The input.
        input: String,
    },
    /// A cron tick.
    Schedule {
        /// The tick's time, Unix seconds.
        at: u64,
    },
    /// A webhook delivery.
    Webhook {
        /// The event name.
        name: String,
        /// The body, as JSON text.
        body_json: String,
    },
    /// Customers the poller found changed.
    Poll {
        /// The customers, as read.
        customers: Vec<mageflow_magento::Customer>,
    },
}
