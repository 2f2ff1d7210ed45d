//! A stored trigger event as the plugin receives it.

use mageflow_model::Event;
use mageflow_runtime::{Trigger, WebhookEvent, poll_trigger};

/// The trigger handed to the plugin for `event`.
pub(crate) fn plugin_trigger(event: &Event) -> Trigger {
    match event {
        Event::Manual { input } => Trigger::Manual(input.clone()),
        Event::Schedule { at } => Trigger::Schedule(*at),
        Event::Webhook { name, body_json } => Trigger::Webhook(WebhookEvent {
            name: name.clone(),
            body_json: body_json.clone(),
        }),
        Event::Poll { customers } => poll_trigger(customers.clone()),
    }
}
