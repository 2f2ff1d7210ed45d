//! Policy-gated calls: a workflow can name calls (`customers.delete`, `admin-users.create`, ...)
//! that need an approval granted earlier in the same run. The gate sits in front of the run's
//! gateway, so a plugin that skips its approval step cannot reach Magento with them.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use crate::gateway::{Call, Failure, Gateway, Pending};

/// A gateway that refuses gated calls until the run's approval is granted.
#[derive(Debug)]
pub(crate) struct Gate {
    pub(crate) inner: Arc<dyn Gateway>,
    pub(crate) gated: BTreeSet<String>,
    pub(crate) granted: Arc<AtomicBool>,
}

impl Gateway for Gate {
    fn call(&self, call: Call) -> Pending<'_> {
        let name = call.name();
        if self.gated.contains(name) && !self.granted.load(Ordering::SeqCst) {
            return Box::pin(std::future::ready(Err(Failure::Denied(format!(
                "{name} needs an approval granted earlier in this run: the workflow's policy gates it"
            )))));
        }
        self.inner.call(call)
    }
}
